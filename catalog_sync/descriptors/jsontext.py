"""Reading JSON from outside (request bodies, cursors) with its nesting bounded before it is parsed.

Python's ``json`` recurses once per level of nesting: a body of 400,000 ``[`` made it raise
``RecursionError`` (an answer of 500), and anything that walks a parsed value recursively afterwards
(validation, serialisation) fails on much less. So the depth is measured first, by a scan that
looks at brackets outside strings only and stops at the first level too many, and a document nested
deeper than ``MAX_JSON_DEPTH`` is refused with ``JsonTooDeepError``, a ``ValueError`` like every other
reason JSON cannot be read, so callers refuse it the way they refuse malformed JSON.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_JSON_DEPTH = 64
"""The deepest nesting accepted: the same bound as descriptor files (``LoadLimits.max_depth``); an
entity or request body is a handful of levels deep."""

_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"?', re.DOTALL)
"""A string, or one left open up to the end: matched there at once, whereas a closing quote required
would make each quote escaped inside it start a scan to the end anew (quadratic; a body of megabytes
held a thread for hours). The parser refuses an open string before anything after it."""
_NOT_BRACKETS = re.compile(rb"[^\[\]{}]+")
_OPENERS = frozenset(b"[{")


class JsonTooDeepError(ValueError):
    """A JSON document nests arrays and objects deeper than allowed; refused before parsing."""


def nesting_exceeds(data: bytes, max_depth: int) -> bool:
    """Whether arrays and objects in ``data`` nest deeper than ``max_depth`` (strings ignored)."""
    if data.count(b"[") + data.count(b"{") <= max_depth:
        return False
    brackets = _NOT_BRACKETS.sub(b"", _STRINGS.sub(b"", data))
    depth = 0
    for byte in brackets:
        if byte in _OPENERS:
            depth += 1
            if depth > max_depth:
                return True
        else:
            depth -= 1
    return False


def load_json(data: bytes | str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse JSON whose nesting is at most ``max_depth``; ``ValueError`` (or ``UnicodeDecodeError``)
    for anything that cannot be read, ``JsonTooDeepError`` for a document nested too deeply."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if nesting_exceeds(raw, max_depth):
        raise JsonTooDeepError(f"the JSON nests arrays and objects deeper than {max_depth} levels")
    return json.loads(data)
