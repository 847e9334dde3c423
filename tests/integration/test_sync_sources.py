"""Remote and registered repositories through the sync engine, and the transports it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog_sync.errors import ProtocolNotAllowedError
from catalog_sync.sources.git import GitRepository
from catalog_sync.store.admin_store import SqlAdministration
from catalog_sync.store.base import Database
from catalog_sync.sync import SyncEngine
from tests.fixtures.gitrepos import new_remote
from tests.integration.conftest import Catalog, product_yaml

ALLOWED = ["https", "ssh", "file"]


def test_git_source_clones_once_and_fetches_only_when_the_tip_moves(catalog: Catalog, tmp_path: Path) -> None:
    remote = new_remote(tmp_path / "remotes", "pay")
    remote.publish({"catalog-info.yaml": product_yaml("pay")})
    catalog.config = {
        "sources": [{"name": "pay", "type": "git", "url": remote.url}],
        "sync": {"allowed_protocols": ALLOWED},
    }
    engine = SyncEngine(catalog.settings, catalog.engine, clock=catalog.clock)
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


def test_credentials_never_reach_the_database(catalog: Catalog, tmp_path: Path) -> None:
    catalog.config = {
        "sources": [
            {"name": "private", "type": "git", "url": "https://robot:s3cr3t-token@127.0.0.1:9/acme/pay.git"}
        ],
        "sync": {"allowed_protocols": ALLOWED},
    }
    catalog.sync()
    dump = "\n".join(
        str(row) for table in ("sources", "repositories", "problems") for row in _rows(catalog, table)
    )
    assert "s3cr3t-token" not in dump
    assert "127.0.0.1:9/acme/pay.git" in dump
    assert catalog.repository("pay")["state"] == "failing"


def test_registered_repository_is_read_on_the_next_pass(catalog: Catalog) -> None:
    catalog.config = {"sources": [], "sync": {"allowed_protocols": ALLOWED}}
    registration = SqlAdministration(Database(catalog.engine)).register_repository(
        "https://127.0.0.1:9/acme/cart.git", "main", allowed_protocols=tuple(ALLOWED), now=catalog.clock()
    )
    summary = catalog.sync()
    assert (summary.repositories, summary.errors) == (1, 1)
    repository = catalog.repository("cart")
    assert (repository["id"], repository["state"]) == (registration.id, "failing")
    assert "127.0.0.1:9" in catalog.problems("fetch")[0]["message"]


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
