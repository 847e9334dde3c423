"""Remote and registered repositories through the sync engine, and the transports it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog_sync.errors import ConfigError, ProtocolNotAllowedError
from catalog_sync.sources.git import GitRepository
from catalog_sync.store.admin_store import SqlAdministration
from catalog_sync.store.base import Database
from catalog_sync.sync import SyncEngine
from tests.fixtures.gitrepos import new_remote
from tests.fixtures.smarthttp import smart_http
from tests.fixtures.syncstore import sync_store
from tests.integration.conftest import Catalog, product_yaml

ALLOWED = ["https", "ssh", "file"]


def test_git_source_clones_once_and_fetches_only_when_the_tip_moves(catalog: Catalog, tmp_path: Path) -> None:
    remote = new_remote(tmp_path / "remotes", "pay")
    remote.publish({"catalog-info.yaml": product_yaml("pay")})
    catalog.config = {
        "sources": [{"name": "pay", "type": "git", "url": remote.url}],
        "sync": {"allowed_protocols": ALLOWED},
    }
    engine = SyncEngine(catalog.settings, sync_store(catalog.engine), clock=catalog.clock)
    assert engine.run_pass().added == 1
    source = engine.build_sources()[0]
    repository = source.discover()[0]  # type: ignore[union-attr]
    assert isinstance(repository, GitRepository)
    fetches = repository.fetches
    assert engine.run_pass().unchanged == 1
    assert repository.fetches == fetches
    remote.publish({"catalog-info.yaml": product_yaml("pay", lifecycle="deprecated")})
    assert engine.run_pass().updated == 1
    assert repository.fetches == fetches + 1
    assert catalog.entity("product:default/pay")["body"]["spec"]["lifecycle"] == "deprecated"  # type: ignore[index]


def test_ext_transport_is_refused_before_git_runs(catalog: Catalog, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    catalog.repo("pay", {"catalog-info.yaml": product_yaml("pay")})
    catalog.config["sources"].append({"name": "evil", "type": "git", "url": f"ext::sh -c touch% {marker}"})
    summary = catalog.sync()
    assert not marker.exists()
    evil = next(s for s in summary.sources if s["name"] == "evil")
    assert "ext" in evil["error"]
    assert catalog.entity("product:default/pay") is not None  # the other source is unaffected


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://robot:s3cr3t-token@127.0.0.1:9/acme/pay.git", "a password"),
        ("https://robot:S3C'R <ET@127.0.0.1:9/acme/pay.git", "a password"),
        ("https://127.0.0.1:9/acme/pay.git?pass=s3cr3t-token", "query parameter 'pass'"),
        ("https://ghp_s3cr3tTokenValue0123456789@127.0.0.1:9/acme/pay.git", "a token as its user name"),
    ],
)
def test_a_configured_url_with_credentials_is_refused_at_start_naming_its_key(
    catalog: Catalog, url: str, kind: str
) -> None:
    catalog.config = {
        "sources": [{"name": "private", "type": "git", "url": url}],
        "sync": {"allowed_protocols": ALLOWED},
    }
    with pytest.raises(ConfigError) as refused:
        catalog.settings  # noqa: B018 - loading the settings is what refuses
    assert refused.value.key == "sources.0.url"
    assert kind in refused.value.message
    assert "credential helper" in refused.value.message
    assert "s3cr3t" not in str(refused.value)
    assert "ghp_" not in str(refused.value)


LOOPBACK = {"allowed_protocols": ALLOWED, "allowed_private_networks": ["127.0.0.1/32"]}


def test_registered_repository_is_read_on_the_next_pass(catalog: Catalog) -> None:
    catalog.config = {"sources": [], "sync": LOOPBACK}
    registration = SqlAdministration(Database(catalog.engine)).register_repository(
        "https://127.0.0.1:9/acme/cart.git",
        "main",
        allowed_protocols=tuple(ALLOWED),
        now=catalog.clock(),
        private_networks=("127.0.0.1/32",),
    )
    summary = catalog.sync()
    assert (summary.repositories, summary.errors) == (1, 1)
    repository = catalog.repository("cart")
    assert (repository["id"], repository["state"]) == (registration.id, "failing")
    message = catalog.problems("fetch")[0]["message"]
    assert "127.0.0.1:9" in message
    assert "could not connect to the host" in message  # what git's error means, not its own text


def test_a_registered_url_this_configuration_refuses_is_a_failure_of_that_repository(
    catalog: Catalog,
) -> None:
    catalog.config = {"sources": [], "sync": LOOPBACK}
    SqlAdministration(Database(catalog.engine)).register_repository(
        "https://127.0.0.1:9/acme/cart.git",
        None,
        allowed_protocols=tuple(ALLOWED),
        now=catalog.clock(),
        private_networks=("127.0.0.1/32",),
    )
    catalog.config = {"sources": [], "sync": {"allowed_protocols": ["ssh"]}}
    summary = catalog.sync()
    assert (summary.repositories, summary.errors) == (1, 1)
    assert catalog.repository("cart")["state"] == "failing"
    assert "not in sync.allowed_protocols" in catalog.problems("fetch")[0]["message"]


def test_registering_a_local_path_is_refused_even_when_file_is_allowed(
    catalog: Catalog, tmp_path: Path
) -> None:
    with pytest.raises(ProtocolNotAllowedError):
        SqlAdministration(Database(catalog.engine)).register_repository(
            f"file://{tmp_path}", None, allowed_protocols=tuple(ALLOWED), now=catalog.clock()
        )


def _rows(catalog: Catalog, table: str) -> list[tuple[object, ...]]:
    from sqlalchemy import text

    with catalog.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(f"SELECT * FROM {table}"))]


def test_a_repository_named_by_its_http_clone_url_links_its_files_without_the_git(
    catalog: Catalog, tmp_path: Path
) -> None:
    """``https://github.com/acme/pay.git/blob/main/...`` is no page a host serves: the entities and the
    locations name ``https://github.com/acme/pay/blob/main/...``, as Backstage's own locations do."""
    with smart_http(tmp_path / "served") as host:
        host.remote("pay").publish({"catalog-info.yaml": product_yaml("pay")})
        assert host.url("pay").endswith("/pay.git")
        catalog.config = {
            "sources": [{"name": "pay", "type": "git", "url": host.url("pay")}],
            "sync": {"allowed_protocols": ["http"], "allowed_private_networks": ["127.0.0.1/32"]},
        }
        assert catalog.sync().added == 1
    file = f"http://127.0.0.1:{host.port}/pay/blob/main/catalog-info.yaml"
    assert catalog.links("product:default/pay") == (f"url:{file}", f"url:{file}")
    (target,) = catalog.location_targets()  # the branch as stored: HEAD until it is known
    assert target.startswith(f"http://127.0.0.1:{host.port}/pay/blob/")
    assert target.endswith("/catalog-info.yaml")
