"""The opaque cursors of by-query paging.

As in Backstage, a cursor carries the whole query (filter, order, full-text term) plus the position
to continue from, so a client pages with ``cursor`` alone and can never mix one query's position with
another query. The total is counted once, on the first page, and carried along, because counting is
the expensive part of a page. Cursors are base64url-encoded JSON; since a client can send anything,
decoding re-checks every field and refuses a malformed one with ``QueryError("cursor", ...)``.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from catalog_sync.descriptors import load_json
from catalog_sync.errors import QueryError
from catalog_sync.store.filters import (
    EntityFilter,
    FullText,
    OrderField,
    filter_from_json,
    filter_to_json,
    full_text_from_json,
    full_text_to_json,
    order_from_json,
    order_to_json,
)

MAX_CURSOR_LENGTH = 65536
_VERSION = 1
_MAX_SORT_VALUE_LENGTH = 255

Position = tuple[Any, ...]
"""The sort values of one row followed by its entity id: ``(value_1, ..., value_n, id)``."""


@dataclass(frozen=True)
class Cursor:
    """Where a by-query page starts, and the query it belongs to."""

    filter: EntityFilter | None
    order: tuple[OrderField, ...]
    full_text: FullText | None
    position: Position
    is_previous: bool
    first: Position | None
    total_items: int


def encode_cursor(cursor: Cursor) -> str:
    """Serialise a cursor for ``pageInfo``."""
    data = {
        "v": _VERSION,
        "f": filter_to_json(cursor.filter),
        "o": order_to_json(cursor.order),
        "t": full_text_to_json(cursor.full_text),
        "p": list(cursor.position),
        "b": cursor.is_previous,
        "s": list(cursor.first) if cursor.first is not None else None,
        "n": cursor.total_items,
    }
    raw = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str) -> Cursor:
    """Read a cursor sent by a client, refusing anything this module did not write."""
    if not isinstance(text, str) or not text or len(text) > MAX_CURSOR_LENGTH:
        raise QueryError("cursor", "malformed cursor")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        data = load_json(raw.decode())
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise QueryError("cursor", "malformed cursor, it could not be read") from exc
    expected = {"v", "f", "o", "t", "p", "b", "s", "n"}
    if not isinstance(data, dict) or set(data) != expected or data["v"] != _VERSION:
        raise QueryError("cursor", "malformed cursor")
    order = order_from_json(data["o"])
    position = _position(data["p"], len(order))
    first = None if data["s"] is None else _position(data["s"], len(order))
    total = data["n"]
    if not isinstance(data["b"], bool) or not _is_count(total):
        raise QueryError("cursor", "malformed cursor")
    return Cursor(
        filter=filter_from_json(data["f"]),
        order=tuple(order),
        full_text=full_text_from_json(data["t"]),
        position=position,
        is_previous=data["b"],
        first=first,
        total_items=total,
    )


def _position(data: Any, order_fields: int) -> Position:
    if not isinstance(data, list) or len(data) != order_fields + 1:
        raise QueryError("cursor", "malformed cursor position")
    *values, entity_id = data
    for value in values:
        if value is not None and not (isinstance(value, str) and len(value) <= _MAX_SORT_VALUE_LENGTH):
            raise QueryError("cursor", "malformed cursor position")
    if not _is_count(entity_id):
        raise QueryError("cursor", "malformed cursor position")
    return (*values, entity_id)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63
