"""Totals of scorecard results kept beside them, so reading a summary costs a few rows, not a scan.

The API's scorecard summaries, the daily history and the Prometheus gauges all need per-scorecard
totals: entities and score sums per level, and per owning team. Computed from ``scorecard_results``
they cost a scan of every result (wide rows, checks included) at every scrape: about a second at
100,000 entities. So the scorer keeps them in ``scorecard_level_summary`` and
``scorecard_owner_summary``, in the transaction that writes the results: a full re-score empties both
(``writes.clear_all``) and writes the totals of what it wrote; an incremental one applies what
``catalog_sync.scoring.summary`` gathered (counted out for each re-scored or vanished entity, counted
in for what it adds now). Scores are summed in tenths, so after every re-score each row equals a
GROUP BY over ``scorecard_results``, to the unit. ``scoring_capabilities`` (live products per
capability and owning team, for the capability-overlap insight and a team's shared capabilities) is
kept the same way, from ``EntityOutcome.served`` and ``ScoredBefore.served``.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, Table, bindparam, delete, insert, select

from catalog_sync.store.scoring.rows import chunks
from catalog_sync.store.scoring.types import Served, Totals
from catalog_sync.store.tables import scorecard_level_summary, scorecard_owner_summary, scoring_capabilities


def average(score_tenths: int, count: int, digits: int) -> float | None:
    """The average score of ``count`` results whose scores add up to ``score_tenths``; None for none."""
    return round(score_tenths / (10 * count), digits) if count else None


def apply_summaries(conn: Connection, levels: Totals, owners: Totals, served: Served) -> bool:
    """Apply a re-score's changes to the summaries and to the products per capability and team (a row
    whose count drops to 0 is deleted); answer whether any total moved."""
    moved_levels = _apply(conn, scorecard_level_summary, "level", levels)
    moved_owners = _apply(conn, scorecard_owner_summary, "owner", owners)
    moved_served = apply_served(conn, served)
    return moved_levels or moved_owners or moved_served


def _apply(conn: Connection, table: Table, column: str, changes: Totals) -> bool:
    moved = {key: delta for key, delta in changes.items() if delta != [0, 0]}
    if not moved:
        return False
    current = {
        (card, second): (count, score) for card, second, count, score in _read(conn, table, column, moved)
    }
    rows = []
    for (card, second), (count, score) in moved.items():
        before_count, before_score = current.get((card, second), (0, 0))
        after = before_count + count
        if after > 0:
            rows.append(
                {"scorecard": card, column: second, "entities": after, "score_tenths": before_score + score}
            )
    replaced = [{"k_card": card, "k_second": second} for card, second in moved if (card, second) in current]
    if replaced:
        conn.execute(
            delete(table).where(
                table.c.scorecard == bindparam("k_card"), table.c[column] == bindparam("k_second")
            ),
            replaced,
        )
    if rows:
        conn.execute(insert(table), rows)
    return True


def _read(
    conn: Connection, table: Table, column: str, keys: Iterable[tuple[str, str]]
) -> list[tuple[str, str, int, int]]:
    wanted = set(keys)
    cards = sorted({card for card, _ in wanted})
    found = []
    for part in chunks(sorted({second for _, second in wanted})):
        query = select(table.c.scorecard, table.c[column], table.c.entities, table.c.score_tenths).where(
            table.c.scorecard.in_(cards), table.c[column].in_(part)
        )
        found += [
            (row[0], row[1], int(row[2]), int(row[3]))
            for row in conn.execute(query)
            if (row[0], row[1]) in wanted
        ]
    return found


def level_totals(conn: Connection, scorecard: str | None = None) -> list[tuple[str, str, int, int]]:
    """``(scorecard, level, entities, score tenths)`` of every level with results (of one scorecard)."""
    table = scorecard_level_summary
    query = select(table.c.scorecard, table.c.level, table.c.entities, table.c.score_tenths)
    if scorecard is not None:
        query = query.where(table.c.scorecard == scorecard)
    return [(row[0], row[1], int(row[2]), int(row[3])) for row in conn.execute(query)]


def owner_totals(conn: Connection) -> list[tuple[str, str, int, int]]:
    """``(scorecard, owner, entities, score tenths)`` of every owner with results."""
    table = scorecard_owner_summary
    query = select(table.c.scorecard, table.c.owner, table.c.entities, table.c.score_tenths)
    return [(row[0], row[1], int(row[2]), int(row[3])) for row in conn.execute(query)]


def apply_served(conn: Connection, changes: Served) -> bool:
    """Apply a re-score's changes to ``scoring_capabilities`` (a row whose count drops to 0 is
    deleted); answer whether any count moved."""
    moved = {key: delta for key, delta in changes.items() if delta}
    if not moved:
        return False
    table = scoring_capabilities
    current: dict[tuple[str, str], int] = {}
    for part in chunks(sorted({capability for capability, _ in moved})):
        query = select(table.c.capability, table.c.owner, table.c.products).where(
            table.c.capability.in_(part)
        )
        current.update({(row[0], row[1]): int(row[2]) for row in conn.execute(query)})
    replaced = [{"k_cap": cap, "k_owner": owner} for cap, owner in moved if (cap, owner) in current]
    if replaced:
        conn.execute(
            delete(table).where(
                table.c.capability == bindparam("k_cap"), table.c.owner == bindparam("k_owner")
            ),
            replaced,
        )
    rows = [
        {"capability": cap, "owner": owner, "products": current.get((cap, owner), 0) + delta}
        for (cap, owner), delta in sorted(moved.items())
        if current.get((cap, owner), 0) + delta > 0
    ]
    if rows:
        conn.execute(insert(table), rows)
    return True
