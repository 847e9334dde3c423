"""Events written by the store operations that cause them, over real repositories on SQLite and
PostgreSQL: a level that drops, a gap that opens or closes, a KPI missed, a repository failing; each
once a day per channel, only to the channels that ask for it, with the entity, owner and contact."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from catalog_sync.config import NOTIFICATION_EVENTS, parse_settings
from catalog_sync.notify import routes_of
from catalog_sync.scoring import Scorer
from catalog_sync.store.base import Database, connection_of
from catalog_sync.store.kpis import Measurement, SqlKpiStore
from catalog_sync.store.outbox import Event, Route
from catalog_sync.store.outbox.enqueue import write_events
from catalog_sync.store.scoring import SqlScoringStore
from catalog_sync.store.sync_sql import SqlSyncStore
from catalog_sync.store.tables import initiatives, notifications
from catalog_sync.sync import SyncEngine
from tests.integration.conftest import Catalog

CARD = """\
apiVersion: catalog/v1
kind: Scorecard
metadata: {name: basics}
spec:
  appliesTo: [kind=product]
  levels: [bronze, silver]
  checks:
    - {id: owner, title: An owner that resolves, level: bronze, rule: {ownerResolves: true}}
    - {id: readme, title: A README, level: silver, rule: {repoFile: {paths: [README.md]}}}
"""

TEAM = """\
apiVersion: catalog/v1
kind: Team
metadata: {name: payments, title: Payments}
spec:
  contact: {email: payments@example.com, channel: "#payments"}
  members:
    - {name: ada, role: product-owner}
"""


def product(owner: str = "payments", *, tier: int = 1, kpi_target: float = 3) -> str:
    return f"""\
apiVersion: catalog/v1
kind: Product
metadata: {{name: pay}}
spec:
  type: service
  lifecycle: production
  owner: {owner}
  tier: {tier}
  kpis:
    - {{name: Lead time, id: lead-time, category: speed-to-market, target: {kpi_target}, direction: at-most,
        measure: {{git: lead-time-for-changes}}}}
"""


CHANNELS = [
    {"name": "everything", "type": "webhook", "url_env": "HOOK", "events": list(NOTIFICATION_EVENTS)},
    {"name": "drops", "type": "slack", "url_env": "HOOK", "events": ["level_dropped"]},
    {
        "name": "tier-2",
        "type": "webhook",
        "url_env": "HOOK",
        "events": ["level_dropped"],
        "filter": "spec.tier=2",
    },
]


class Notified:
    """The fleet, synced and re-scored as ``worker`` does, with three channels configured."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        catalog.config["scorecards"] = {"trusted_sources": ["fleet"]}
        catalog.config["notifications"] = {"channels": CHANNELS}
        settings = parse_settings(catalog.config, str(catalog.root), environ={"HOOK": "http://127.0.0.1:9/"})
        self.routes = routes_of(settings.notifications)
        database = Database(catalog.engine)
        self.scorer = Scorer(settings, SqlScoringStore(database, routes=self.routes), clock=catalog.clock)
        self.sync_engine = SyncEngine(
            settings, SqlSyncStore(database, routes=self.routes), clock=catalog.clock
        )
        self.kpis = SqlKpiStore(database, routes=self.routes)
        catalog.repo("platform", {"catalog-info.yaml": CARD})
        catalog.repo("teams", {"catalog-info.yaml": TEAM})

    def sync(self) -> None:
        self.sync_engine.run_pass(everything=True)
        self.scorer.rescore([])

    def rows(self, channel: str = "everything") -> list[dict[str, Any]]:
        query = select(notifications).where(notifications.c.channel == channel).order_by(notifications.c.id)
        with self.catalog.engine.connect() as conn:
            return [{**row._mapping, "payload": json.loads(row.payload)} for row in conn.execute(query)]

    def events(self, channel: str = "everything") -> list[tuple[str, str | None]]:
        return [(row["event"], row["entity_ref"]) for row in self.rows(channel)]


PAY = "product:default/pay"


def test_a_level_drop_is_written_with_the_change_and_only_to_channels_that_ask(catalog: Catalog) -> None:
    world = Notified(catalog)
    pay = catalog.repo("pay", {"catalog-info.yaml": product(), "README.md": "# pay\n"})
    world.sync()
    assert world.rows() == []  # the first scoring of a catalog is its starting point
    pay.delete("README.md")
    pay.commit("no README")
    world.sync()
    assert world.events() == [("level_dropped", PAY)]
    (row,) = world.rows()
    payload = row["payload"]
    assert payload["detail"] == {
        "scorecard": "basics",
        "previousLevel": "silver",
        "level": "bronze",
        "previousRank": 2,
        "rank": 1,
    }
    assert payload["entity"] == {"ref": PAY}
    assert payload["owner"] == {
        "ref": "team:default/payments",
        "title": "Payments",
        "contact": {"email": "payments@example.com", "channel": "#payments"},
    }
    assert row["status"] == "pending"
    assert world.events("drops") == [("level_dropped", PAY)]
    assert world.events("tier-2") == []  # its filter selects tier 2 products only


def test_a_level_dropped_twice_in_a_day_is_announced_once_and_again_the_next_day(catalog: Catalog) -> None:
    world = Notified(catalog)
    pay = catalog.repo("pay", {"catalog-info.yaml": product(), "README.md": "# pay\n"})
    world.sync()
    for _ in range(2):
        pay.delete("README.md")
        pay.commit("no README")
        world.sync()
        pay.commit("README again", files={"README.md": "# pay\n"})
        world.sync()
    assert world.events() == [("level_dropped", PAY)]
    catalog.clock.advance(days=1)
    pay.delete("README.md")
    pay.commit("no README")
    world.sync()
    assert world.events() == [("level_dropped", PAY), ("level_dropped", PAY)]


def test_a_gap_opens_and_closes_with_the_owner_that_stops_and_starts_resolving(catalog: Catalog) -> None:
    world = Notified(catalog)
    pay = catalog.repo("pay", {"catalog-info.yaml": product(), "README.md": "# pay\n"})
    world.sync()
    pay.commit("owned by a team that does not exist", files={"catalog-info.yaml": product("ghosts")})
    world.sync()
    events = world.events()
    assert ("gap_opened", PAY) in events
    opened = next(r for r in world.rows() if r["event"] == "gap_opened")
    assert opened["payload"]["detail"]["gap"] == "unknown_owner"
    assert ("level_dropped", PAY) in events  # no owner resolves: below bronze
    pay.commit("owned again", files={"catalog-info.yaml": product("payments")})
    world.sync()
    closed = [r for r in world.rows() if r["event"] == "gap_closed"]
    assert [r["payload"]["detail"]["gap"] for r in closed] == ["unknown_owner"]
    assert closed[0]["payload"]["owner"]["contact"] == {
        "email": "payments@example.com",
        "channel": "#payments",
    }


def test_a_filtered_channel_gets_the_events_of_the_entities_its_filter_selects(catalog: Catalog) -> None:
    world = Notified(catalog)
    pay = catalog.repo("pay", {"catalog-info.yaml": product(tier=2), "README.md": "# pay\n"})
    world.sync()
    pay.delete("README.md")
    pay.commit("no README")
    world.sync()
    assert world.events("tier-2") == [("level_dropped", PAY)]


def test_a_kpi_that_a_new_value_misses_is_announced_once(catalog: Catalog) -> None:
    world = Notified(catalog)
    catalog.repo("pay", {"catalog-info.yaml": product(), "README.md": "# pay\n"})
    world.sync()
    declared = {("product:default/pay", "lead-time")}
    now = catalog.clock.now

    def measure(value: float | None, error: str | None = None) -> None:
        world.kpis.write([Measurement(PAY, "lead-time", "git", value, error, now)], declared, now)

    measure(2.0)
    assert world.rows() == []  # met
    measure(5.0)
    measure(None, "no release in the window")  # unknown keeps the value: nothing new
    measure(6.0)
    assert world.events() == [("kpi_missed", PAY)]
    detail = world.rows()[0]["payload"]["detail"]
    assert (detail["kpi"], detail["value"], detail["target"], detail["direction"]) == (
        "lead-time",
        5.0,
        3,
        "at-most",
    )
    assert world.events("drops") == []


def test_a_repository_that_starts_failing_is_announced_with_its_entity_and_owner(catalog: Catalog) -> None:
    world = Notified(catalog)
    pay = catalog.repo("pay", {"catalog-info.yaml": product(), "README.md": "# pay\n"})
    world.sync()
    (pay.git_dir / "refs" / "heads" / "main").write_text("not a sha\n")
    for _ in range(3):
        world.sync()  # failing, failing, stale: one event
    failing = [r for r in world.rows() if r["event"] == "repository_failing"]
    assert len(failing) == 1
    payload = failing[0]["payload"]
    assert payload["entity"] == {"ref": PAY}
    assert payload["owner"]["ref"] == "team:default/payments"
    assert payload["detail"]["repository"] == "pay"
    assert payload["detail"]["source"] == "fleet"


def test_events_rolled_back_with_their_change_are_never_written(store_engine: Engine) -> None:
    database = Database(store_engine)
    route = Route("everything", frozenset(NOTIFICATION_EVENTS))
    now = datetime(2026, 12, 2, tzinfo=UTC)
    try:
        with database.transaction() as tx:
            write_events(connection_of(tx), [route], [Event("gap_opened", "missing_owner\x00x")], now)
            raise RuntimeError("the change failed")
    except RuntimeError:
        pass
    with store_engine.connect() as conn:
        assert conn.execute(select(notifications)).all() == []
    with database.transaction() as tx:
        event = Event("gap_opened", "missing_owner\x00x")
        write_events(connection_of(tx), [route], [event, event], now)
        write_events(connection_of(tx), [route], [event], now + timedelta(hours=23))
        write_events(connection_of(tx), [route], [event], now + timedelta(days=1))
    with store_engine.connect() as conn:
        assert len(conn.execute(select(notifications)).all()) == 2


INITIATIVE = """\
apiVersion: catalog/v1
kind: Initiative
metadata: {{name: readmes, title: A README everywhere}}
spec:
  owner: payments
  scorecard: basics
  level: silver
  appliesTo: ["kind=product"]
  startsOn: "{starts}"
  dueOn: "{due}"
"""


def test_an_initiative_is_announced_14_7_and_1_days_before_its_due_day_then_daily_while_overdue(
    catalog: Catalog,
) -> None:
    world = Notified(catalog)
    today = catalog.clock.now.date()
    due = today + timedelta(days=15)
    catalog.repo("initiatives", {"catalog-info.yaml": INITIATIVE.format(starts=today, due=due)})
    catalog.repo("pay", {"catalog-info.yaml": product()})  # no README: not done
    world.sync()
    world.sync()  # the initiative is read again once its scorecard is published
    announced = []
    for _ in range(18):
        catalog.clock.advance(days=1)
        world.scorer.rescore([])
        world.scorer.rescore([])  # twice a day: once announced
        announced.append(
            [row["payload"]["detail"]["daysLeft"] for row in world.rows() if "initiative" in row["event"]]
        )
    days = announced[-1]
    assert days == [14, 7, 1, -1, -2, -3]
    rows = [row for row in world.rows() if "initiative" in row["event"]]
    assert [row["event"] for row in rows] == ["initiative_due"] * 3 + ["initiative_overdue"] * 3
    payload = rows[0]["payload"]
    assert payload["entity"] == {"ref": "initiative:default/readmes"}
    assert payload["owner"]["contact"] == {"email": "payments@example.com", "channel": "#payments"}
    assert payload["detail"]["dueOn"] == due.isoformat()
    assert "is due in 14 days (0 of 1 done)" in payload["summary"]


def test_a_done_initiative_is_never_announced(catalog: Catalog) -> None:
    world = Notified(catalog)
    today = catalog.clock.now.date()
    due = today + timedelta(days=8)
    catalog.repo("initiatives", {"catalog-info.yaml": INITIATIVE.format(starts=today, due=due)})
    catalog.repo("pay", {"catalog-info.yaml": product(), "README.md": "# pay\n"})
    world.sync()
    world.sync()  # the initiative is read again once its scorecard is published
    for _ in range(10):
        catalog.clock.advance(days=1)
        world.scorer.rescore([])
    with catalog.engine.connect() as conn:
        (followed,) = conn.execute(select(initiatives.c.in_scope, initiatives.c.done)).all()
    assert tuple(followed) == (1, 1)
    assert [row for row in world.rows() if "initiative" in row["event"]] == []
