"""The KPI store on SQLite and PostgreSQL: values kept through failures, judged against the current
descriptor, pushed values idempotent by ``at``, removed KPIs forgotten, history bounded."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, select, update

from catalog_sync.descriptors.kpis import judge
from catalog_sync.store.base import Database
from catalog_sync.store.kpis import HISTORY_DAYS, KpiState, Measurement, SqlKpiStore
from catalog_sync.store.tables import entities, kpi_history, kpi_pushes, scoring_subjects
from tests.unit.store.helpers import entity_body, insert_entity

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
PAY = "product:default/payments"
SUCCESS = {
    "name": "Payment success rate",
    "category": "customer-satisfaction",
    "target": 98.5,
    "measure": {"prometheus": "sum(up)"},
}
LEAD = {
    "name": "Lead time",
    "category": "speed-to-market",
    "target": 3,
    "direction": "at-most",
    "measure": {"git": "lead-time-for-changes"},
}
NPS = {
    "name": "NPS",
    "id": "nps",
    "category": "customer-satisfaction",
    "target": 40,
    "measure": {"push": True},
}
DECLARED = {"name": "Revenue share", "category": "business-alignment", "target": "top 3"}


def _product(engine: Engine, kpis: list[dict[str, Any]], name: str = "payments", owner: str = "pay") -> int:
    body = entity_body(
        "Product", name, spec={"type": "service", "lifecycle": "production", "tier": 1, "kpis": kpis}
    )
    entity_id = insert_entity(engine, body, relations_out=[("ownedBy", f"team:default/{owner}")])
    with engine.begin() as conn:
        conn.execute(
            insert(scoring_subjects).values(
                entity_id=entity_id, ref_key=f"product:default/{name}", kind="product", etag="e", live=True,
                owner=f"team:default/{owner}",
            )
        )  # fmt: skip
    return entity_id


def _edit(engine: Engine, entity_id: int, kpis: list[dict[str, Any]]) -> None:
    with engine.begin() as conn:
        body = json.loads(
            conn.execute(select(entities.c.body).where(entities.c.id == entity_id)).scalar_one()
        )
        body["spec"]["kpis"] = kpis
        conn.execute(update(entities).where(entities.c.id == entity_id).values(body=json.dumps(body)))


def _states(store: SqlKpiStore, database: Database, **kwargs: Any) -> dict[str, KpiState]:
    with database.reading() as tx:
        return {s.declared.kpi_id: s for s in store.states(tx, **kwargs)}


def _status(state: KpiState) -> str:
    stored = state.stored
    return judge(state.declared.kpi, stored.value if stored else None, stored.error if stored else None)


def test_every_declared_kpi_is_listed_with_its_status(store_engine: Engine) -> None:
    _product(store_engine, [SUCCESS, LEAD, NPS, DECLARED])
    database = Database(store_engine)
    store = SqlKpiStore(database)
    declared = store.declared()
    assert [(d.entity_ref, d.kpi_id, d.owner, d.tier) for d in declared] == [
        (PAY, "lead-time", "team:default/pay", 1),
        (PAY, "nps", "team:default/pay", 1),
        (PAY, "payment-success-rate", "team:default/pay", 1),
        (PAY, "revenue-share", "team:default/pay", 1),
    ]
    store.write(
        [
            Measurement(PAY, "payment-success-rate", "prometheus", 99.1, None, NOW),
            Measurement(PAY, "lead-time", "git", 4.5, None, NOW),
        ],
        {(d.entity_ref, d.kpi_id) for d in declared},
        NOW,
    )
    states = _states(store, database)
    assert {ident: _status(s) for ident, s in states.items()} == {
        "payment-success-rate": "met",
        "lead-time": "missed",  # at-most 3 days
        "nps": "unknown",  # nothing pushed yet
        "revenue-share": "declared",
    }


def test_a_failed_measurement_keeps_the_last_good_value_and_says_why(store_engine: Engine) -> None:
    _product(store_engine, [SUCCESS])
    database = Database(store_engine)
    store = SqlKpiStore(database)
    keys = {(PAY, "payment-success-rate")}
    store.write([Measurement(PAY, "payment-success-rate", "prometheus", 99.1, None, NOW)], keys, NOW)
    later = NOW + timedelta(minutes=5)
    failure = Measurement(
        PAY, "payment-success-rate", "prometheus", None, "Prometheus cannot be reached", later
    )
    store.write([failure], keys, later)
    state = _states(store, database)["payment-success-rate"]
    assert state.stored is not None
    assert (state.stored.value, state.stored.measured_at, state.stored.attempted_at) == (99.1, NOW, later)
    assert state.stored.error == "Prometheus cannot be reached"
    assert _status(state) == "unknown"
    with database.reading() as tx:
        assert store.history(tx, PAY, "payment-success-rate", 7, NOW.date()) == [
            {"day": NOW.date().isoformat(), "value": 99.1}
        ]


def test_an_edited_target_is_judged_at_once_and_a_removed_kpi_is_forgotten(store_engine: Engine) -> None:
    entity_id = _product(store_engine, [SUCCESS, LEAD])
    database = Database(store_engine)
    store = SqlKpiStore(database)
    keys = {(PAY, "payment-success-rate"), (PAY, "lead-time")}
    store.write(
        [
            Measurement(PAY, "payment-success-rate", "prometheus", 99.1, None, NOW),
            Measurement(PAY, "lead-time", "git", 2.0, None, NOW),
        ],
        keys,
        NOW,
    )
    assert _status(_states(store, database)["payment-success-rate"]) == "met"
    _edit(store_engine, entity_id, [{**SUCCESS, "target": 99.5}])
    states = _states(store, database)
    assert list(states) == ["payment-success-rate"]
    assert _status(states["payment-success-rate"]) == "missed"
    forgotten = store.write([], {(d.entity_ref, d.kpi_id) for d in store.declared()}, NOW)
    assert forgotten == 1
    with store_engine.connect() as conn:
        assert set(conn.execute(select(kpi_history.c.kpi_id)).scalars()) == {"payment-success-rate"}


def test_pushed_values_are_idempotent_per_at_and_the_latest_at_is_the_value(store_engine: Engine) -> None:
    _product(store_engine, [NPS])
    database = Database(store_engine)
    store = SqlKpiStore(database)
    monday = NOW - timedelta(days=2)
    assert store.push(PAY, "nps", 42.0, monday, NOW) is True
    assert store.push(PAY, "nps", 42.0, monday, NOW) is False  # a replay
    assert store.push(PAY, "nps", 35.0, monday - timedelta(days=7), NOW) is True  # an older survey
    state = _states(store, database)["nps"]
    assert state.stored is not None
    assert state.stored.value == 42.0
    assert _status(state) == "met"
    with store_engine.connect() as conn:
        assert conn.execute(select(kpi_pushes.c.value).order_by(kpi_pushes.c.at)).scalars().all() == [
            35.0,
            42.0,
        ]
    with database.reading() as tx:
        days = [p["day"] for p in store.history(tx, PAY, "nps", 30, NOW.date())]
    assert days == sorted(days)
    assert (monday - timedelta(days=7)).date().isoformat() in days
    assert store.declared_one(PAY, "nps") is not None
    assert store.declared_one(PAY, "nope") is None
    assert store.declared_one("product:default/nobody", "nps") is None


def test_history_keeps_400_days_and_states_filter_by_owner(store_engine: Engine) -> None:
    _product(store_engine, [SUCCESS])
    _product(store_engine, [SUCCESS], name="search", owner="find")
    database = Database(store_engine)
    store = SqlKpiStore(database)
    old = (NOW - timedelta(days=HISTORY_DAYS + 1)).date().isoformat()
    with store_engine.begin() as conn:
        conn.execute(
            insert(kpi_history).values(entity_ref=PAY, kpi_id="payment-success-rate", day=old, value=1.0)
        )
    keys = {(d.entity_ref, d.kpi_id) for d in store.declared()}
    store.write([Measurement(PAY, "payment-success-rate", "prometheus", 99.0, None, NOW)], keys, NOW)
    with store_engine.connect() as conn:
        assert conn.execute(select(kpi_history.c.day)).scalars().all() == [NOW.date().isoformat()]
    with database.reading() as tx:
        mine = store.states(tx, owner="team:default/find", today=NOW.date())
    assert [s.declared.entity_ref for s in mine] == ["product:default/search"]


def test_one_round_per_interval_whoever_asks(store_engine: Engine) -> None:
    store = SqlKpiStore(Database(store_engine))
    assert store.claim_round(NOW, 300) is True
    assert store.claim_round(NOW + timedelta(seconds=10), 300) is False
    assert store.claim_round(NOW + timedelta(seconds=300), 300) is True
