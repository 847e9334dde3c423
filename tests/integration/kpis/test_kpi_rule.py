"""The scorecard rule ``kpi`` over a real sync, real git measures and pushed values: the built-in
product readiness scorecard asks for a KPI measured and met at gold, and a scorecard of the catalog
can ask for KPIs of one category."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from catalog_sync.config import Settings, parse_settings
from catalog_sync.kpis import Measurer
from catalog_sync.scoring import Scorer
from catalog_sync.store.base import Database
from catalog_sync.store.engine import open_engine
from catalog_sync.store.kpis import SqlKpiStore
from catalog_sync.store.migrate import upgrade
from catalog_sync.store.scoring import SqlScoringReads, SqlScoringStore
from catalog_sync.sync import SyncEngine
from tests.fixtures.gitrepos import GitRepo
from tests.fixtures.syncstore import sync_store

NOW = datetime.now(UTC).replace(microsecond=0)
SHOP = """\
apiVersion: catalog/v1
kind: Product
metadata: {name: shop}
spec:
  type: website
  lifecycle: production
  kpis:
    - {name: NPS, category: customer-satisfaction, target: 40, measure: {push: true}}
    - {name: Releases, category: speed-to-market, target: 1, measure: {git: release-frequency}}
    - {name: Revenue share, category: business-alignment, target: 3}
---
apiVersion: catalog/v1
kind: Scorecard
metadata: {name: satisfaction}
spec:
  appliesTo: [kind=product]
  levels: [ok]
  checks:
    - id: happy
      title: Customers happy
      level: ok
      rule: {kpi: {category: customer-satisfaction, status: met}}
"""


@dataclass
class World:
    engine: Engine
    scorer: Scorer
    kpis: SqlKpiStore
    settings: Settings


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    repo = GitRepo(tmp_path / "repos" / "shop")
    repo.commit("code", files={"a": "1"}, when=NOW - timedelta(days=3))
    repo.git("tag", "v2.0")
    repo.commit("describe", files={"catalog-info.yaml": SHOP}, when=NOW - timedelta(days=1))
    settings = parse_settings(
        {
            "database": f"sqlite:///{tmp_path / 'catalog.db'}",
            "sources": [{"name": "shop", "type": "local", "path": str(tmp_path / "repos")}],
            "scorecards": {"trusted_sources": ["shop"]},
        },
        str(tmp_path),
        environ={},
    )
    engine = open_engine(settings.database)
    upgrade(engine)
    scorer = Scorer(settings, SqlScoringStore(Database(engine)))
    SyncEngine(settings, sync_store(engine), after_pass=[scorer.as_hook()]).run_pass()
    yield World(engine, scorer, SqlKpiStore(Database(engine)), settings)
    engine.dispose()


def _check(world: World, scorecard: str, check: str) -> dict[str, object]:
    reads = SqlScoringReads(Database(world.engine))
    with Database(world.engine).reading() as tx:
        results = reads.entity_scorecards(tx, "product:default/shop")
    result = next(r for r in results if r["scorecard"] == scorecard)
    found: dict[str, object] = next(c for c in result["checks"] if c["id"] == check)
    return found


def test_a_kpi_check_passes_once_a_measured_kpi_meets_its_target(world: World) -> None:
    before = _check(world, "product-readiness", "kpis-met")
    assert before["passed"] is False
    assert before["message"] == "0 of 3 KPIs met (1 needed)"

    Measurer(world.settings.kpis, world.kpis).run_round()  # one release in 30 days: met
    world.scorer.clock = lambda: NOW + timedelta(hours=2)  # the answer is kept one hour
    world.scorer.rescore()

    after = _check(world, "product-readiness", "kpis-met")
    assert after["passed"] is True
    assert after["value"] == 1
    assert after["message"] == "1 of 3 KPIs met (1 needed)"


def test_a_kpi_check_of_one_category_counts_only_that_category(world: World) -> None:
    assert (
        _check(world, "satisfaction", "happy")["message"]
        == "0 of 1 customer-satisfaction KPIs met (1 needed)"
    )
    world.kpis.push("product:default/shop", "nps", 35.0, NOW, NOW)  # below 40: missed
    world.scorer.clock = lambda: NOW + timedelta(hours=2)
    world.scorer.rescore()
    assert _check(world, "satisfaction", "happy")["passed"] is False
    world.kpis.push("product:default/shop", "nps", 44.0, NOW + timedelta(minutes=1), NOW)
    world.scorer.clock = lambda: NOW + timedelta(hours=4)
    world.scorer.rescore()
    happy = _check(world, "satisfaction", "happy")
    assert happy["passed"] is True
    assert happy["message"] == "1 of 1 customer-satisfaction KPIs met (1 needed)"
