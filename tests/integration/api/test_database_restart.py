"""The API across a PostgreSQL restart: no request fails once the server is back.

Pooled connections are not pinged on every checkout (that would cost a round trip per request);
a connection the server closed is noticed when it leaves the pool and replaced. While the server is
down, requests answer 503 ServiceUnavailableError, and the first request after it is back succeeds.
The server restarted here is a cluster of the test's own, so no other test loses its connections.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from catalog_sync.cli import build_app
from catalog_sync.config import parse_settings
from catalog_sync.store.engine import open_engine
from catalog_sync.store.migrate import upgrade
from tests.fixtures.postgres import PostgresCluster, create_database, start_cluster
from tests.unit.store.helpers import entity_body, insert_entity

pytestmark = pytest.mark.postgres

BY_NAME = "/api/catalog/entities/by-name/component/default/web-shop"
BY_QUERY = "/api/catalog/entities/by-query?filter=spec.owner=web&limit=5"


@pytest.fixture(scope="module")
def own_cluster(postgres_cluster: PostgresCluster) -> Iterator[PostgresCluster]:
    """A cluster for this module alone, since its tests stop and restart the server."""
    cluster = start_cluster(postgres_cluster.bin_dir)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def client(own_cluster: PostgresCluster) -> Iterator[FlaskClient]:
    """The API over a small catalog on ``own_cluster``, with a few connections already pooled."""
    engine = open_engine(create_database(own_cluster, template=None))
    upgrade(engine)
    insert_entity(engine, entity_body("Component", "web-shop", spec={"type": "website", "owner": "web"}))
    client = build_app(parse_settings({}), engine).test_client()
    for url in (BY_NAME, BY_QUERY, "/readyz"):
        assert client.get(url).status_code == 200
    yield client
    engine.dispose()


def _pg_ctl(cluster: PostgresCluster, action: str, *options: str) -> None:
    command = [
        str(cluster.bin_dir / "pg_ctl"),
        action,
        "-D",
        str(cluster.data_dir),
        "-m",
        "fast",
        "-w",
        "-t",
        "60",
        "-l",
        str(cluster.root / "server.log"),
        *options,
    ]
    if cluster.run_as:
        command = ["runuser", "-u", cluster.run_as, "--", *command]
    subprocess.run(command, check=True, capture_output=True, text=True, timeout=120, cwd=cluster.root)
    cluster.admin().dispose()  # the fixture's own admin engine would otherwise keep a dead connection


def test_after_a_restart_the_next_requests_succeed(client: FlaskClient, own_cluster: PostgresCluster) -> None:
    _pg_ctl(own_cluster, "restart")
    for url in (BY_NAME, BY_QUERY, BY_NAME, "/readyz"):
        response = client.get(url)
        assert response.status_code == 200, response.get_data(as_text=True)
    assert client.get(BY_QUERY).get_json()["totalItems"] == 1


def test_while_the_server_is_down_requests_answer_503_and_recover_when_it_is_back(
    client: FlaskClient, own_cluster: PostgresCluster
) -> None:
    _pg_ctl(own_cluster, "stop")
    try:
        response = client.get(BY_NAME)
        assert response.status_code == 503
        assert response.get_json()["error"]["name"] == "ServiceUnavailableError"
        assert client.get("/readyz").status_code == 503
    finally:
        # pg_ctl start, unlike restart, does not reuse the options of the last start.
        address = (
            f"-p {own_cluster.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={own_cluster.root}"
        )
        _pg_ctl(own_cluster, "start", "-o", address)
    assert client.get(BY_NAME).status_code == 200
    assert client.get("/readyz").status_code == 200
