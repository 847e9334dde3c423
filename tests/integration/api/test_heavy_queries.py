"""Legal but heavy queries: bounded before they reach the database, stopped when they run too long, and
answered 400 with the reason on SQLite and PostgreSQL, never 503 "database unavailable".

Fifty ``filter`` parameters of fifty conditions each (within the limits of one parameter) used to cost
seconds of CPU and then fail in the database (SQLite: "too many columns in result set"), which the API
answered as an outage.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, event, text

from catalog_sync.cli import build_app, open_stores_on
from catalog_sync.config import Settings
from catalog_sync.store.base import Transaction, connection_of
from catalog_sync.store.engine import open_engine, reading
from catalog_sync.sync import SyncEngine
from plugin_api import create_app
from tests.fixtures.gitrepos import GitRepo
from tests.fixtures.syncstore import sync_store
from tests.integration.api.conftest import AUTH, LEGACY, PAYMENTS, SHOP, make_settings
from tests.integration.api.test_catalog_query import assert_backstage_error
from tests.unit.store.test_deadlines import slow_statement

BASE = "/api/catalog"
HEAVY = "&".join("filter=" + ",".join(f"spec.k{i}x{j}=v{j}" for j in range(50)) for i in range(50))
"""The reproduction: 50 filter parameters of 50 conditions, each parameter within its own limits."""


@pytest.fixture
def settings(store_engine: Engine, tmp_path: Path) -> Settings:
    """Settings of a catalog synced into ``store_engine`` from two real repositories."""
    repos = tmp_path / "repos"
    GitRepo(repos / "payments").commit("init", files={"catalog-info.yaml": PAYMENTS})
    GitRepo(repos / "shop").commit("init", files={"catalog-info.yaml": SHOP, ".catalog/legacy.yaml": LEGACY})
    settings = make_settings(tmp_path / "unused.db", repos, tmp_path / "cache")
    SyncEngine(settings, sync_store(store_engine)).run_pass()
    return settings


def app_with(settings: Settings, engine: Engine, **api: Any) -> Flask:
    return build_app(replace(settings, api=replace(settings.api, **api)), engine)


def heavy_requests(client: Any) -> dict[str, Any]:
    return {
        "by-query": client.get(f"{BASE}/entities/by-query?{HEAVY}"),
        "entities": client.get(f"{BASE}/entities?{HEAVY}"),
        "facets": client.get(f"{BASE}/entity-facets?facet=kind&{HEAVY}"),
        "by-refs": client.post(
            f"{BASE}/entities/by-refs?{HEAVY}", json={"entityRefs": ["group:default/web"]}
        ),
        "portal": client.get(f"/catalog?{HEAVY}"),
    }


def test_the_reproduction_is_refused_quickly_with_a_clear_400(
    settings: Settings, store_engine: Engine
) -> None:
    client = app_with(settings, store_engine).test_client()
    for endpoint in ("by-query", "entities", "facets", "by-refs"):
        started = time.perf_counter()
        response = heavy_requests(client)[endpoint]
        elapsed = time.perf_counter() - started
        assert_backstage_error(response, 400, "InputError", mentions="api.max_filter_conditions")
        assert "at most 200 filter conditions" in response.get_json()["error"]["message"]
        assert elapsed < 1.0, f"{endpoint} took {elapsed:.2f}s to refuse"
    assert heavy_requests(client)["portal"].status_code == 400
    light = client.get(f"{BASE}/entities/by-query?filter=kind=group")
    assert [item["metadata"]["name"] for item in light.get_json()["items"]] == ["web"]


def test_exactly_max_filter_conditions_are_allowed(settings: Settings, store_engine: Engine) -> None:
    client = app_with(settings, store_engine, max_filter_conditions=5).test_client()
    five = "filter=kind=component,spec.lifecycle=production&filter=metadata.name=web-shop,kind=api,kind=group"
    allowed = client.get(f"{BASE}/entities/by-query?{five}")
    assert allowed.status_code == 200, allowed.get_data(as_text=True)
    assert sorted(item["metadata"]["name"] for item in allowed.get_json()["items"]) == ["web-shop"]
    refused = client.get(f"{BASE}/entities/by-query?{five},spec.type=website")
    assert_backstage_error(refused, 400, "InputError", mentions="at most 5 filter conditions")


def test_a_cursor_carries_no_more_conditions_than_the_limit(settings: Settings, store_engine: Engine) -> None:
    six = "filter=kind=component,kind=api,kind=group,kind=system,kind=product,kind=team"
    generous = app_with(settings, store_engine, max_filter_conditions=6).test_client()
    cursor = generous.get(f"{BASE}/entities/by-query?{six}&limit=1").get_json()["pageInfo"]["nextCursor"]
    strict = app_with(settings, store_engine, max_filter_conditions=5).test_client()
    assert_backstage_error(
        strict.get(f"{BASE}/entities/by-query?cursor={cursor}"), 400, "InputError", mentions="invalid cursor"
    )
    assert generous.get(f"{BASE}/entities/by-query?cursor={cursor}").status_code == 200


def test_bound_parameters_of_every_statement_stay_within_both_databases_limits(
    settings: Settings, store_engine: Engine
) -> None:
    most: list[int] = [0]

    def count(_conn: Any, _cursor: Any, _statement: str, parameters: Any, _context: Any, many: bool) -> None:
        if parameters and not many:
            most[0] = max(most[0], len(parameters))

    event.listen(store_engine, "before_cursor_execute", count)
    try:
        client = app_with(settings, store_engine).test_client()
        names = "filter=" + ",".join(f"metadata.name=n{j}" for j in range(50))
        keys = "filter=" + ",".join(f"spec.k{j}=v{j}" for j in range(50))
        widest = "&".join([names, names.replace("=n", "=m"), keys, keys.replace("=v", "=w")])
        refs = [f"component:default/c{i}" for i in range(1000)]  # MAX_REFS
        facets = "&".join(f"facet=spec.f{i}" for i in range(50))  # MAX_FACETS
        fields = "fields=" + ",".join(f"spec.f{i}" for i in range(100))  # MAX_FIELDS
        order = "&".join(f"orderField=spec.o{i},desc" for i in range(5))  # MAX_ORDER_FIELDS
        answers = [
            client.get(f"{BASE}/entities/by-query?{widest}&{fields}&{order}&fullTextFilterTerm=x"),
            client.get(f"{BASE}/entities?{widest}&{fields}"),
            client.get(f"{BASE}/entity-facets?{facets}&{widest}"),
            client.post(f"{BASE}/entities/by-refs?{widest}", json={"entityRefs": refs}),
        ]
    finally:
        event.remove(store_engine, "before_cursor_execute", count)
    assert [answer.status_code for answer in answers] == [200, 200, 200, 200]
    assert 0 < most[0] <= 2000, f"one statement bound {most[0]} parameters"


class SlowReads:
    """The catalog's reads, each by-query first running a deliberately slow statement on the request's
    own connection: a query that the statement timeout must stop."""

    def __init__(self, reads: Any, engine: Engine) -> None:
        self._reads = reads
        self._engine = engine
        self._slow = slow_statement(engine)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reads, name)

    def query_entities(self, *args: Any, connection: Transaction, **kwargs: Any) -> Any:
        with reading(self._engine, connection_of(connection)) as conn:  # as every store read runs
            conn.execute(text(self._slow)).all()
        return self._reads.query_entities(*args, connection=connection, **kwargs)


def test_a_statement_past_the_timeout_answers_400_and_other_requests_keep_working(
    settings: Settings, store_engine: Engine
) -> None:
    engine = open_engine(
        store_engine.url.render_as_string(hide_password=False), serving=True, statement_timeout_seconds=0.2
    )
    try:
        stores = open_stores_on(settings, engine)
        client = create_app(
            settings, replace(stores, catalog=SlowReads(stores.catalog, engine))
        ).test_client()
        started = time.perf_counter()
        response = client.get(f"{BASE}/entities/by-query?filter=kind=group")
        assert time.perf_counter() - started < 2.0
        assert_backstage_error(
            response,
            400,
            "InputError",
            mentions="the query took longer than 0.2 s (api.statement_timeout_seconds); narrow the filter",
        )
        assert "unavailable" not in response.get_json()["error"]["message"]
        for _ in range(3):
            answer = client.get(f"{BASE}/entities/by-name/group/default/web")
            assert answer.status_code == 200
            assert answer.get_json()["metadata"]["name"] == "web"
        assert client.get("/readyz").status_code == 200
        assert client.post("/api/sync", headers=AUTH).status_code == 202
    finally:
        engine.dispose()
