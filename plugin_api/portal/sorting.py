"""Sortable tables without JavaScript: each column header is a link that asks the server for the list
in that order (``?sort=gaps&order=desc``), and the server sorts.

The ``sort`` parameter must name one of the table's columns and ``order`` be ``asc`` or ``desc``; any
other value answers 400 naming the parameter and the columns there are, never a silent default. A
header shows its column's current direction with ``aria-sort`` and an arrow, and its link turns the
order around.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import request, url_for

from catalog_sync.errors import QueryError

T = TypeVar("T")
ORDERS = ("asc", "desc")


@dataclass(frozen=True)
class Sort:
    """The order a table is shown in, and the columns it can be sorted by."""

    key: str
    descending: bool
    columns: tuple[str, ...]

    @property
    def order(self) -> str:
        """``asc`` or ``desc``."""
        return "desc" if self.descending else "asc"


def sort_arg(columns: Sequence[str], default: str, *, descending: bool = False) -> Sort:
    """The ``sort`` and ``order`` parameters of this request, checked against ``columns``."""
    key = request.args.get("sort", "").strip() or default
    if key not in columns:
        raise QueryError("sort", f"{key[:60]!r} is not a column to sort by ({', '.join(columns)})")
    raw = request.args.get("order", "").strip()
    if raw and raw not in ORDERS:
        raise QueryError("order", f"{raw[:60]!r} is not an order (asc or desc)")
    wanted = raw == "desc" if raw else (descending if key == default else False)
    return Sort(key, wanted, tuple(columns))


def sort_rows(
    rows: Iterable[T], sort: Sort, keys: Mapping[str, Callable[[T], Any]], tie: Callable[[T], Any]
) -> list[T]:
    """``rows`` in the asked order; rows that tie keep the order of ``tie`` (ascending) either way."""
    ordered = sorted(rows, key=tie)
    return sorted(ordered, key=keys[sort.key], reverse=sort.descending)


def sort_url(sort: Sort, key: str) -> str:
    """The current page's address sorted by ``key``: the other direction when it is already so."""
    order = ("asc" if sort.descending else "desc") if key == sort.key else "asc"
    params: dict[str, Any] = {
        name: request.args.getlist(name) for name in request.args if name not in ("sort", "order", "cursor")
    }
    params.update(sort=key, order=order)
    return url_for(str(request.endpoint), **(request.view_args or {}), **params)


def aria_sort(sort: Sort, key: str) -> str:
    """The header's ``aria-sort``: ``ascending``, ``descending`` or ``none``."""
    if key != sort.key:
        return "none"
    return "descending" if sort.descending else "ascending"
