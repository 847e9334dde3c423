"""A scorecard check that can never pass as configured (a ``repoFile`` path ``sync.fact_paths`` never
records) is said where its readers look: ``GET /api/scorecards``, one scorecard, and its portal page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from catalog_sync.cli import build_app
from catalog_sync.config import parse_settings
from catalog_sync.scoring import Scorer
from catalog_sync.store.base import Database
from catalog_sync.store.engine import open_engine
from catalog_sync.store.migrate import upgrade
from catalog_sync.store.scoring import SqlScoringStore
from catalog_sync.sync import SyncEngine
from tests.fixtures.gitrepos import GitRepo
from tests.fixtures.syncstore import sync_store

SCORECARD = """\
apiVersion: catalog/v1
kind: Scorecard
metadata: {name: docs, title: Documented}
spec:
  appliesTo: [kind=product]
  levels: [bronze]
  checks:
    - {id: readme, title: Readme, level: bronze, rule: {repoFile: {paths: [README.md]}}}
    - id: contributing
      title: Contributing guide
      level: bronze
      rule: {repoFile: {paths: [README, CONTRIBUTING.md]}}
---
apiVersion: catalog/v1
kind: Product
metadata: {name: shop}
spec: {type: service, lifecycle: production}
"""
WARNING = (
    "check 'contributing': CONTRIBUTING.md can never be seen, because only sync.fact_paths and the files "
    "directly inside their folders are recorded; add CONTRIBUTING.md to sync.fact_paths"
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlaskClient]:
    """A scored catalog whose one repository keeps the scorecard."""
    root = tmp_path_factory.mktemp("scorecard-warnings")
    GitRepo(root / "repos" / "platform").commit("add", files={"catalog-info.yaml": SCORECARD})
    settings = parse_settings(
        {
            "database": f"sqlite:///{root / 'catalog.db'}",
            "sources": [{"name": "local", "type": "local", "path": str(root / "repos")}],
            "scorecards": {"builtin": False, "trusted_sources": ["local"]},
        },
        str(root),
        environ={},
    )
    engine = open_engine(settings.database)
    upgrade(engine)
    scorer = Scorer(settings, SqlScoringStore(Database(engine)))
    SyncEngine(settings, sync_store(engine), after_pass=[scorer.as_hook()]).run_pass()
    yield build_app(settings, engine).test_client()
    engine.dispose()


def test_the_api_lists_the_warning_with_the_scorecard(client: FlaskClient) -> None:
    listed = client.get("/api/scorecards").get_json()
    [card] = listed["items"]
    assert card["name"] == "docs"
    assert card["warnings"] == [WARNING]
    assert client.get("/api/scorecards/docs").get_json()["warnings"] == [WARNING]


def test_the_scorecard_page_shows_the_warning(client: FlaskClient) -> None:
    page = client.get("/scorecards/docs", headers={"Accept": "text/html"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Checks that cannot pass as configured" in html
    assert "CONTRIBUTING.md can never be seen" in html
    assert "add CONTRIBUTING.md to sync.fact_paths" in html
