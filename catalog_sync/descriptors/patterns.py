"""Which paths are descriptor files: ``descriptors.patterns`` globs, where ``**`` crosses folders.

Compiled once into one regular expression, because the scanner tests every path it lists. Which
*folders* can hold a match is answered apart (``folder_filter``), so the scanner never opens a folder
that no pattern can reach: ``.catalog/*.yaml`` needs ``.catalog`` only, not the whole repository.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache

_ANY = "**"


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


@lru_cache(maxsize=64)
def folder_filter(patterns: tuple[str, ...]) -> Callable[[str], bool]:
    """A test of a folder path (``"a/b/"``): may a file below it match one of the globs?

    Never says no to a folder that holds a match (the scanner would miss a descriptor); may say yes to
    one that holds none. Each glob is matched folder name by folder name: ``**`` takes any number of
    names, other parts one name each. A part whose match could cross a ``/`` (``**`` inside a name, or
    a ``[...]`` class, which may contain ``/``) lets everything below it through.
    """
    globs = [_segments(p.lstrip("/")) for p in patterns]

    def may_hold(folder: str) -> bool:
        names = folder.split("/")[:-1]
        return any(_reaches(parts, names) for parts in globs)

    return may_hold


def _segments(pattern: str) -> list[re.Pattern[str] | str | None]:
    """One entry per folder level: ``"**"``, a compiled one-name glob, or None for "anything below"."""
    parts: list[re.Pattern[str] | str | None] = []
    for part in pattern.split("/"):
        if part == _ANY:
            parts.append(_ANY)
        elif _ANY in part or "[" in part:
            parts.append(None)
            break
        else:
            parts.append(re.compile(_translate(part) + r"\Z"))
    return parts


def _reaches(parts: list[re.Pattern[str] | str | None], names: list[str]) -> bool:
    """True when some way of matching ``names`` against leading parts leaves a part for a file."""
    states = _closure(parts, {0})
    for name in names:
        if None in (parts[i] for i in states if i < len(parts)):
            return True
        following: set[int] = set()
        for i in states:
            if i >= len(parts):
                continue
            part = parts[i]
            if part == _ANY:
                following.add(i)
            elif isinstance(part, re.Pattern) and part.match(name):
                following.add(i + 1)
        states = _closure(parts, following)
        if not states:
            return False
    return any(i < len(parts) for i in states)


def _closure(parts: list[re.Pattern[str] | str | None], states: set[int]) -> set[int]:
    """``states`` plus every state reached by letting a ``**`` match no folder at all."""
    out = set(states)
    pending = list(states)
    while pending:
        i = pending.pop()
        if i < len(parts) and parts[i] == _ANY and i + 1 not in out:
            out.add(i + 1)
            pending.append(i + 1)
    return out


def matches(path: str, patterns: Iterable[str]) -> bool:
    """True when the repository-relative ``path`` is a descriptor under ``patterns``."""
    return compile_patterns(tuple(patterns)).match(path) is not None
