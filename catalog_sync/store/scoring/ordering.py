"""Keyset paging in any column's order, for the lists people sort (ownership gaps, scorecard results).

A page ends at a position, the values of the order's keys on its last row; the next page holds the
rows past it. Every key goes the same way (all ascending or all descending), so "past" is one
comparison per key, and the last key is unique, so no row is shown twice or skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, or_

from catalog_sync.store.tables import scorecard_results

RESULT_SORTS: dict[str, ColumnElement[Any]] = {
    "entity": scorecard_results.c.entity_ref,
    "owner": scorecard_results.c.owner,
    "level": scorecard_results.c.level_rank,
    "score": scorecard_results.c.score,
}
"""The columns a scorecard's results can be ordered by; within one value, results follow their ref."""


def past(position: Sequence[tuple[ColumnElement[Any], Any]], descending: bool) -> ColumnElement[bool]:
    """The rows after ``position`` (each key with its value on the last row shown) in the keys' order."""
    conditions: list[ColumnElement[bool]] = []
    for index, (key, bound) in enumerate(position):
        equal = [earlier == value for earlier, value in position[:index]]
        conditions.append(and_(*equal, key < bound if descending else key > bound))
    return or_(*conditions)
