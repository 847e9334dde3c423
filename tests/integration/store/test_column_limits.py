"""Every string column that holds text from outside, tried with a value longer than it stores.

PostgreSQL refuses such a value and fails the whole statement; SQLite stores it. The store must check
each one before the database sees it, on both: an identity too long fails what carries it (with an
error naming the field and the limit), free text is cut. The columns are found from the tables'
metadata, so a new column is either checked here or declared as written by the catalog itself.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Column, Engine, String, Text, func, select

from catalog_sync.descriptors.problems import Problem
from catalog_sync.errors import SourceError
from catalog_sync.model import Entity
from catalog_sync.plans import EntityWrite, Plan, ProblemRow, RemovalDecision
from catalog_sync.reconcile import prepare
from catalog_sync.sources.base import RepositoryInfo
from catalog_sync.store import limits
from catalog_sync.store.base import Database, connection_of
from catalog_sync.store.kpis import Measurement, SqlKpiStore
from catalog_sync.store.outbox import Event, Route, SqlOutbox, Try
from catalog_sync.store.outbox.enqueue import write_events
from catalog_sync.store.stores import open_stores
from catalog_sync.store.sync_sql import SqlSyncStore
from catalog_sync.store.tables import (
    entities,
    kpi_values,
    metadata,
    notifications,
    problems,
    relations,
    repositories,
    sources,
    sync_runs,
)
from tests.fixtures.syncstore import sync_store

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
Column_ = Column[Any]


def name_of(column: Column_) -> str:
    return f"{column.table.name}.{column.name}"


def string_columns() -> list[Column_]:
    return [c for table in metadata.sorted_tables for c in table.columns if isinstance(c.type, String | Text)]


def over(column: Column_, char: str = "x") -> str:
    limit = limits.max_length(column)
    assert limit is not None, f"{name_of(column)} declares no limit"
    return char * (limit + 1)


def info(key: str, **changes: str | None) -> RepositoryInfo:
    values: dict[str, Any] = {"name": key, "url": f"https://git.example.com/acme/{key}.git", "branch": "main"}
    values.update(changes)
    return RepositoryInfo(key=key, **values)


def list_repositories(store: SqlSyncStore, found: list[RepositoryInfo]) -> tuple[int, list[str]]:
    with store.transaction() as tx:
        source_id = store.ensure_source(tx, "fleet", "git", "https://git.example.com/acme")
        refused = store.record_discovery(tx, source_id, found, RemovalDecision(), now=NOW)
    return source_id, refused


def product(name: str = "pay", *, lifecycle: str = "production", owner: str = "team:payments") -> Entity:
    return Entity(
        "catalog/v1",
        "Product",
        {"name": name, "description": "d" * 3000},
        {"type": "service", "lifecycle": lifecycle, "owner": owner},
    )


def write_plan(store: SqlSyncStore, writes: list[tuple[Entity, str]], **plan: Any) -> int:
    """Write one plan for a fresh repository; returns the repository's id."""
    source_id, _ = list_repositories(store, [info("pay")])
    with store.transaction() as tx:
        rid = store.listed_repositories(tx, source_id)[0].id
        rows = [EntityWrite(prepare(e, "url:x"), path, 1, None, None) for e, path in writes]
        files: dict[str, tuple[str, datetime | None]] = {path: ("b" * 40, None) for _, path in writes}
        store.apply_plans(
            tx,
            [Plan(rid, "c0ffee", writes=rows, descriptor_files=files, **plan)],
            now=NOW,
            interval_seconds=300,
            exists=lambda _: False,
        )
    return rid


def stored(engine: Engine, column: Column_) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(column)).scalars())


def problem_messages(engine: Engine) -> list[str]:
    return stored(engine, problems.c.message)


def refused_listing(column: Column_) -> Callable[[SqlSyncStore, Engine], None]:
    field = {"name": "name", "url": "url", "branch": "branch"}[column.name]

    def check(store: SqlSyncStore, engine: Engine) -> None:
        long = over(column) if field != "url" else "https://git.example.com/" + over(column)
        source_id, refused = list_repositories(store, [info("ok"), info("bad", **{field: long})])
        assert len(refused) == 1
        assert f"at most {limits.max_length(column)} are stored" in refused[0]
        with store.transaction() as tx:
            claimed = store.claim_due(tx, "w1", now=NOW, lease_seconds=60, limit=10, source_ids=[source_id])
        by_key = {c.key: c for c in claimed}
        assert by_key["ok"].listing_error is None
        assert by_key["bad"].listing_error is not None
        with engine.connect() as conn:
            row = conn.execute(select(repositories).where(repositories.c.key == "bad")).one()
        assert row.state == "failing"
        assert "at most" in row.last_error

    return check


def refused_key(store: SqlSyncStore, engine: Engine) -> None:
    _, refused = list_repositories(store, [info("ok"), info(over(repositories.c.key))])
    assert len(refused) == 1
    assert stored(engine, repositories.c.key) == ["ok"]
    assert (
        "repository key is 1025 characters; at most 1024 are stored"
        in stored(engine, sources.c.last_error)[0]
    )


def refused_path(store: SqlSyncStore, engine: Engine) -> None:
    write_plan(store, [(product("pay"), "catalog-info.yaml"), (product("deep"), over(entities.c.path))])
    assert stored(engine, entities.c.name) == ["pay"]
    assert any("descriptor path is 1025 characters; at most 1024" in m for m in problem_messages(engine))


def refused_entity(column: Column_) -> Callable[[SqlSyncStore, Engine], None]:
    def check(store: SqlSyncStore, engine: Engine) -> None:
        long = over(column, "n")
        bad = product(long) if column.name in {"name", "ref_key", "source_key"} else product()
        if column.name == "kind":
            bad = Entity("catalog/v1", long, {"name": "odd"}, {})
        elif column.name == "namespace":
            bad = Entity("catalog/v1", "Product", {"name": "odd", "namespace": long}, {})
        write_plan(store, [(product("fine"), "a.yaml"), (bad, "b.yaml")])
        assert stored(engine, entities.c.name) == ["fine"]
        assert any("characters; at most" in m and "not stored" in m for m in problem_messages(engine))

    return check


def refused_target(store: SqlSyncStore, engine: Engine) -> None:
    write_plan(store, [(product("pay", owner="group:default/" + over(relations.c.target_key)), "a.yaml")])
    assert stored(engine, entities.c.name) == ["pay"]
    assert stored(engine, relations.c.target_key) == []
    assert any("relation target is" in m for m in problem_messages(engine))


def cut_source_error(store: SqlSyncStore, engine: Engine) -> None:
    source_id, _ = list_repositories(store, [info("pay")])
    with store.transaction() as tx:
        store.record_source_failure(tx, source_id, over(sources.c.last_error), NOW)


def cut_repository_error(store: SqlSyncStore, engine: Engine) -> None:
    source_id, _ = list_repositories(store, [info("pay")])
    with store.transaction() as tx:
        rid = store.listed_repositories(tx, source_id)[0].id
        store.record_failures(tx, [(rid, over(repositories.c.last_error))], NOW, 300)


def cut_problem(store: SqlSyncStore, engine: Engine) -> None:
    problem = Problem(
        path=over(problems.c.path),
        severity="error",
        message=over(problems.c.message),
        field=over(problems.c.field),
        entity_ref=over(problems.c.entity_ref),
    )
    write_plan(store, [], problems=[ProblemRow("descriptor", problem)])


def cut_run_message(store: SqlSyncStore, engine: Engine) -> None:
    run_id = store.start_run("w1", NOW)
    store.finish_run(
        run_id, now=NOW, result="failed", counts={}, duration=1.0, message=over(sync_runs.c.message)
    )


def cut_entity_text(store: SqlSyncStore, engine: Engine) -> None:
    write_plan(store, [(product("pay", lifecycle=over(entities.c.lifecycle)), "a.yaml")])
    assert stored(engine, entities.c.name) == ["pay"]


def cut_kpi_error(store: SqlSyncStore, engine: Engine) -> None:
    failure = Measurement("product:default/pay", "rate", "prometheus", None, over(kpi_values.c.error), NOW)
    SqlKpiStore(Database(engine)).write([failure], {("product:default/pay", "rate")}, NOW)


def cut_notification_error(store: SqlSyncStore, engine: Engine) -> None:
    database = Database(engine)
    route = Route("ops", frozenset({"repository_failing"}))
    with database.transaction() as tx:
        write_events(connection_of(tx), [route], [Event("repository_failing", "repository:1")], NOW)
    outbox = SqlOutbox(database)
    (delivery,) = outbox.claim("w", NOW, 10, 60)
    outbox.record("w", [Try(delivery, "failed", NOW, over(notifications.c.last_error))])


DRIVERS: dict[str, Callable[[SqlSyncStore, Engine], None]] = {
    "repositories.key": refused_key,
    "repositories.name": refused_listing(repositories.c.name),
    "repositories.url": refused_listing(repositories.c.url),
    "repositories.branch": refused_listing(repositories.c.branch),
    "descriptor_files.path": refused_path,
    "entities.path": refused_path,
    "entities.kind": refused_entity(entities.c.kind),
    "entities.namespace": refused_entity(entities.c.namespace),
    "entities.name": refused_entity(entities.c.name),
    "entities.ref_key": refused_entity(entities.c.ref_key),
    "relations.source_key": refused_entity(relations.c.source_key),
    "relations.target_key": refused_target,
    "sources.last_error": cut_source_error,
    "repositories.last_error": cut_repository_error,
    "problems.path": cut_problem,
    "problems.field": cut_problem,
    "problems.message": cut_problem,
    "problems.entity_ref": cut_problem,
    "sync_runs.message": cut_run_message,
    "entities.lifecycle": cut_entity_text,
    "kpi_values.error": cut_kpi_error,
    "notifications.last_error": cut_notification_error,
}

CHECKED = [c for c in string_columns() if c in limits.REFUSED or c in limits.CUT]


def test_every_string_column_is_checked_bounded_derived_or_written_by_the_catalog() -> None:
    classes = (limits.REFUSED, limits.CUT, limits.BOUNDED_BEFORE, limits.DERIVED, limits.WRITTEN_BY_CATALOG)
    unclassified = [name_of(c) for c in string_columns() if not any(c in group for group in classes)]
    assert unclassified == []
    narrower = [
        name_of(copy)
        for copy, origin in limits.DERIVED.items()
        if (limits.max_length(copy) or 10**9) < (limits.max_length(origin) or 10**9)
    ]
    assert narrower == []
    assert all(limits.max_length(c) is not None for c in CHECKED)


@pytest.mark.parametrize("column", CHECKED, ids=name_of)
def test_an_over_long_value_never_reaches_the_database(column: Column_, store_engine: Engine) -> None:
    DRIVERS[name_of(column)](sync_store(store_engine), store_engine)

    with store_engine.connect() as conn:
        longest = conn.execute(select(func.max(func.length(column)))).scalar()
    assert (longest or 0) <= (limits.max_length(column) or 0)
    if column in limits.CUT:  # free text is kept, cut to fit with a marker
        assert any(str(v).endswith(limits.MARKER) for v in stored(store_engine, column))


# A descriptor's text cannot hold a lone surrogate (YAML and JSON parsing refuse the escape), so an
# entity's lifecycle never does; every other free text may quote a host's answer.
FROM_HOSTS = [c for c in CHECKED if c in limits.CUT and c is not entities.c.lifecycle]


@pytest.mark.parametrize("column", FROM_HOSTS, ids=name_of)
def test_free_text_holding_lone_surrogates_is_stored_escaped_not_refused_by_the_driver(
    column: Column_, store_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A host's JSON may carry ``\\ud800``; quoted in an error, it must not end the pass that stores it."""
    plain = over
    monkeypatch.setattr(sys.modules[__name__], "over", lambda c, char="\ud800": plain(c, char))

    DRIVERS[name_of(column)](sync_store(store_engine), store_engine)

    values = [str(v) for v in stored(store_engine, column) if v]
    assert values
    assert all(v.startswith("\\ud800") and v.endswith(limits.MARKER) for v in values)


def test_a_registration_longer_than_its_key_is_refused_with_the_limit(store_engine: Engine) -> None:
    stores = open_stores(Database(store_engine))
    url = "https://git.example.com/" + "r" * 1100 + ".git"

    with pytest.raises(SourceError, match="at most 1024 are stored"):
        stores.administration.register_repository(url, None, allowed_protocols=("https",), now=NOW)
    assert stored(store_engine, repositories.c.url) == []


def wide(count: int) -> str:
    """``count`` characters of three bytes each in UTF-8, varied so PostgreSQL cannot compress them: a
    value that fits a column counted in characters but not an index entry, which is counted in bytes."""
    return "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(count))


def test_a_descriptor_path_too_wide_for_its_index_fails_only_its_file(store_engine: Engine) -> None:
    name = wide(900)
    path = f"{name[:300]}/{name[300:600]}/{name[600:]}/catalog-info.yaml"  # 920 characters, 2,720 bytes
    store = sync_store(store_engine)

    write_plan(store, [(product("pay"), "catalog-info.yaml"), (product("deep"), path)])

    assert stored(store_engine, entities.c.name) == ["pay"]
    assert any(
        f"descriptor path is 2720 bytes in UTF-8; at most {limits.INDEX_ENTRY_BYTES} are stored" in m
        for m in problem_messages(store_engine)
    )


def test_a_repository_key_too_wide_for_its_index_fails_only_that_repository(store_engine: Engine) -> None:
    _, refused = list_repositories(sync_store(store_engine), [info("ok"), info(wide(1000))])

    assert len(refused) == 1
    assert stored(store_engine, repositories.c.key) == ["ok"]
    assert "repository key is 3000 bytes in UTF-8" in stored(store_engine, sources.c.last_error)[0]
