"""A catalog over a folder of real git repositories, synced with the real engine, on either database."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from catalog_sync.config import Settings, parse_settings
from catalog_sync.store.base import Database
from catalog_sync.store.stores import open_stores
from catalog_sync.store.tables import entities, problems, relations, repositories
from catalog_sync.sync import PassSummary, SyncEngine
from tests.fixtures.fakegithub import FakeGitHub, serving_orgs
from tests.fixtures.fakegitlab import FakeGitLab, fake_gitlab
from tests.fixtures.gitrepos import GitRepo
from tests.fixtures.syncstore import sync_store


def product_yaml(
    name: str,
    *,
    owner: str | None = "payments",
    lifecycle: str = "production",
    description: str = "",
    capabilities: tuple[str, ...] = ("checkout",),
) -> str:
    """A Product descriptor as a developer would write it."""
    lines = ["apiVersion: catalog/v1", "kind: Product", "metadata:", f"  name: {name}"]
    if description:
        lines.append(f"  description: {description}")
    lines += ["spec:", "  type: service", f"  lifecycle: {lifecycle}"]
    if owner:
        lines.append(f"  owner: {owner}")
    if capabilities:
        lines.append("  capabilities: [" + ", ".join(capabilities) + "]")
    return "\n".join(lines) + "\n"


class Clock:
    """A clock tests move by hand, so grace periods and back-off are tested without waiting.

    Each reading is a millisecond after the previous one, as time passes between real passes.
    """

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Catalog:
    """A folder of git repositories (one local source), a database, and the sync engine over them."""

    def __init__(self, root: Path, engine: Engine, **config: Any) -> None:
        self.root = root
        self.fleet = root / "fleet"
        self.fleet.mkdir(exist_ok=True)
        self.engine = engine
        self.clock = Clock()
        self.config = {"sources": [{"name": "fleet", "type": "local", "path": "fleet"}], **config}
        self._sync: SyncEngine | None = None
        self._repos: dict[str, GitRepo] = {}

    @property
    def settings(self) -> Settings:
        return parse_settings(self.config, str(self.root), environ={})

    def repo(self, name: str, files: dict[str, str] | None = None) -> GitRepo:
        """A repository of the fleet; with ``files``, they are committed."""
        repo = self._repos.get(name)
        if repo is None:
            repo = self._repos[name] = GitRepo(self.fleet / name)
        if files:
            repo.commit("update", files=files)
        return repo

    def sync(self, *, everything: bool = True) -> PassSummary:
        if self._sync is None:
            self._sync = SyncEngine(self.settings, sync_store(self.engine), clock=self.clock)
        return self._sync.run_pass(everything=everything)

    def reset_engine(self) -> None:
        """Build the sync engine anew (after changing the configuration)."""
        self._sync = None

    def entity(self, ref_key: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(entities).where(entities.c.ref_key == ref_key)).first()
        if row is None:
            return None
        data = dict(row._mapping)
        data["body"] = json.loads(data["body"])
        return data

    def refs(self) -> set[str]:
        with self.engine.connect() as conn:
            return set(conn.execute(select(entities.c.ref_key)).scalars())

    def repository(self, name: str) -> dict[str, Any]:
        with self.engine.connect() as conn:
            row = conn.execute(select(repositories).where(repositories.c.name == name)).one()
        return dict(row._mapping)

    def problems(self, category: str | None = None) -> list[dict[str, Any]]:
        stmt = select(problems).order_by(problems.c.id)
        if category:
            stmt = stmt.where(problems.c.category == category)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt)]

    def relations_of(self, ref_key: str) -> set[tuple[str, str]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(relations.c.type, relations.c.target_key).where(relations.c.source_key == ref_key)
            )
            return {(r.type, r.target_key) for r in rows}

    def links(self, ref_key: str) -> tuple[str, str]:
        """The entity's ``managed-by-location`` and ``managed-by-origin-location``: where the portal
        and Backstage send a reader for its descriptor."""
        found = self.entity(ref_key)
        assert found is not None, ref_key
        annotations = found["body"]["metadata"]["annotations"]
        return annotations["backstage.io/managed-by-location"], annotations[
            "backstage.io/managed-by-origin-location"
        ]

    def location_targets(self) -> list[str]:
        """Every location's target as ``GET /locations`` lists it, checked against ``GET /locations/{id}``."""
        database = Database(self.engine)
        reads = open_stores(database).catalog
        with database.reading() as tx:
            found = reads.list_locations(connection=tx)
            assert [reads.get_location(loc.id, connection=tx).target for loc in found] == [
                loc.target for loc in found
            ]
        return [loc.target for loc in found]


@pytest.fixture
def catalog(tmp_path: Path, store_engine: Engine) -> Catalog:
    """An empty fleet and catalog, on SQLite and on PostgreSQL."""
    return Catalog(tmp_path, store_engine)


@pytest.fixture
def make_catalog(tmp_path: Path, sqlite_engine: Engine) -> Callable[..., Catalog]:
    """A catalog on SQLite with extra configuration."""
    return lambda **config: Catalog(tmp_path, sqlite_engine, **config)


GITLAB_TOKEN = "glpat-Sup3rS3cretT0ken-xyz"
"""The local GitLab's token, which the tests' ``gitlab`` sources read from ``GITLAB_TOKEN``."""


@pytest.fixture
def gitlab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitLab]:
    """A local GitLab serving real git over smart HTTP, its token in the environment as a source's
    ``auth.token_env`` names it."""
    monkeypatch.setenv("GITLAB_TOKEN", GITLAB_TOKEN)
    with fake_gitlab(tmp_path / "gitlab", token=GITLAB_TOKEN) as fake:
        yield fake


@pytest.fixture
def app_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    """A local GitHub of the organisation ``acme`` that takes no personal token: only the tokens its
    GitHub Apps' installations mint (``FakeGitHub.add_app``)."""
    with serving_orgs(tmp_path / "hub", monkeypatch, ("CATALOG_TEST_UNUSED", "unused"), "acme") as hub:
        hub.tokens.clear()
        hub.require_auth = True
        yield hub
