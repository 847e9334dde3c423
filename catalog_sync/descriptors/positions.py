"""Where each value of a loaded document was written, so every problem can point at a line and column.

Kept apart from the values themselves (which stay plain dicts and lists, ready to become an entity)
and looked up only when there is something to report.
"""

from __future__ import annotations

Mark = tuple[int, int]
"""A position in the file: 1-based line and column."""


class Located:
    """Where a collection and its members are, kept beside the plain value for error messages."""

    __slots__ = ("children", "key_marks", "mark")

    def __init__(self, mark: Mark, mapping: bool) -> None:
        self.mark = mark
        self.key_marks: dict[str, Mark] | None = {} if mapping else None
        self.children: dict[str, Located | Mark] | list[Located | Mark] = {} if mapping else []


Where = Located | Mark


def _step(where: Where, step: str | int) -> Where | None:
    if not isinstance(where, Located):
        return None
    children = where.children
    if isinstance(children, dict):
        return children.get(step) if isinstance(step, str) else None
    return children[step] if isinstance(step, int) and 0 <= step < len(children) else None


def find(where: Where, path: tuple[str | int, ...]) -> Where | None:
    """The positions of the value at ``path``, or None when the document has no such value."""
    current: Where | None = where
    for step in path:
        current = _step(current, step) if current is not None else None
    return current


def locate(where: Where, path: tuple[str | int, ...]) -> tuple[Mark, Mark | None]:
    """The position of the value at ``path`` and of its key, or of the deepest ancestor that exists."""
    key_mark: Mark | None = None
    for step in path:
        child = _step(where, step)
        if child is None or not isinstance(where, Located):
            break
        key_mark = (
            where.key_marks.get(step) if where.key_marks is not None and isinstance(step, str) else None
        )
        where = child
    return (where.mark if isinstance(where, Located) else where), key_mark


def format_path(path: tuple[str | int, ...]) -> str:
    """A field path as messages show it: ``spec.kpis[1].category``."""
    out = ""
    for step in path:
        if isinstance(step, int):
            out += f"[{step}]"
        else:
            out += f".{step}" if out else step
    return out
