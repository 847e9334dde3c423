"""Reading descriptor bytes as YAML documents safely, keeping the position of every value.

Descriptors come from thousands of repositories nobody here controls, so reading one must never cost
more than the file is worth, nor run anything. The bytes are checked (size, NUL bytes, UTF-8) before
any parsing; then libyaml's event parser (the C one when installed, else PyYAML's pure one) feeds
``events.DocumentBuilder``, which builds plain values without any YAML constructor.

Scalars are read by the YAML 1.2 core schema, as Backstage reads them: ``on``/``yes``/``no`` stay text,
``1:20`` stays text, ``2024-01-01`` stays text; ``.inf``, ``.nan`` and numbers too large to store stay
text because JSON cannot hold them. Mapping keys are always text, as written. Merge keys (``<<``) work.

A *file-level failure* (malformed YAML, size, nesting, aliases, encoding) means nothing of the file is
trusted: no document is returned. Problems that leave a document readable (a duplicate key, a tag we
do not accept) are attached to that document, which then cannot become an entity.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from catalog_sync.descriptors.events import DocumentBuilder, LoadedDocument, broken, unsafe
from catalog_sync.descriptors.positions import Located, Mark, Where, find, format_path, locate
from catalog_sync.errors import DescriptorError

__all__ = [
    "LoadLimits",
    "LoadedDocument",
    "Located",
    "Mark",
    "Where",
    "check_bytes",
    "find",
    "format_path",
    "iter_documents",
    "load_documents",
    "locate",
]

_EVENT_LOADER: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# What libyaml says when its own nesting limit stops a file (see _depth_refusal).
_PARSER_DEPTH_PROBLEM = "maximum nesting depth"


@dataclass(frozen=True)
class LoadLimits:
    """How much one descriptor file may cost to read; the defaults fit any honest descriptor.

    ``max_nodes`` bounds both the values one document may hold (alias expansions included) and the
    values aliases may copy in across the whole file.
    """

    max_file_bytes: int = 1048576
    max_depth: int = 64
    max_nodes: int = 100_000


def check_bytes(data: bytes, limits: LoadLimits) -> str:
    """The file's text; refused (before any parsing) when it is too large, binary or not UTF-8."""
    if len(data) > limits.max_file_bytes:
        raise unsafe(
            f"file is larger than the limit of {limits.max_file_bytes} bytes (descriptors.max_file_bytes)"
        )
    nul = data.find(b"\0")
    if nul >= 0:
        raise unsafe(
            f"binary file (NUL byte at byte offset {nul}); a descriptor is UTF-8 text", _mark_of(data, nul)
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise broken(
            f"not UTF-8 text: invalid byte 0x{data[exc.start]:02x} at byte offset {exc.start}",
            _mark_of(data, exc.start),
        ) from None
    return text[1:] if text.startswith("\ufeff") else text


def _mark_of(data: bytes, offset: int) -> Mark:
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", errors="replace")) + 1
    return data.count(b"\n", 0, offset) + 1, column


def load_documents(data: bytes, limits: LoadLimits, *, pure: bool = False) -> list[LoadedDocument]:
    """Every non-empty document of the file; raises DescriptorError when the file cannot be trusted.

    ``pure`` forces the pure-Python parser (the fallback when libyaml is missing), for tests.
    """
    return list(iter_documents(data, limits, pure=pure))


def iter_documents(data: bytes, limits: LoadLimits, *, pure: bool = False) -> Iterator[LoadedDocument]:
    """The documents one at a time, so a caller can drop each one's positions once it is validated.

    Raises DescriptorError (possibly after some documents) when the file cannot be trusted; a caller
    must then discard what it received, since the whole file is refused.
    """
    text = check_bytes(data, limits)
    try:
        yield from _read(text, limits, pure)
    except yaml.MarkedYAMLError as exc:
        if _PARSER_DEPTH_PROBLEM in (exc.problem or "") and exc.problem_mark is not None:
            raise _depth_refusal(text, exc.problem_mark.index, limits, pure) from None
        mark = exc.problem_mark or exc.context_mark
        where = (mark.line + 1, mark.column + 1) if mark is not None else None
        message = f"malformed YAML: {exc.problem or exc.context}"
        if exc.context and exc.problem:
            started = f" started at line {exc.context_mark.line + 1}" if exc.context_mark is not None else ""
            message += f" ({exc.context}{started})"
        raise broken(message, where) from None
    except yaml.reader.ReaderError as exc:
        # libyaml counts this position in bytes, the pure-Python reader in characters.
        index = exc.position if pure else len(text.encode()[: exc.position].decode(errors="ignore"))
        where = (text.count("\n", 0, index) + 1, index - text.rfind("\n", 0, index))
        raise broken(f"malformed YAML: {exc.reason} (character #x{exc.character:02x})", where) from None
    except yaml.YAMLError as exc:
        raise broken(f"malformed YAML: {exc}") from None


def _read(text: str, limits: LoadLimits, pure: bool) -> Iterator[LoadedDocument]:
    loader = None
    try:
        loader = (yaml.SafeLoader if pure else _EVENT_LOADER)(text)
        yield from DocumentBuilder(limits.max_depth, limits.max_nodes).documents(loader)
    finally:
        if loader is not None:
            loader.dispose()


def _depth_refusal(text: str, stopped_at: int, limits: LoadLimits, pure: bool) -> DescriptorError:
    """Our own refusal of the file when the YAML parser's nesting limit fired before ours could.

    libyaml (bundled with PyYAML 6.0.4 and later) reads a line of flow brackets ahead of the events it
    hands over, and stops at its own depth limit (1000) before the builder has seen level 65. Reading
    the text again up to where libyaml stopped lets the builder reach its limit first, so the message,
    line and column are ours whatever libyaml version is installed.
    """
    try:
        for _ in _read(text[:stopped_at], limits, pure):
            pass
    except DescriptorError as exc:
        return exc
    except yaml.YAMLError:
        pass
    line = text.count("\n", 0, stopped_at) + 1
    return unsafe(
        "nesting deeper than the YAML parser allows", (line, stopped_at - text.rfind("\n", 0, stopped_at))
    )
