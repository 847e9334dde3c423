"""Flattening an entity envelope into ``search`` rows, by Backstage's own rules.

Pure and below the store: reconcile builds an entity's rows in the worker process that parsed it, and
the store builds an orphan's rows when it marks one; both need the same function without either
importing the other.

Filters, facets and ordering all read the ``search`` table, so a Backstage client must find there the
same keys and values that Backstage's catalog would have written: the rows are built exactly as
Backstage's ``buildEntitySearch`` builds them:

- every leaf of the envelope becomes one row whose key is its dotted path (``spec.owner``,
  ``metadata.annotations.backstage.io/orphan``), lower-cased; objects inside arrays flatten the same
  way (``spec.kpis.name``, one row per element);
- each element of an array of scalars is a row under the array's key, and each *string* element also
  gives a row ``<key>.<element>`` = ``true``, so that "has tag a AND tag b" can be written as two
  conditions (``metadata.tags.a,metadata.tags.b``) where ``metadata.tags=a,metadata.tags=b`` means
  "either";
- ``value`` is lower-cased for case-insensitive matching, ``original_value`` keeps the spelling for
  facets; booleans read ``true``/``false``, numbers as JavaScript prints them; a null leaf gives a row
  with no value (so a bare key still tests existence);
- ``relations``, ``status``, ``attachments`` and ``metadata.etag`` are never indexed (relations are
  answered from the ``relations`` table); ``metadata.name`` and ``metadata.namespace`` are always
  present, the namespace as ``default`` when left out; ``metadata.uid`` is indexed when known;
- a key longer than ``MAX_KEY_LENGTH`` is dropped, and a value longer than ``MAX_VALUE_LENGTH`` is
  kept as a row *without* a value: the key still exists but its value cannot be matched (indexes on
  huge values are costly, and Backstage does the same);
- duplicate ``(key, value)`` rows are written once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

MAX_KEY_LENGTH = 200
MAX_VALUE_LENGTH = 200

SearchRow = tuple[str, str | None, str | None]
"""``(key, value, original_value)``: key and value lower-cased, original_value as written."""

_SKIPPED_PATHS = frozenset(
    {
        "attachments",
        "relations",
        "status",
        "metadata.name",
        "metadata.namespace",
        "metadata.uid",
        "metadata.etag",
    }
)


def build_search_rows(body: Mapping[str, Any], *, uid: str | None = None) -> list[SearchRow]:
    """Give the ``search`` rows of one entity, so filters match what Backstage's catalog would match.

    ``uid`` is indexed as ``metadata.uid`` when given (or when the envelope carries one), so that the
    filter ``metadata.uid=...`` works as in Backstage.
    """
    metadata = body.get("metadata")
    meta: Mapping[str, Any] = metadata if isinstance(metadata, Mapping) else {}
    raw = _traverse(body)
    raw.append(("metadata.name", meta.get("name")))
    raw.append(("metadata.namespace", meta.get("namespace") or "default"))
    uid_value = uid if uid is not None else meta.get("uid")
    if uid_value is not None:
        raw.append(("metadata.uid", uid_value))

    rows: list[SearchRow] = []
    seen: set[tuple[str, str | None]] = set()
    for raw_key, raw_value in raw:
        row = _to_row(raw_key, raw_value)
        if row is None:
            continue
        identity = (row[0], row[1])
        if identity not in seen:
            seen.add(identity)
            rows.append(row)
    return rows


def case_conflicting_keys(body: Mapping[str, Any]) -> list[str]:
    """Name the keys that differ only in case (``spec.foo`` and ``spec.Foo``).

    Backstage refuses such an entity because its search rows would merge the two; validators call
    this to report the problem on the descriptor instead of silently merging.
    """
    spellings: dict[str, set[str]] = {}
    for key, _ in _traverse(body):
        spellings.setdefault(key.lower(), set()).add(key)
    return sorted(lower for lower, keys in spellings.items() if len(keys) > 1)


def _traverse(root: Any) -> list[tuple[str, Any]]:
    """Every ``(path, leaf)`` of the envelope, depth first, as Backstage walks it.

    A plain recursive function filling a list: this runs for every entity of every sync, and nested
    generators cost several times more.
    """
    leaves: list[tuple[str, Any]] = []
    seen_synthetic: set[str] = set()

    def visit(path: str, current: Any) -> None:
        if path in _SKIPPED_PATHS:
            return
        if isinstance(current, dict) or (not isinstance(current, str) and isinstance(current, Mapping)):
            for key, value in current.items():
                visit(f"{path}.{key}" if path else str(key), value)
        elif isinstance(current, list | tuple):
            for item in current:
                visit(path, item)
                if isinstance(item, str):
                    synthetic = f"{path}.{item}"
                    lowered = synthetic.lower()
                    if lowered not in seen_synthetic:
                        seen_synthetic.add(lowered)
                        leaves.append((synthetic, True))
        else:
            leaves.append((path, current))

    visit("", root)
    return leaves


def _to_row(raw_key: str, raw_value: Any) -> SearchRow | None:
    """Turn one leaf into a row, or None when its key is too long to be indexed."""
    key = raw_key.lower()
    if len(key) > MAX_KEY_LENGTH:
        return None
    if raw_value is None:
        return key, None, None
    original = _stringify(raw_value)
    value = original.lower()
    if len(value) > MAX_VALUE_LENGTH:
        return key, None, None
    return key, value, original


def _stringify(value: Any) -> str:
    """Print a scalar as JavaScript's ``String()`` does, so values equal Backstage's."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    if isinstance(value, str):
        return value
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)
