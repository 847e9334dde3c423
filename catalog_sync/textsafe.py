"""Text from repositories made safe to print on a terminal: control characters shown, never obeyed.

File names, YAML keys and values come from whoever can push to a repository. Printed raw, a newline in
a file name forges a problem line (``ok.yaml:1:1: error: ...``) that CI or the pre-commit hook then
believes, an ESC sequence recolours, moves or retitles a developer's terminal, and a bidi override
makes a path read differently from the bytes it names. So every CLI line that carries such text goes
through ``escape_controls``: C0 controls, DEL, C1 controls, the Unicode line and paragraph separators,
the bidi embeddings, overrides, isolates and marks, and lone surrogates (an undecodable byte of a file
name, which would otherwise crash the write) are shown as visible escapes (``\\n``, ``\\x1b``,
``\\u202e``, ``\\udcff``). Everything else, including ordinary non-ASCII text, is left as it is.

A backslash is not doubled: the escapes only have to make the text harmless and readable, and doubling
would change every message that quotes a regular expression. JSON output needs none of this:
``json.dumps`` escapes control characters (and, as called here, everything outside ASCII) by itself.
"""

from __future__ import annotations

import re

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_UNSAFE = re.compile(
    "["
    "\x00-\x1f\x7f-\x9f"  # C0, DEL, C1
    "\u061c\u200e\u200f"  # Arabic letter mark, left-to-right and right-to-left marks
    "\u2028\u2029"  # line and paragraph separators
    "\u202a-\u202e"  # bidi embeddings and overrides
    "\u2066-\u2069"  # bidi isolates
    "\ud800-\udfff"  # lone surrogates: bytes of a file name that are not UTF-8
    "]"
)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def escape_controls(text: str) -> str:
    """``text`` with every character that could steer a terminal or split a line shown as an escape."""
    return _UNSAFE.sub(_escape, text)
