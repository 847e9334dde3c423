"""Page sizes and the opaque cursors of our own lists (``/api/repositories``, ``/api/sync/runs``, ...).

A cursor carries the list it belongs to, the position to continue after and the filters of the first
page, so a client pages with ``cursor`` alone and one list's cursor is refused by another. Cursors are
base64url JSON; a client can send anything, so decoding checks every field and refuses the rest with
a ``QueryError`` (answered 400).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from typing import Any

from catalog_sync.config import ApiSettings
from catalog_sync.descriptors import load_json
from catalog_sync.errors import QueryError
from catalog_sync.store.filters import EntityFilter, parse_filters
from plugin_api.state import state

MAX_CURSOR_LENGTH = 4096


def page_size(requested: int | None, settings: ApiSettings) -> int:
    """The page size to serve: the default when none is asked, never more than the maximum.

    A larger request is served at the maximum rather than refused: pages are cursor-linked, so the
    client still reaches every item, and clients written for other limits keep working.
    """
    if requested is None:
        return min(settings.default_page_size, settings.max_page_size)
    if requested < 0:
        raise QueryError("limit", "the limit must not be negative")
    return min(requested, settings.max_page_size)


def request_filters(params: Iterable[str]) -> EntityFilter | None:
    """The ``filter`` parameters of a request, their statements bounded together by
    ``api.max_filter_conditions``."""
    return parse_filters(params, max_conditions=state().settings.api.max_filter_conditions)


def encode_cursor(kind: str, state: Mapping[str, Any]) -> str:
    """An opaque cursor for list ``kind`` holding ``state`` (the position and the filters)."""
    raw = json.dumps({"k": kind, **state}, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(kind: str, text: str, expected: Mapping[str, type | tuple[type, ...]]) -> dict[str, Any]:
    """Read a cursor of list ``kind``; ``expected`` maps each key to its allowed types."""
    if not text or len(text) > MAX_CURSOR_LENGTH:
        raise QueryError("cursor", "malformed cursor")
    try:
        data = load_json(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise QueryError("cursor", "malformed cursor, it could not be read") from exc
    if not isinstance(data, dict) or data.get("k") != kind:
        raise QueryError("cursor", f"this cursor does not belong to the {kind} list")
    data.pop("k")
    if set(data) != set(expected):
        raise QueryError("cursor", "malformed cursor")
    for key, types in expected.items():
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, types):
            raise QueryError("cursor", "malformed cursor")
        if isinstance(value, int) and not 0 <= value < 2**63:
            raise QueryError("cursor", "malformed cursor")
        if isinstance(value, str) and len(value) > 1024:
            raise QueryError("cursor", "malformed cursor")
    return data


def page_document(items: list[Any], total: int, next_cursor: str | None) -> dict[str, Any]:
    """The ``{items, totalItems, pageInfo}`` document every list of ours answers."""
    page_info: dict[str, str] = {}
    if next_cursor:
        page_info["nextCursor"] = next_cursor
    return {"items": items, "totalItems": total, "pageInfo": page_info}
