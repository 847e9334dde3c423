"""A catalog of hosted repositories (GitHub- and GitLab-keyed, over real git repositories), its API, and
its sync engine: what a webhook test needs to send a delivery and watch the catalog follow.

Each test gets its own world on SQLite and on PostgreSQL; the sync engine is the real one, run by the
test (``world.sync_due()``) where the loop would run it, so what a delivery scheduled is read exactly
as a worker would read it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select

from catalog_sync.cli import build_app
from catalog_sync.config import Settings, SourceSettings, parse_settings
from catalog_sync.sources.local import LocalSource
from catalog_sync.store.tables import entities, repositories, webhook_deliveries
from catalog_sync.sync import PassSummary, SyncEngine
from tests.fixtures.gitrepos import GitRepo
from tests.fixtures.hosted import GITHUB_API, GITLAB_HOST, HostedRepository, HostedSource
from tests.fixtures.syncstore import sync_store
from tests.integration.conftest import product_yaml

SECRET = "github-secret-0123456789abcdef"
NEXT_SECRET = "github-secret-rotated-9876543210"
LAB_TOKEN = "gitlab-token-0123456789abcdef"
ENVIRONMENT = {
    "CATALOG_SYNC_GITHUB_WEBHOOK_SECRETS": f"{SECRET},{NEXT_SECRET}",
    "CATALOG_SYNC_GITLAB_WEBHOOK_TOKENS": LAB_TOKEN,
}


class World:
    """Two hosted sources (``acme`` on GitHub.com, ``lab`` on a GitLab), their repositories, the API."""

    def __init__(
        self,
        root: Path,
        engine: Engine,
        api: dict[str, Any] | None = None,
        environ: dict[str, str] | None = None,
        **webhooks: Any,
    ) -> None:
        self.root = root
        self.engine = engine
        self.repos: dict[str, GitRepo] = {}
        for folder in ("gh", "gl"):
            (root / folder).mkdir()
        config: dict[str, Any] = {
            "sources": [
                {"name": "acme", "type": "local", "path": "gh"},
                {"name": "lab", "type": "local", "path": "gl"},
            ],
            "sync": {"concurrency": 1},
        }
        if webhooks:
            config["webhooks"] = webhooks
        if api:
            config["api"] = api
        self.settings: Settings = parse_settings(config, str(root), environ=environ or ENVIRONMENT)
        local_github, local_gitlab = self.settings.sources
        assert isinstance(local_github, SourceSettings)
        assert isinstance(local_gitlab, SourceSettings)
        self.github = HostedSource(
            LocalSource(local_github, str(root)), "github", GITHUB_API, {"pay": 101, "shop": 102}
        )
        self.gitlab = HostedSource(LocalSource(local_gitlab, str(root)), "gitlab", GITLAB_HOST, {"ledger": 7})
        self.github.owner = "acme"
        self.gitlab.owner = "acme"
        self.engine_sync = SyncEngine(self.settings, sync_store(engine), sources=[self.github, self.gitlab])
        self.app: Flask = build_app(self.settings, engine, sync_trigger=self._woken)
        self.client: FlaskClient = self.app.test_client()
        self.wakeups = 0

    def _woken(self) -> None:
        self.wakeups += 1

    def repo(self, folder: str, name: str, **product: Any) -> GitRepo:
        """Commit a Product descriptor into a repository of ``folder`` (``gh`` or ``gl``)."""
        repo = self.repos.get(name)
        if repo is None:
            repo = self.repos[name] = GitRepo(self.root / folder / name)
        repo.commit("update", files={"catalog-info.yaml": product_yaml(name, **product)})
        return repo

    def sync_all(self) -> PassSummary:
        """A full pass, as ``catalog-sync sync`` runs one."""
        return self.engine_sync.run_pass(everything=True)

    def sync_due(self) -> PassSummary:
        """One pass of the worker loop: only what is due."""
        return self.engine_sync.run_pass(everything=False)

    def hosted(self, name: str) -> HostedRepository:
        """The repository object the source handed the pass (it counts its reads)."""
        return (self.github.built | self.gitlab.built)[name]

    def lifecycle(self, name: str) -> str | None:
        """What the catalog shows for the product ``name`` (through the API, as a user sees it)."""
        answer = self.client.get(f"/api/catalog/entities/by-name/product/default/{name}")
        return None if answer.status_code == 404 else str(answer.get_json()["spec"]["lifecycle"])

    def entity(self, name: str) -> dict[str, Any]:
        answer = self.client.get(f"/api/catalog/entities/by-name/product/default/{name}")
        assert answer.status_code == 200, answer.get_data(as_text=True)
        document: dict[str, Any] = answer.get_json()
        return document

    def row(self, key: str) -> dict[str, Any]:
        with self.engine.connect() as conn:
            return dict(conn.execute(select(repositories).where(repositories.c.key == key)).one()._mapping)

    def deliveries(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(select(webhook_deliveries))]

    def pushes_waiting(self) -> int:
        """Repositories with a pushed commit not yet read."""
        with self.engine.connect() as conn:
            waiting = conn.execute(
                select(func.count())
                .select_from(repositories)
                .where(repositories.c.pushed_commit.is_not(None))
            ).scalar_one()
        return int(waiting)

    def assert_push_read_by_next_pass(self, answer: Any, key: str, after: str) -> PassSummary:
        """A push answered 202 for repository ``key``: marked, nothing read in the answer, then read at
        ``after`` by the next pass, which it answers."""
        assert answer.status_code == 202, answer.get_json()
        assert answer.get_json() == {"accepted": True, "repositories": [self.row(key)["id"]]}
        assert self.row(key)["pushed_commit"] == after
        assert self.wakeups == 1
        summary = self.sync_due()
        assert summary.repositories == 1
        assert self.row(key)["last_commit"] == after
        assert self.pushes_waiting() == 0
        return summary

    def orphaned(self, name: str) -> bool:
        with self.engine.connect() as conn:
            body = conn.execute(select(entities.c.body).where(entities.c.name == name)).scalar_one()
        annotations: dict[str, str] = json.loads(body)["metadata"].get("annotations", {})
        return annotations.get("backstage.io/orphan") == "true"


@pytest.fixture
def world(tmp_path: Path, store_engine: Engine) -> Iterator[World]:
    """Repositories ``pay`` and ``shop`` on GitHub (ids 101, 102), ``ledger`` on GitLab (id 7), synced."""
    built = World(tmp_path, store_engine)
    built.repo("gh", "pay")
    built.repo("gh", "shop")
    built.repo("gl", "ledger")
    summary = built.sync_all()
    assert summary.added == 3, summary
    yield built
    built.engine_sync.close()


@pytest.fixture
def small_world(tmp_path: Path, sqlite_engine: Engine) -> Iterator[World]:
    """The same world on SQLite only, with a 4 KiB body limit: for hostile input, refused before the store."""
    built = World(tmp_path, sqlite_engine, max_body_bytes=4096)
    built.repo("gh", "pay")
    built.repo("gl", "ledger")
    built.sync_all()
    yield built
    built.engine_sync.close()
