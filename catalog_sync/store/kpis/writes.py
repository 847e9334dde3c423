"""Writing KPI values: a measuring round's results, a pushed value, and the pruning of what is gone.

The rule that matters lives here: a failed measurement never erases a value. It records its reason
and when it was tried, and keeps the last good value and its time, so a Prometheus outage shows as
``unknown`` with the reason while the portal still shows what was last known. Each successful value
also sets today's point of the KPI's history (a day's last value stays), and points older than
``HISTORY_DAYS`` are dropped by the round, so history is bounded by KPIs x 400 rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select, tuple_

from catalog_sync.store.kpis.types import HISTORY_DAYS, Measurement
from catalog_sync.store.limits import fit
from catalog_sync.store.scoring.rows import chunks
from catalog_sync.store.tables import kpi_history, kpi_pushes, kpi_values

Key = tuple[str, str]
PUSH_RETENTION_DAYS = HISTORY_DAYS
"""Pushed values kept by their ``at``: a replay within this many days is recognised as one."""


def stored_rows(conn: Connection, keys: Sequence[Key]) -> dict[Key, Any]:
    """The stored value rows of these KPIs, by (entity ref, id)."""
    found: dict[Key, Any] = {}
    for part in chunks(keys, 400):
        query = select(kpi_values).where(tuple_(kpi_values.c.entity_ref, kpi_values.c.kpi_id).in_(part))
        for row in conn.execute(query):
            found[(row.entity_ref, row.kpi_id)] = row
    return found


def _delete_keys(conn: Connection, table: Any, keys: Sequence[Key], *extra: Any) -> None:
    for part in chunks(keys, 400):
        conn.execute(delete(table).where(tuple_(table.c.entity_ref, table.c.kpi_id).in_(part), *extra))


def write_measurements(conn: Connection, measurements: Sequence[Measurement], now: datetime) -> None:
    """Store a round's results: values replace values, failures keep them and say why."""
    keys = sorted({(m.entity_ref, m.kpi_id) for m in measurements})
    before = stored_rows(conn, keys)
    rows: list[dict[str, Any]] = []
    for m in measurements:
        old = before.get((m.entity_ref, m.kpi_id))
        good = m.error is None and m.value is not None
        rows.append(
            {
                "entity_ref": m.entity_ref,
                "kpi_id": m.kpi_id,
                "measure": m.measure,
                "value": m.value if good else (old.value if old is not None else None),
                "measured_at": m.at if good else (old.measured_at if old is not None else None),
                "attempted_at": m.at,
                "error": None if good else fit(kpi_values.c.error, m.error or "no value"),
            }
        )
    _delete_keys(conn, kpi_values, keys)
    if rows:
        conn.execute(insert(kpi_values), rows)
    day = now.date().isoformat()
    points = [(r["entity_ref"], r["kpi_id"], r["value"]) for r in rows if r["error"] is None]
    _write_points(conn, points, day)


def _write_points(conn: Connection, points: Sequence[tuple[str, str, float]], day: str) -> None:
    keys = [(ref, ident) for ref, ident, _ in points]
    _delete_keys(conn, kpi_history, keys, kpi_history.c.day == day)
    if points:
        rows = [{"entity_ref": r, "kpi_id": i, "day": day, "value": v} for r, i, v in points]
        conn.execute(insert(kpi_history), rows)


def record_push(
    conn: Connection, entity_ref: str, ident: str, value: float, at: datetime, now: datetime
) -> bool:
    """Keep a pushed value; True when it is new, False for a replay of the same ``at`` (which changes
    nothing when the value is the same, and corrects it when not). The KPI's value is its latest ``at``."""
    where = (kpi_pushes.c.entity_ref == entity_ref, kpi_pushes.c.kpi_id == ident, kpi_pushes.c.at == at)
    replay = conn.execute(select(kpi_pushes.c.value).where(*where)).first()
    if replay is not None and replay.value == value:
        return False
    conn.execute(delete(kpi_pushes).where(*where))
    conn.execute(
        insert(kpi_pushes),
        {"entity_ref": entity_ref, "kpi_id": ident, "at": at, "value": value, "received_at": now},
    )
    latest = conn.execute(
        select(kpi_pushes.c.value, kpi_pushes.c.at)
        .where(kpi_pushes.c.entity_ref == entity_ref, kpi_pushes.c.kpi_id == ident)
        .order_by(kpi_pushes.c.at.desc())
        .limit(1)
    ).one()
    write_measurements(conn, [Measurement(entity_ref, ident, "push", latest.value, None, latest.at)], now)
    day = at.date().isoformat()
    last_of_day = conn.execute(
        select(kpi_pushes.c.value)
        .where(
            kpi_pushes.c.entity_ref == entity_ref,
            kpi_pushes.c.kpi_id == ident,
            kpi_pushes.c.at >= datetime.fromisoformat(day).replace(tzinfo=at.tzinfo),
            kpi_pushes.c.at < datetime.fromisoformat(day).replace(tzinfo=at.tzinfo) + timedelta(days=1),
        )
        .order_by(kpi_pushes.c.at.desc())
        .limit(1)
    ).scalar_one()
    _write_points(conn, [(entity_ref, ident, last_of_day)], day)
    return replay is None


def prune(conn: Connection, declared: set[Key], now: datetime) -> int:
    """Forget the values, history and pushes of KPIs no longer declared, and history past retention;
    returns how many KPIs were forgotten."""
    stored = {
        (row.entity_ref, row.kpi_id)
        for row in conn.execute(select(kpi_values.c.entity_ref, kpi_values.c.kpi_id))
    }
    gone = sorted(stored - declared)
    for table in (kpi_values, kpi_history, kpi_pushes):
        _delete_keys(conn, table, gone)
    oldest = now.date() - timedelta(days=HISTORY_DAYS)
    conn.execute(delete(kpi_history).where(kpi_history.c.day < oldest.isoformat()))
    conn.execute(delete(kpi_pushes).where(kpi_pushes.c.at < now - timedelta(days=PUSH_RETENTION_DAYS)))
    return len(gone)
