"""Which paths are descriptor files: ``descriptors.patterns`` globs, where ``**`` crosses folders.

Compiled once into one regular expression, because the scanner tests every path of every tree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache


def _translate(pattern: str) -> str:
    """A glob as a regex: ``**/`` is any number of folders, ``*`` and ``?`` stay inside one."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:[^/]+/)*")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(pattern[i]))
                i += 1
            else:
                body = pattern[i + 1 : end].replace("\\", "\\\\")
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out)


@lru_cache(maxsize=64)
def compile_patterns(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One regex matching any of the globs, anchored at both ends of a repository-relative path."""
    if not patterns:
        return re.compile(r"(?!)")
    return re.compile("^(?:" + "|".join(_translate(p.lstrip("/")) for p in patterns) + ")$")


def matches(path: str, patterns: Iterable[str]) -> bool:
    """True when the repository-relative ``path`` is a descriptor under ``patterns``."""
    return compile_patterns(tuple(patterns)).match(path) is not None
