"""Which paths are descriptor files: ``descriptors.patterns`` globs, where ``**`` crosses folders.

Compiled once into one regular expression, because the scanner tests every path it lists. Which
*folders* can hold a match is answered apart (``FolderGlobs``), so the scanner never opens a folder
that no pattern can reach: ``.catalog/*.yaml`` needs ``.catalog`` only, not the whole repository.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
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


_Part = re.Pattern[str] | str | None
_State = tuple[int, int]


class FolderGlobs:
    """Which folders may hold a file that one of the globs matches, decided folder name by folder name.

    A state is (glob, part): how far a glob has matched the names so far; ``**`` takes any number of
    names, other parts one name each. It never says no to a folder that holds a match (the scanner would
    miss a descriptor) and may say yes to one that holds none: a part whose match could cross a ``/``
    (``**`` inside a name, or a ``[...]`` class, which may contain ``/``) lets everything below through.
    """

    def __init__(self, patterns: tuple[str, ...]) -> None:
        self._globs = [_segments(p.lstrip("/")) for p in patterns]

    def start(self) -> frozenset[_State]:
        """The states at the repository's root."""
        return self._closure({(g, 0) for g in range(len(self._globs))})

    def step(self, states: frozenset[_State], name: str) -> frozenset[_State]:
        """The states inside the folder ``name`` of a folder in ``states``."""
        following: set[_State] = set()
        for g, i in states:
            parts = self._globs[g]
            if i >= len(parts):
                continue
            part = parts[i]
            if part is None or part == _ANY:
                following.add((g, i))
            elif isinstance(part, re.Pattern) and part.match(name):
                following.add((g, i + 1))
        return self._closure(following)

    def may_hold(self, states: frozenset[_State]) -> bool:
        """Whether a folder in ``states`` may hold a match: some glob still has a part left for a file."""
        return any(i < len(self._globs[g]) for g, i in states)

    def _closure(self, states: set[_State]) -> frozenset[_State]:
        """``states`` plus every state reached by letting a ``**`` match no folder at all."""
        out = set(states)
        pending = list(states)
        while pending:
            g, i = pending.pop()
            parts = self._globs[g]
            if i < len(parts) and parts[i] == _ANY and (g, i + 1) not in out:
                out.add((g, i + 1))
                pending.append((g, i + 1))
        return frozenset(out)


@lru_cache(maxsize=64)
def folder_globs(patterns: tuple[str, ...]) -> FolderGlobs:
    """The folder test of ``patterns``, built once per set of globs."""
    return FolderGlobs(patterns)


def _segments(pattern: str) -> list[_Part]:
    """One entry per folder level: ``"**"``, a compiled one-name glob, or None for "anything below"."""
    parts: list[_Part] = []
    for part in pattern.split("/"):
        if part == _ANY:
            parts.append(_ANY)
        elif _ANY in part or "[" in part:
            parts.append(None)
            break
        else:
            parts.append(re.compile(_translate(part) + r"\Z"))
    return parts


def matches(path: str, patterns: Iterable[str]) -> bool:
    """True when the repository-relative ``path`` is a descriptor under ``patterns``."""
    return compile_patterns(tuple(patterns)).match(path) is not None
