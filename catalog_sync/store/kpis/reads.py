"""Reading KPIs: every product's declared KPIs (from the stored descriptors), their values and history.

Declarations are read from the entities themselves, never copied: a target edited in a descriptor is
judged against the stored value by the next read, and a KPI removed from its descriptor is gone from
every answer at once (its value is pruned by the next measuring round). Products with KPIs are found
through the ``search`` rows of ``spec.kpis.name``, so a catalog's other entities cost nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, select

from catalog_sync.descriptors.kpis import kpi_id
from catalog_sync.store.filters import EntityFilter
from catalog_sync.store.kpis.types import DeclaredKpi, KpiState, StoredValue
from catalog_sync.store.scoring.rows import as_utc, chunks
from catalog_sync.store.sqlfilters import matching_ids
from catalog_sync.store.tables import (
    entities,
    kpi_history,
    kpi_values,
    repositories,
    scoring_subjects,
    search,
)

TREND_DAYS = 30
"""Daily points shown beside each KPI (the portal's trend line)."""


def _product_ids(
    conn: Connection, entity_filter: EntityFilter | None, entity_ref: str | None = None
) -> list[int]:
    query = select(search.c.entity_id).where(search.c.key == "spec.kpis.name").distinct()
    if entity_ref is not None:
        query = query.where(
            search.c.entity_id.in_(select(entities.c.id).where(entities.c.ref_key == entity_ref))
        )
    ids = set(conn.execute(query).scalars())
    selected = matching_ids(conn, entity_filter) if entity_filter is not None else None
    if selected is not None:
        ids &= set(conn.execute(select(selected.subquery().c.entity_id)).scalars())
    return sorted(ids)


def _tier(spec: dict[str, Any]) -> int | None:
    tier = spec.get("tier")
    return tier if isinstance(tier, int) and not isinstance(tier, bool) else None


def declared_for(conn: Connection, entity_ref: str) -> list[DeclaredKpi]:
    """The KPIs one product declares now (none when it does not exist)."""
    return _declared(conn, _product_ids(conn, None, entity_ref), facts=False)


def declared_kpis(
    conn: Connection, entity_filter: EntityFilter | None = None, *, facts: bool = False
) -> list[DeclaredKpi]:
    """Every KPI every product declares now, by entity ref and id; ``facts`` adds repositories' facts."""
    return _declared(conn, _product_ids(conn, entity_filter), facts=facts)


def declared_by_ids(conn: Connection, ids: list[int]) -> list[DeclaredKpi]:
    """The KPIs these entities declare now (without facts): what a new value is judged against."""
    return _declared(conn, ids, facts=False)


def _declared(conn: Connection, ids: list[int], *, facts: bool) -> list[DeclaredKpi]:
    out: list[DeclaredKpi] = []
    for part in chunks(ids):
        query = (
            select(
                entities.c.ref_key,
                entities.c.body,
                entities.c.repository_id,
                scoring_subjects.c.owner,
                scoring_subjects.c.capabilities,
            )
            .select_from(entities.outerjoin(scoring_subjects, scoring_subjects.c.entity_id == entities.c.id))
            .where(entities.c.id.in_(part))
        )
        rows = conn.execute(query).all()
        found_facts = _facts(conn, {row.repository_id for row in rows if row.repository_id}) if facts else {}
        for row in rows:
            body = json.loads(row.body)
            spec = body.get("spec") or {}
            kpis = spec.get("kpis")
            if not isinstance(kpis, list):
                continue
            title = (body.get("metadata") or {}).get("title") or (body.get("metadata") or {}).get("name")
            for kpi in kpis:
                if isinstance(kpi, dict) and kpi_id(kpi):
                    out.append(
                        DeclaredKpi(
                            entity_ref=row.ref_key,
                            title=str(title or row.ref_key),
                            kpi=kpi,
                            kpi_id=kpi_id(kpi),
                            owner=row.owner or "",
                            tier=_tier(spec),
                            facts=found_facts.get(row.repository_id),
                            capabilities=_capabilities(row.capabilities),
                        )
                    )
    out.sort(key=lambda d: (d.entity_ref, d.kpi_id))
    return out


def _capabilities(stored: str | None) -> tuple[str, ...]:
    found = json.loads(stored or "[]")
    return tuple(str(ref) for ref in found) if isinstance(found, list) else ()


def _facts(conn: Connection, ids: set[int]) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    for part in chunks(sorted(ids)):
        query = select(repositories.c.id, repositories.c.facts).where(repositories.c.id.in_(part))
        for row in conn.execute(query):
            if row.facts:
                found[row.id] = json.loads(row.facts)
    return found


def stored_values(conn: Connection, refs: Sequence[str]) -> dict[tuple[str, str], StoredValue]:
    """The stored value of each KPI of these products, by (entity ref, KPI id)."""
    found: dict[tuple[str, str], StoredValue] = {}
    for part in chunks(sorted(set(refs))):
        for row in conn.execute(select(kpi_values).where(kpi_values.c.entity_ref.in_(part))):
            found[(row.entity_ref, row.kpi_id)] = StoredValue(
                row.value, as_utc(row.measured_at), as_utc(row.attempted_at), row.error
            )
    return found


def trends(conn: Connection, refs: Sequence[str], today: date) -> dict[tuple[str, str], list[float]]:
    """The last ``TREND_DAYS`` daily values of each KPI of these products, oldest first."""
    first = (today - timedelta(days=TREND_DAYS - 1)).isoformat()
    found: dict[tuple[str, str], list[float]] = {}
    for part in chunks(sorted(set(refs))):
        query = (
            select(kpi_history.c.entity_ref, kpi_history.c.kpi_id, kpi_history.c.value)
            .where(kpi_history.c.entity_ref.in_(part), kpi_history.c.day >= first)
            .order_by(kpi_history.c.day)
        )
        for row in conn.execute(query):
            found.setdefault((row.entity_ref, row.kpi_id), []).append(row.value)
    return found


def kpi_states(
    conn: Connection,
    entity_filter: EntityFilter | None = None,
    *,
    today: date | None = None,
    owner: str | None = None,
) -> list[KpiState]:
    """Declared KPIs with their stored values (and trends when ``today`` is given), for judging."""
    declared = declared_kpis(conn, entity_filter)
    if owner is not None:
        declared = [d for d in declared if d.owner == owner]
    refs = [d.entity_ref for d in declared]
    values = stored_values(conn, refs)
    lines = trends(conn, refs, today) if today is not None else {}
    return [
        KpiState(d, values.get((d.entity_ref, d.kpi_id)), lines.get((d.entity_ref, d.kpi_id), []))
        for d in declared
    ]


def history(conn: Connection, entity_ref: str, ident: str, days: int, today: date) -> list[dict[str, Any]]:
    """Daily values of one KPI over the last ``days`` days (today included), oldest first."""
    first = (today - timedelta(days=days - 1)).isoformat()
    query = (
        select(kpi_history.c.day, kpi_history.c.value)
        .where(
            kpi_history.c.entity_ref == entity_ref,
            kpi_history.c.kpi_id == ident,
            kpi_history.c.day >= first,
        )
        .order_by(kpi_history.c.day)
    )
    return [{"day": row.day, "value": row.value} for row in conn.execute(query)]
