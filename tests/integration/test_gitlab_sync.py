"""A ``gitlab`` source through the sync engine, on SQLite and PostgreSQL: what the catalog shows when
a local GitLab's projects are renamed, transferred, archived, deleted, or its listing fails."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY, generate_latest
from sqlalchemy import select

from catalog_sync.store.tables import repositories, sources
from tests.fixtures.fakegitlab import FakeGitLab, FakeProject
from tests.integration.conftest import GITLAB_TOKEN, Catalog, product_yaml

TOKEN = GITLAB_TOKEN


def configure(catalog: Catalog, gitlab: FakeGitLab, **extra: Any) -> None:
    source = {
        "name": "acme-gl",
        "type": "gitlab",
        "group": "acme",
        "api_url": gitlab.api_url,
        "auth": {"token_env": "GITLAB_TOKEN"},
        **extra,
    }
    # Scans inline: a scanning pool forked from this process would inherit the fake host's sockets
    # (reading in a worker process is tested in test_gitlab_source).
    sync = {"allowed_protocols": ["https", "http"], "concurrency": 1}
    catalog.config = {"sources": [source], "sync": sync}
    catalog.reset_engine()


def source_row(catalog: Catalog) -> dict[str, Any]:
    with catalog.engine.connect() as conn:
        return dict(conn.execute(select(sources).where(sources.c.name == "acme-gl")).one()._mapping)


def live_repositories(catalog: Catalog) -> set[str]:
    with catalog.engine.connect() as conn:
        rows = conn.execute(select(repositories.c.name).where(repositories.c.removed_at.is_(None)))
        return set(rows.scalars())


def test_a_rename_and_a_transfer_keep_the_entity_and_its_uid(catalog: Catalog, gitlab: FakeGitLab) -> None:
    pay = gitlab.add_project("acme/platform", "pay", files={"catalog-info.yaml": product_yaml("pay")})
    configure(catalog, gitlab)
    assert catalog.sync().added == 1
    before = catalog.entity("product:default/pay")
    assert before is not None

    gitlab.rename(pay, "payments")
    gitlab.transfer(pay, "acme/finance/core")
    catalog.sync()

    after = catalog.entity("product:default/pay")
    assert after is not None
    assert after["uid"] == before["uid"]
    assert after["repository_id"] == before["repository_id"]
    assert live_repositories(catalog) == {"acme/finance/core/payments"}
    assert catalog.problems("conflict") == []


def test_a_502_on_page_three_removes_nothing_and_marks_the_source_failing(
    make_catalog: Callable[..., Catalog], gitlab: FakeGitLab
) -> None:
    catalog = make_catalog()  # SQLite only: every project listed is read with a git fetch
    gitlab.max_per_page = 5  # three pages from 12 projects, as GitLab's 100 make from 201 and more
    pay = gitlab.add_project("acme", "pay", files={"catalog-info.yaml": product_yaml("pay")})
    for index in range(11):
        gitlab.add_project(("acme", "acme/platform")[index % 2], f"svc-{index}", shares=pay)
    configure(catalog, gitlab, include="^pay$|^svc-")
    catalog.sync()
    assert len(live_repositories(catalog)) == 12

    gitlab.misbehave.fail_pages[3] = 502
    summary = catalog.sync()

    assert len(live_repositories(catalog)) == 12
    entity = catalog.entity("product:default/pay")
    assert entity is not None
    assert entity["orphaned_at"] is None
    error = source_row(catalog)["last_error"]
    assert "HTTP 502" in error
    assert "listing page 3" in error or "id_after" in error
    assert any(s["name"] == "acme-gl" and "502" in (s["error"] or "") for s in summary.sources)


def test_deleted_and_archived_projects_orphan_their_entities(catalog: Catalog, gitlab: FakeGitLab) -> None:
    keep = [gitlab.add_project("acme", f"keep-{i}") for i in range(4)]
    gone = gitlab.add_project("acme", "gone", files={"catalog-info.yaml": product_yaml("gone")})
    old = gitlab.add_project("acme/sub", "old", files={"catalog-info.yaml": product_yaml("old")})
    configure(catalog, gitlab)
    catalog.sync()
    assert {"product:default/gone", "product:default/old"} <= catalog.refs()

    gitlab.delete(gone)
    gitlab.archive(old)
    catalog.sync()
    catalog.sync()  # a second complete listing without them

    for ref in ("product:default/gone", "product:default/old"):
        entity = catalog.entity(ref)
        assert entity is not None, ref  # orphaned, never silently deleted
        assert entity["orphaned_at"] is not None, ref
    assert live_repositories(catalog) == {p.path_with_namespace for p in keep}


def test_a_project_pending_deletion_is_removed_at_once_and_comes_back_when_restored(
    catalog: Catalog, gitlab: FakeGitLab
) -> None:
    gitlab.add_project("acme", "keep")
    pay = gitlab.add_project("acme", "pay", files={"catalog-info.yaml": product_yaml("pay")})
    configure(catalog, gitlab)
    catalog.sync()
    uid = catalog.entity("product:default/pay")["uid"]  # type: ignore[index]

    gitlab.mark_for_deletion(pay)  # still listed, renamed, for GitLab's grace period
    catalog.sync()

    assert live_repositories(catalog) == {"acme/keep"}
    assert catalog.entity("product:default/pay")["orphaned_at"] is not None  # type: ignore[index]
    assert source_row(catalog)["last_error"] is None

    gitlab.restore(pay)
    catalog.sync()

    assert live_repositories(catalog) == {"acme/keep", "acme/pay"}
    entity = catalog.entity("product:default/pay")
    assert entity is not None
    assert (entity["uid"], entity["orphaned_at"]) == (uid, None)


def test_the_token_is_in_no_answer_log_error_row_or_metric(
    catalog: Catalog, gitlab: FakeGitLab, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG)
    gitlab.add_project("acme", "pay", files={"catalog-info.yaml": product_yaml("pay")})
    broken: FakeProject = gitlab.add_project("acme", "broken")
    configure(catalog, gitlab)
    summaries = [catalog.sync()]
    gitlab.push(broken, {"catalog-info.yaml": "{{ not yaml"})
    gitlab.misbehave.fail_pages[1] = 502
    summaries.append(catalog.sync())
    gitlab.misbehave.fail_pages.clear()
    gitlab.token = "rotated"  # the configured token is now refused: 401 on the API and on git
    summaries.append(catalog.sync())

    texts = [caplog.text, repr(summaries), generate_latest(REGISTRY).decode()]
    with catalog.engine.connect() as conn:
        for table in ("sources", "repositories", "problems", "entities"):
            texts.append(repr(conn.exec_driver_sql(f"SELECT * FROM {table}").fetchall()))
    for text in texts:
        assert TOKEN not in text
    assert "401" in (source_row(catalog)["last_error"] or "")
    for written in (tmp_path / ".catalog-sync").rglob("*"):
        if written.is_file():
            assert TOKEN.encode() not in written.read_bytes(), written
    assert {r.credentials for r in gitlab.requests if r.is_api} == {f"Bearer {TOKEN}"}


def test_a_pass_where_nothing_changed_asks_the_host_only_for_conditional_listings(
    catalog: Catalog, gitlab: FakeGitLab
) -> None:
    for name in ("pay", "ledger", "search"):
        gitlab.add_project("acme/platform", name, files={"catalog-info.yaml": product_yaml(name)})
    configure(catalog, gitlab)
    catalog.sync()
    gitlab.forget_requests()

    summary = catalog.sync()

    assert summary.unchanged == 3
    assert [(r.path, r.conditional, r.status) for r in gitlab.requests] == [
        ("/api/v4/groups/acme/projects", True, 304)
    ]


def test_a_projects_entities_and_locations_link_to_the_file_where_gitlab_serves_it(
    catalog: Catalog, gitlab: FakeGitLab
) -> None:
    # GitLab 16.0 dropped its routes without /-/: <project>/blob/main/... answers 404 there.
    gitlab.add_project("acme/platform", "pay", files={"catalog-info.yaml": product_yaml("pay")})
    configure(catalog, gitlab)
    catalog.sync()
    file = f"{gitlab.web_root}/acme/platform/pay/-/blob/main/catalog-info.yaml"

    assert catalog.links("product:default/pay") == (f"url:{file}", f"url:{file}")
    assert catalog.location_targets() == [file]
