"""The initiative tables on SQLite and PostgreSQL: burn-up points kept per day within the retention and
dropped with their initiative, lists paged by due day, the entities covered, the exemption gauge."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, select

from catalog_sync.store.base import Database, connection_of
from catalog_sync.store.metrics_store import SqlMetricsReads
from catalog_sync.store.scoring import SqlScoringReads, SqlScoringStore
from catalog_sync.store.scoring.history import RETENTION_DAYS
from catalog_sync.store.tables import initiative_entities, initiative_history, scorecard_results
from tests.unit.store.helpers import entity_body, insert_entity

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _row(name: str, due: str, owner: str = "team:default/platform", done: int = 1) -> dict[str, Any]:
    return {
        "name": name,
        "entity_ref": f"initiative:default/{name}",
        "title": name.title(),
        "owner": owner,
        "scorecard": "basics",
        "goal": json.dumps({"level": "silver"}),
        "applies_to": json.dumps(["kind=product"]),
        "starts_on": "2026-05-01",
        "due_on": due,
        "in_scope": 2,
        "done": done,
        "teams": json.dumps([{"team": "team:default/pay", "inScope": 2, "done": done, "notDone": 2 - done}]),
        "status": "active",
        "at_risk": done < 2,
        "projected": 0.5,
    }


def test_burn_up_points_are_one_a_day_within_the_retention(store_engine: Engine) -> None:
    database = Database(store_engine)
    store = SqlScoringStore(database)
    with store.rescoring() as tx:
        old = (NOW - timedelta(days=RETENTION_DAYS + 1)).date().isoformat()
        kept = (NOW - timedelta(days=3)).date().isoformat()
        connection_of(tx).execute(
            insert(initiative_history),
            [
                {"initiative": "a", "day": old, "in_scope": 1, "done": 0},
                {"initiative": "a", "day": kept, "in_scope": 2, "done": 1},
                {"initiative": "gone", "day": kept, "in_scope": 5, "done": 5},
            ],
        )
        store.record_initiative_days(tx, [("a", 2, 1)], NOW)
        store.record_initiative_days(tx, [("a", 2, 2)], NOW)  # the day's last re-score is what stays
        points = store.initiative_points(tx, ["a", "gone"], date(2000, 1, 1))
    assert points == {"a": [(kept, 2, 1), (NOW.date().isoformat(), 2, 2)]}
    with store_engine.connect() as conn:
        assert set(conn.execute(select(initiative_history.c.initiative)).scalars()) == {"a"}


def test_initiatives_are_listed_by_due_day_paged_and_narrowed_to_a_team(store_engine: Engine) -> None:
    database = Database(store_engine)
    store, reads = SqlScoringStore(database), SqlScoringReads(database)
    pay = insert_entity(
        store_engine, entity_body("Product", "pay", spec={"type": "s", "lifecycle": "production"})
    )
    with store.rescoring() as tx:
        rows = [
            _row("late", "2026-09-01"),
            _row("soon", "2026-06-10"),
            _row("mid", "2026-07-01", owner="team:default/x"),
        ]
        covered = [
            {
                "initiative": "late",
                "entity_id": pay,
                "entity_ref": "product:default/pay",
                "owner": "team:default/pay",
                "done": True,
            }
        ]
        store.write_initiatives(tx, rows, covered, NOW)
    with database.reading() as tx:
        first = reads.list_initiatives(tx, None, 2, None)
        assert [item["name"] for item in first.items] == ["soon", "mid"]
        assert first.total == 3
        second = reads.list_initiatives(tx, first.after, 2, None)
        assert ([item["name"] for item in second.items], second.after) == (["late"], None)
        mine = reads.list_initiatives(tx, None, 10, ["team:default/pay"])  # it has an entity in "late"
        assert [item["name"] for item in mine.items] == ["late"]
        one = reads.get_initiative(tx, "soon")
        assert (one["inScope"], one["done"], one["percent"], one["atRisk"]) == (2, 1, 50.0, True)
        assert reads.entity_initiatives(tx, "product:default/pay")[0]["entityDone"] is True
        covered_page = reads.initiative_entities(tx, "late", False, None, 10)
        assert covered_page.total == 0


def test_the_gauge_adds_up_exempted_checks_per_scorecard(store_engine: Engine) -> None:
    ids = [
        insert_entity(
            store_engine, entity_body("Product", f"p{n}", spec={"type": "s", "lifecycle": "production"})
        )
        for n in range(3)
    ]
    with store_engine.begin() as conn:
        conn.execute(
            insert(scorecard_results),
            [
                {"scorecard": card, "entity_id": eid, "entity_ref": f"product:default/p{n}",
                 "kind": "product", "level": "", "level_rank": 0, "score": 0.0, "checks": "[]", "owner": "",
                 "evaluated_at": NOW, "exempted": exempted}
                for n, (eid, card, exempted) in enumerate(zip(ids, ["a", "a", "b"], [2, 1, 0], strict=True))
            ],
        )  # fmt: skip
    reads = SqlMetricsReads(Database(store_engine))
    with reads.reading() as tx:
        assert reads.active_exemptions(tx) == [("a", 3)]


def test_covered_entities_are_rewritten_only_where_they_changed(store_engine: Engine) -> None:
    database = Database(store_engine)
    store, reads = SqlScoringStore(database), SqlScoringReads(database)
    spec = {"type": "s", "lifecycle": "production"}
    a, b = (insert_entity(store_engine, entity_body("Product", name, spec=spec)) for name in ("a", "b"))

    def covered(*rows: tuple[int, str, bool]) -> list[dict[str, Any]]:
        return [
            {
                "initiative": "late",
                "entity_id": eid,
                "entity_ref": f"product:default/{name}",
                "owner": "",
                "done": done,
            }
            for eid, name, done in rows
        ]

    with store.rescoring() as tx:
        store.write_initiatives(
            tx, [_row("late", "2026-09-01")], covered((a, "a", False), (b, "b", False)), NOW
        )
    with store.rescoring() as tx:
        store.write_initiatives(tx, [_row("late", "2026-09-01")], covered((a, "a", True)), NOW)
    with database.reading() as tx:
        page = reads.initiative_entities(tx, "late", None, None, 10)
    assert page.items == [{"entityRef": "product:default/a", "owner": None, "done": True}]
    with store.rescoring() as tx:
        store.write_initiatives(tx, [], [], NOW)  # the initiative is gone: so are its entities
    with store_engine.connect() as conn:
        assert conn.execute(select(initiative_entities)).all() == []
