"""Small helpers every scoring store module shares: ``IN (...)`` lists that fit, and UTC moments."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import TypeVar

CHUNK = 900
"""Values per ``IN (...)`` list: below SQLite's oldest limit of 999 bound parameters."""

T = TypeVar("T")


def chunks(values: Sequence[T] | Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    """Split values into lists small enough for one ``IN (...)``."""
    items = list(values)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def as_utc(moment: datetime | None) -> datetime | None:
    """A stored moment as an aware UTC datetime (SQLite gives naive ones back)."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
