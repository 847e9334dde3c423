"""Building plain values from libyaml's event stream, charging every value against the limits.

No YAML constructor ever runs: values are built here from parser events, so no tag can instantiate
anything, nesting is bounded as it is read (no recursion on input depth), and every alias is charged
its expanded size before it is copied, so an alias bomb is refused after a few events.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from catalog_sync.descriptors.positions import Located, Mark, Where, find, format_path
from catalog_sync.errors import DescriptorError, UnsafeInputError

_STD = "tag:yaml.org,2002:"
_MERGE = "\0merge"
_MISSING = object()
_PLAIN: dict[str, Any] = {
    **dict.fromkeys(("", "~", "null", "Null", "NULL")),
    **dict.fromkeys(("true", "True", "TRUE"), True),
    **dict.fromkeys(("false", "False", "FALSE"), False),
}
_NUMERIC_START = frozenset("0123456789-+.")
_INT_RE = re.compile(r"[-+]?[0-9]+\Z")
_FLOAT_RE = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")


@dataclass
class LoadedDocument:
    """One YAML document as a plain value, with positions and the problems found while reading it."""

    index: int
    mark: Mark
    value: Any
    where: Where
    problems: list[tuple[str, Mark, str | None]] = field(default_factory=list)


def broken(message: str, mark: Mark | None = None) -> DescriptorError:
    """The file is not YAML we can read (syntax, encoding); nothing of it is trusted."""
    return DescriptorError(message, *(mark or (None, None)))


def unsafe(message: str, mark: Mark | None = None) -> UnsafeInputError:
    """Reading on would cost too much (size, depth, aliases) or the input is not text at all."""
    return UnsafeInputError(message, *(mark or (None, None)))


class _Frame:
    """An open collection while its events are read."""

    __slots__ = ("anchor", "count_at_start", "key", "key_mark", "located", "merges", "value")

    def __init__(
        self, value: dict[str, Any] | list[Any], located: Located, anchor: str | None, count: int
    ) -> None:
        self.value = value
        self.located = located
        self.anchor = anchor
        self.count_at_start = count
        self.key: str | None = None
        self.key_mark: Mark = (0, 0)
        self.merges: list[tuple[Any, Where]] | None = None


class DocumentBuilder:
    """Turns the event stream into plain values, charging every value against the limits."""

    def __init__(self, max_depth: int, max_nodes: int) -> None:
        self.max_depth = max_depth
        self.max_nodes = max_nodes
        self.alias_nodes = 0
        self.count = 0
        self.anchors: dict[str, tuple[Any, Where, int]] = {}
        self.open_anchors: set[str] = set()
        self.stack: list[_Frame] = []
        self.root: tuple[Any, Where] | None = None
        self.problems: list[tuple[str, Mark, str | None]] = []

    def documents(self, loader: Any) -> Iterator[LoadedDocument]:
        """Consume the event stream; the common scalar cases are handled inline (this loop is hot)."""
        get, stack, index = loader.get_event, self.stack, -1
        scalar_event, plain, miss, max_nodes = yaml.ScalarEvent, _PLAIN, _MISSING, self.max_nodes
        while True:
            event = get()
            etype = type(event)
            if etype is scalar_event:
                top = stack[-1] if stack else None
                if top is not None and event.anchor is None and event.tag is None:
                    start = event.start_mark
                    mark = (start.line + 1, start.column + 1)
                    if top.key is None and top.located.key_marks is not None:
                        key = event.value
                        top.key, top.key_mark = (_MERGE if key == "<<" and event.implicit[0] else key), mark
                        self.count += 1
                        continue
                    value = event.value
                    if event.implicit[0]:
                        value = plain.get(value, miss)
                        if value is miss:
                            value = (
                                _resolve_number(event.value)
                                if event.value[0] in _NUMERIC_START
                                else event.value
                            )
                    self.count += 1
                    if self.count > max_nodes:
                        self._charge(0, mark)
                    self._complete(value, mark)
                else:
                    self._scalar(event)
            elif etype is yaml.MappingStartEvent or etype is yaml.SequenceStartEvent:
                self._start(event, etype is yaml.MappingStartEvent)
            elif etype is yaml.MappingEndEvent or etype is yaml.SequenceEndEvent:
                self._end()
            elif etype is yaml.AliasEvent:
                self._alias(event)
            elif etype is yaml.DocumentStartEvent:
                index += 1
                self.count, self.anchors, self.root, self.problems = 0, {}, None, []
            elif etype is yaml.DocumentEndEvent:
                if self.root is not None and self.root[0] is not None:
                    value, where = self.root
                    mark = where.mark if isinstance(where, Located) else where
                    yield LoadedDocument(index, mark, value, where, self.problems)
            elif etype is yaml.StreamEndEvent:
                return

    def _mark(self, event: Any) -> Mark:
        return event.start_mark.line + 1, event.start_mark.column + 1

    def _expecting_key(self) -> _Frame | None:
        if self.stack:
            top = self.stack[-1]
            if top.key is None and top.located.key_marks is not None:
                return top
        return None

    def _scalar(self, event: Any) -> None:
        frame = self._expecting_key()
        mark = self._mark(event)
        if frame is not None:
            key = event.value
            if key == "<<" and event.tag is None and event.implicit[0]:
                key = _MERGE
            frame.key, frame.key_mark = key, mark
            self.count += 1
            return
        value = self._resolve(event, mark)
        self._charge(1, mark)
        if event.anchor is not None:
            self.anchors[event.anchor] = (value, mark, 1)
        self._complete(value, mark)

    def _resolve(self, event: Any, mark: Mark) -> Any:
        tag, value = event.tag, event.value
        if tag is None or tag == "!":
            return _resolve_plain(value) if event.implicit[0] and tag is None else value
        if tag.startswith(_STD):
            name = tag[len(_STD) :]
            if name in ("str", "timestamp"):
                return value
            resolved = _resolve_plain(value)
            fits = {
                "int": type(resolved) is int,
                "float": type(resolved) in (int, float),
                "bool": type(resolved) is bool,
                "null": resolved is None,
            }.get(name)
            if fits:
                return float(resolved) if name == "float" else resolved
            wanted = fits is not None
            if wanted:
                self._problem(f"{value!r} is not a valid !!{name}", mark)
                return value
        self._problem(
            f"unsupported YAML tag {_show_tag(tag)}; only !!str, !!int, !!float, !!bool, !!null", mark
        )
        return value

    def _start(self, event: Any, mapping: bool) -> None:
        mark = self._mark(event)
        if self._expecting_key() is not None:
            raise broken("a mapping key must be plain text, not a list or a mapping", mark)
        if len(self.stack) >= self.max_depth:
            raise unsafe(f"nesting deeper than {self.max_depth} levels", mark)
        tag = event.tag
        if tag is not None and tag != "!" and tag != _STD + ("map" if mapping else "seq"):
            self._problem(f"unsupported YAML tag {_show_tag(tag)}; only !!map and !!seq", mark)
        self._charge(1, mark)
        if event.anchor is not None:
            self.open_anchors.add(event.anchor)
        value: dict[str, Any] | list[Any] = {} if mapping else []
        self.stack.append(_Frame(value, Located(mark, mapping), event.anchor, self.count))

    def _end(self) -> None:
        frame = self.stack.pop()
        if frame.merges:
            self._merge(frame)
        if frame.anchor is not None:
            self.open_anchors.discard(frame.anchor)
            size = self.count - frame.count_at_start + 1
            self.anchors[frame.anchor] = (frame.value, frame.located, size)
        self._complete(frame.value, frame.located)

    def _alias(self, event: Any) -> None:
        mark = self._mark(event)
        if self._expecting_key() is not None:
            raise broken("an alias cannot be a mapping key", mark)
        name = event.anchor
        if name in self.open_anchors:
            raise broken(f"alias *{name} refers to a collection that contains it", mark)
        if name not in self.anchors:
            raise broken(f"alias *{name} refers to no anchor defined before it", mark)
        value, where, size = self.anchors[name]
        self.alias_nodes += size
        if self.alias_nodes > self.max_nodes or self.count + size > self.max_nodes:
            raise unsafe(f"aliases expand to more than {self.max_nodes} values (an alias bomb?)", mark)
        self._charge(size, mark)
        self._complete(_copy(value, len(self.stack) + 1, self.max_depth, mark), where)

    def _charge(self, size: int, mark: Mark) -> None:
        self.count += size
        if self.count > self.max_nodes:
            raise unsafe(f"a document holds more than {self.max_nodes} values", mark)

    def _complete(self, value: Any, where: Where) -> None:
        if not self.stack:
            self.root = (value, where)
            return
        frame = self.stack[-1]
        located = frame.located
        if located.key_marks is None:
            frame.value.append(value)  # type: ignore[union-attr]
            located.children.append(where)  # type: ignore[union-attr]
            return
        key, frame.key = frame.key, None
        assert key is not None
        if key == _MERGE:
            frame.merges = (frame.merges or []) + [(value, where)]
            return
        children: dict[str, Where] = located.children  # type: ignore[assignment]
        if key in children:
            first = located.key_marks[key]
            self._problem(f"duplicate key {key!r} (first at line {first[0]})", frame.key_mark, key)
            return
        frame.value[key] = value  # type: ignore[call-overload]
        children[key] = where
        located.key_marks[key] = frame.key_mark

    def _merge(self, frame: _Frame) -> None:
        """Apply ``<<`` merges: earlier sources win over later ones, explicit keys over all."""
        target: dict[str, Any] = frame.value  # type: ignore[assignment]
        children: dict[str, Where] = frame.located.children  # type: ignore[assignment]
        key_marks = frame.located.key_marks
        assert key_marks is not None
        for value, where in frame.merges or []:
            sources: list[tuple[Any, Where]] = [(value, where)]
            if isinstance(value, list) and isinstance(where, Located) and isinstance(where.children, list):
                sources = list(zip(value, where.children, strict=True))
            for source, source_where in sources:
                if not isinstance(source, dict) or not isinstance(source_where, Located):
                    mark = source_where.mark if isinstance(source_where, Located) else source_where
                    self._problem("a merge (<<) takes a mapping or a list of mappings", mark, "<<")
                    continue
                for key, item in source.items():
                    if key not in target:
                        target[key] = item
                        children[key] = find(source_where, (key,)) or source_where.mark
                        key_marks[key] = (source_where.key_marks or {}).get(key, source_where.mark)

    def _problem(self, message: str, mark: Mark, key: str | None = None) -> None:
        path: list[str | int] = []
        for frame in self.stack:
            if frame.located.key_marks is None:
                path.append(len(frame.value))
            elif frame.key is not None:
                path.append("<<" if frame.key == _MERGE else frame.key)
        if key is not None:
            path.append(key)
        self.problems.append((message, mark, format_path(tuple(path)) if path else None))


def _resolve_plain(value: str) -> Any:
    """A plain scalar by the YAML 1.2 core schema (null, bool, int, float, else text)."""
    resolved = _PLAIN.get(value, _MISSING)
    if resolved is not _MISSING:
        return resolved
    return _resolve_number(value) if value[0] in _NUMERIC_START else value


def _resolve_number(value: str) -> Any:
    """An int or float when ``value`` is one by the YAML 1.2 core schema; else the text itself."""
    try:
        if _INT_RE.match(value):
            return int(value)
        if value.startswith("0o") and len(value) > 2:
            return int(value[2:], 8)
        if value.startswith("0x") and len(value) > 2:
            return int(value[2:], 16)
        if _FLOAT_RE.match(value):
            number = float(value)
            return number if math.isfinite(number) else value
    except ValueError:
        return value
    return value


def _show_tag(tag: str) -> str:
    return "!!" + tag[len(_STD) :] if tag.startswith(_STD) else tag


def _copy(value: Any, depth: int, max_depth: int, mark: Mark) -> Any:
    """A fresh copy of an aliased value, so no two places of an entity share one mutable object."""
    if isinstance(value, dict | list):
        if depth > max_depth:
            raise unsafe(f"nesting deeper than {max_depth} levels", mark)
        if isinstance(value, dict):
            return {key: _copy(item, depth + 1, max_depth, mark) for key, item in value.items()}
        return [_copy(item, depth + 1, max_depth, mark) for item in value]
    return value
