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

_ESCAPES = re.compile(rb"\\.", re.DOTALL)
"""An escape (``\\"`` say) of a string, removed first: every quote left then opens or closes a string,
and the strings are every other piece between quotes (one left open runs to the end). A few passes of C
over the bytes, whereas a pattern matching the strings one by one took six times as long as parsing
(60 ms for a webhook of 1.5 MB, most of its answer). A backslash outside a string is no JSON: the
parser refuses the document where it stands, and the nesting before it is measured as ever."""
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))
"""The bytes ``bytes.translate`` deletes, leaving the brackets."""
_OPENERS = frozenset(b"[{")


class JsonTooDeepError(ValueError):
    """A JSON document nests arrays and objects deeper than allowed; refused before parsing."""


def nesting_exceeds(data: bytes, max_depth: int) -> bool:
    """Whether arrays and objects in ``data`` nest deeper than ``max_depth`` (strings ignored)."""
    if data.count(b"[") + data.count(b"{") <= max_depth:
        return False
    outside_strings = b"".join(_ESCAPES.sub(b"", data).split(b'"')[::2])
    brackets = outside_strings.translate(None, _NOT_BRACKETS)
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
