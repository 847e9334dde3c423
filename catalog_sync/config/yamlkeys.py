"""A key given twice in one mapping of the configuration file, found before the file is read.

YAML's loaders keep the last of two equal keys and drop the first without a word: a second
``sources:`` pasted from an example replaces every source above it, a second ``org:`` in one source
lists another organisation. The file is refused instead, naming the key and both lines. Keys brought
by a merge (``<<: *base``) may be given again beside it, as YAML means them to be overridden.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class DuplicateKey:
    """The key's path (``sources.0.org``) and the lines (from 1) of its first and second occurrence."""

    path: str
    first_line: int
    second_line: int


def duplicate_key(text: str) -> DuplicateKey | None:
    """A key given twice in one mapping of the YAML ``text`` (already known to load), or None; a
    mapping's own keys are looked at before what their values hold, each node once, however many
    aliases name it."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    pending: list[tuple[yaml.Node | None, str]] = [(root, "")]
    seen: set[int] = set()
    while pending:
        node, path = pending.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        children: list[tuple[yaml.Node, str]] = []
        if isinstance(node, yaml.MappingNode):
            found, children = _mapping(node, path)
            if found is not None:
                return found
        elif isinstance(node, yaml.SequenceNode):
            children = [(item, _joined(path, str(n))) for n, item in enumerate(node.value)]
        pending.extend(reversed(children))
    return None


def _mapping(node: yaml.MappingNode, path: str) -> tuple[DuplicateKey | None, list[tuple[yaml.Node, str]]]:
    """A key of this mapping given twice, and its values with their paths."""
    lines: dict[tuple[str, str], int] = {}
    children: list[tuple[yaml.Node, str]] = []
    for key, value in node.value:
        child = _joined(path, str(key.value) if isinstance(key, yaml.ScalarNode) else "?")
        if isinstance(key, yaml.ScalarNode) and key.tag != MERGE_TAG:
            line = key.start_mark.line + 1
            first = lines.get((key.tag, key.value))
            if first is not None:
                return DuplicateKey(child, first, line), []
            lines[(key.tag, key.value)] = line
        children.append((value, child))
    return None, children


def _joined(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


__all__ = ["DuplicateKey", "duplicate_key"]
