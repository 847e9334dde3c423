"""Reading ownership gaps: one filtered, keyset-paged list and the count of each type.

Shared by ``GET /api/ownership/gaps`` and the team summary, so both count the same way: the summary
holds every gap type (0 when absent) under the same filters as the items, so each count equals the
number of items of that type a client collects by paging to the end.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, func, select

from catalog_sync.descriptors.relations import COUNTERPARTS
from catalog_sync.errors import QueryError, RefError
from catalog_sync.model import EntityRef
from catalog_sync.store.scoring.ordering import past
from catalog_sync.store.scoring.types import GAP_TYPES, Page
from catalog_sync.store.tables import ownership_gaps, repositories


def owner_keys(text: str) -> list[str]:
    """The owner keys an ``owner`` parameter names: a full ref, or a bare name (a Team or a Group)."""
    try:
        ref = EntityRef.parse(text, default_kind="team")
    except RefError as exc:
        raise QueryError("owner", str(exc)) from exc
    if ":" in text:
        return [ref.key]
    kind, _, rest = ref.key.partition(":")
    other = COUNTERPARTS.get(kind)  # team:ns/x <-> group:ns/x, as scoring resolves a bare owner
    return [ref.key, f"{other}:{rest}" if other else ref.key]


GAP_SORTS: dict[str, ColumnElement[str]] = {
    "type": ownership_gaps.c.type,
    "subject": ownership_gaps.c.subject,
    "owner": func.coalesce(ownership_gaps.c.owner, ""),
    "tier": ownership_gaps.c.tier,
}
"""The columns a gap list can be ordered by; within one value, gaps follow their subject."""


def gaps_page(
    conn: Connection,
    *,
    gap_type: str | None,
    owner: str | None,
    after: tuple[str, str, int] | None,
    limit: int,
    sort: str = "type",
    descending: bool = False,
) -> tuple[Page, dict[str, int]]:
    """Ownership gaps by type and subject, and the count of each type under the same filters.

    ``sort`` (one of ``GAP_SORTS``) orders them by another column, ``descending`` turns the order
    around; ``after`` is then the ``(value, subject, id)`` of the last gap of the previous page.
    """
    if sort not in GAP_SORTS:
        raise QueryError("sort", f"{sort[:60]!r} is not a column to sort by ({', '.join(GAP_SORTS)})")
    conditions: list[ColumnElement[bool]] = []
    if gap_type is not None:
        if gap_type not in GAP_TYPES:
            raise QueryError("type", f"{gap_type!r} is not a gap type ({', '.join(GAP_TYPES)})")
        conditions.append(ownership_gaps.c.type == gap_type)
    if owner is not None:
        conditions.append(ownership_gaps.c.owner.in_(owner_keys(owner)))
    summary = dict.fromkeys(GAP_TYPES, 0)
    counted = select(ownership_gaps.c.type, func.count()).where(*conditions).group_by(ownership_gaps.c.type)
    for gap, count in conn.execute(counted):
        summary[gap] = int(count)
    query = (
        select(ownership_gaps, repositories.c.url.label("repository_url"))
        .select_from(
            ownership_gaps.outerjoin(repositories, repositories.c.id == ownership_gaps.c.repository_id)
        )
        .where(*conditions)
    )
    column = GAP_SORTS[sort]
    if after is not None:
        value, subject, gap_id = after
        query = query.where(
            past(
                ((column, value), (ownership_gaps.c.subject, subject), (ownership_gaps.c.id, gap_id)),
                descending,
            )
        )
    keys = (column, ownership_gaps.c.subject, ownership_gaps.c.id)
    order = [key.desc() if descending else key.asc() for key in keys]
    query = query.add_columns(column.label("sort_value"))
    rows = conn.execute(query.order_by(*order).limit(limit + 1)).all()
    items = [_gap(row) for row in rows[:limit]]
    last = rows[limit - 1] if len(rows) > limit and limit else None
    position = (last.sort_value, last.subject, last.id) if last is not None else None
    return Page(items, sum(summary.values()), position), summary


def _gap(row: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "type": row.type,
        "entityRef": row.entity_ref,
        "kind": row.kind,
        "owner": row.owner,
        "tier": row.tier,
        "detail": row.detail,
    }
    if row.repository_id is not None:
        item["repository"] = {"id": row.repository_id, "name": row.subject, "url": row.repository_url}
    return item


def gap_position(value: Any) -> tuple[str, str, int]:
    """The ``(type, subject, id)`` a gap list continues after, checked: a cursor can say anything."""
    if (
        isinstance(value, list)
        and len(value) == 3
        and isinstance(value[0], str)
        and isinstance(value[1], str)
        and isinstance(value[2], int)
        and not isinstance(value[2], bool)
        and 0 <= value[2] < 2**63
    ):
        return value[0], value[1], value[2]
    raise QueryError("cursor", "malformed cursor")
