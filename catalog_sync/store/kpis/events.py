"""The KPI event: a KPI that a new value makes ``missed``, read just before the value is written.

A KPI is announced when it was not missed before (judged against its current target, as the API
judges it) and is now; a failed measurement keeps the last value, so it never makes a KPI missed.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, select

from catalog_sync.descriptors.kpis import judge
from catalog_sync.store.kpis.reads import declared_by_ids
from catalog_sync.store.kpis.types import Measurement
from catalog_sync.store.kpis.writes import stored_rows
from catalog_sync.store.outbox.types import Event
from catalog_sync.store.scoring.rows import chunks
from catalog_sync.store.tables import entities


def kpi_events(conn: Connection, measurements: Sequence[Measurement]) -> list[Event]:
    """``kpi_missed`` for each KPI these measurements turn missed (call before writing them)."""
    keys = sorted({(m.entity_ref, m.kpi_id) for m in measurements})
    if not keys:
        return []
    before = stored_rows(conn, keys)
    ids: dict[str, int] = {}
    for part in chunks(sorted({ref for ref, _ in keys})):
        query = select(entities.c.id, entities.c.ref_key).where(entities.c.ref_key.in_(part))
        ids.update({row.ref_key: row.id for row in conn.execute(query)})
    declared = {(d.entity_ref, d.kpi_id): d for d in declared_by_ids(conn, sorted(ids.values()))}
    events = []
    for m in measurements:
        kpi = declared.get((m.entity_ref, m.kpi_id))
        if kpi is None:
            continue
        old = before.get((m.entity_ref, m.kpi_id))
        was = judge(kpi.kpi, old.value, old.error) if old is not None else "unknown"
        good = m.error is None and m.value is not None
        value = m.value if good else (old.value if old is not None else None)
        now = judge(kpi.kpi, value, None if good else (m.error or "no value"))
        if now != "missed" or was == "missed":
            continue
        name = kpi.kpi.get("name") or kpi.kpi_id
        events.append(
            Event(
                type="kpi_missed",
                subject=f"{m.entity_ref}\x00{m.kpi_id}",
                entity_id=ids.get(m.entity_ref),
                entity_ref=m.entity_ref,
                owner=kpi.owner or None,
                summary=f"KPI {name} of {m.entity_ref} is missed: {value} against a target of "
                f"{kpi.kpi.get('target')}",
                detail={
                    "kpi": m.kpi_id,
                    "name": name,
                    "category": kpi.kpi.get("category"),
                    "value": value,
                    "target": kpi.kpi.get("target"),
                    "direction": kpi.kpi.get("direction", "at-least"),
                    "unit": kpi.kpi.get("unit"),
                },
            )
        )
    return events
