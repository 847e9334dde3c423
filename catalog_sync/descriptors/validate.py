"""Turning loaded documents into entities, or into problems that say exactly what to fix and where.

Every problem names the field path (``spec.kpis[1].category``), the allowed values where there is a
closed set, the line and column of the offending value (of the key for an unknown or duplicate key,
of the parent mapping's key for a missing field) and the entity's ref once kind and name are readable.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from catalog_sync.descriptors.envelope import KIND_SCHEMAS
from catalog_sync.descriptors.fields import REQUIRED, UNKNOWN, AtKey
from catalog_sync.descriptors.links import links_of
from catalog_sync.descriptors.loader import (
    LoadedDocument,
    LoadLimits,
    Located,
    Where,
    find,
    format_path,
    iter_documents,
    locate,
)
from catalog_sync.descriptors.parsed import ParsedDocument, ParsedFile
from catalog_sync.descriptors.problems import Problem, Severity
from catalog_sync.descriptors.references import references_of
from catalog_sync.errors import DescriptorError
from catalog_sync.model import BACKSTAGE_API_VERSIONS, DEFAULT_NAMESPACE, OUR_API_VERSION, Entity, EntityRef

Path = tuple[str | int, ...]
Anchor = Literal["value", "key", "parent"]

KNOWN_API_VERSIONS = (OUR_API_VERSION, *BACKSTAGE_API_VERSIONS)
NO_OWNER = "no owner; this entity counts as an ownership gap"
NO_CAPABILITY = "no capability; counts as a product_without_capability gap"
NOT_FETCHED = "absolute URLs and paths are not read; only paths relative to this file, in this repository"
_ABSOLUTE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*:|/)")


class _Report:
    """Problems of one document, placed by path; positions come from the loader when there are any."""

    def __init__(self, path: str, where: Where | None) -> None:
        self.path = path
        self.where = where
        self.ref: str | None = None
        self.problems: list[Problem] = []

    def add(self, severity: Severity, steps: Path, message: str, anchor: Anchor = "value") -> None:
        line, column = self._position(steps, anchor)
        self.problems.append(
            Problem(self.path, severity, message, line, column, format_path(steps) or None, self.ref)
        )

    def _position(self, steps: Path, anchor: Anchor) -> tuple[int | None, int | None]:
        if self.where is None:
            return None, None
        if anchor == "parent":
            steps = steps[:-1]
        mark, key_mark = locate(self.where, steps)
        if anchor == "key" or (key_mark is not None and (anchor == "parent" or self._is_collection(steps))):
            mark = key_mark or mark
        return mark

    def _is_collection(self, steps: Path) -> bool:
        return self.where is not None and isinstance(find(self.where, steps), Located)

    def add_marshmallow(self, messages: Any, steps: Path = ()) -> None:
        """Flatten marshmallow's nested error mapping into one problem per field."""
        if isinstance(messages, dict):
            for key, value in messages.items():
                self.add_marshmallow(value, steps if key == "_schema" else (*steps, key))
            return
        texts = [m for m in messages if isinstance(m, str)]
        if texts:
            first = texts[0]
            anchor: Anchor = "value"
            if isinstance(first, AtKey) or first.startswith(UNKNOWN):
                anchor = "key"
            elif first == REQUIRED:
                anchor = "parent"
            self.add("error", steps, "; ".join(dict.fromkeys(texts)), anchor)
        for nested in messages:
            if isinstance(nested, dict):
                self.add_marshmallow(nested, steps)


def _ref_of(body: dict[str, Any]) -> str | None:
    kind, metadata = body.get("kind"), body.get("metadata")
    if not isinstance(kind, str) or not kind or not isinstance(metadata, dict):
        return None
    name, namespace = metadata.get("name"), metadata.get("namespace") or DEFAULT_NAMESPACE
    if not isinstance(name, str) or not name or not isinstance(namespace, str):
        return None
    return str(EntityRef(kind.lower(), namespace, name))


def _check_kind(body: dict[str, Any], report: _Report) -> str | None:
    """The kind's canonical name when kind and apiVersion are both right; else reports why not."""
    kind, api_version = body.get("kind"), body.get("apiVersion")
    known = ", ".join(KIND_SCHEMAS)
    entry = None
    if kind is None:
        report.add("error", ("kind",), f"{REQUIRED}; known kinds: {known}", "parent")
    elif not isinstance(kind, str):
        report.add("error", ("kind",), "must be a string")
    else:
        entry = KIND_SCHEMAS.get(kind)
        if entry is None:
            same = [name for name in KIND_SCHEMAS if name.lower() == kind.lower()]
            hint = f" (kinds are case-sensitive: write {same[0]})" if same else ""
            report.add("error", ("kind",), f"unknown kind {kind!r}; known kinds: {known}{hint}")
    if api_version is None:
        report.add("error", ("apiVersion",), REQUIRED, "parent")
    elif not isinstance(api_version, str):
        report.add("error", ("apiVersion",), "must be a string")
    elif api_version not in KNOWN_API_VERSIONS:
        known_versions = ", ".join(KNOWN_API_VERSIONS)
        report.add("error", ("apiVersion",), f"unknown apiVersion {api_version!r}; known: {known_versions}")
    elif entry is not None and api_version not in entry.info.api_versions:
        wanted = " or ".join(entry.info.api_versions)
        report.add("error", ("apiVersion",), f"kind {entry.info.name} needs apiVersion {wanted}")
    elif entry is not None:
        return entry.info.name
    return None


def _warn(kind: str, body: dict[str, Any], report: _Report) -> None:
    """The warnings of SPEC section 1: gaps we count rather than refuse."""
    spec = body.get("spec")
    info = KIND_SCHEMAS[kind].info
    if info.ownable and (spec is None or (isinstance(spec, dict) and "owner" not in spec)):
        report.add("warning", ("spec", "owner"), NO_OWNER, "parent")
    if not isinstance(spec, dict):
        return
    if kind == "Product" and not spec.get("capabilities"):
        anchor: Anchor = "value" if "capabilities" in spec else "parent"
        report.add("warning", ("spec", "capabilities"), NO_CAPABILITY, anchor)
    if kind == "Location":
        if isinstance(spec.get("target"), str) and _ABSOLUTE.match(spec["target"]):
            report.add("warning", ("spec", "target"), NOT_FETCHED)
        for index, target in enumerate(spec.get("targets") or []):
            if isinstance(target, str) and _ABSOLUTE.match(target):
                report.add("warning", ("spec", "targets", index), NOT_FETCHED)


def check_body(
    body: Any, path: str, where: Where | None = None
) -> tuple[Entity | None, str | None, list[Problem]]:
    """Validate one document's value: the entity (None on any error), its ref when readable, problems."""
    report = _Report(path, where)
    if not isinstance(body, dict):
        found = "a list" if isinstance(body, list) else f"the value {body!r}"[:80]
        report.add(
            "error",
            (),
            f"a descriptor must be a mapping with apiVersion, kind, metadata and spec (found {found})",
        )
        return None, None, report.problems
    report.ref = _ref_of(body)
    kind = _check_kind(body, report)
    if kind is not None:
        report.add_marshmallow(KIND_SCHEMAS[kind].envelope.validate(body))
        _warn(kind, body, report)
    if where is not None:
        report.problems.sort(key=lambda p: (p.line or 0, p.column or 0))
    if any(p.severity == "error" for p in report.problems):
        return None, report.ref, report.problems
    entity = Entity(
        api_version=body["apiVersion"],
        kind=body["kind"],
        metadata=body["metadata"],
        spec=body.get("spec") or {},
    )
    return entity, report.ref, report.problems


def _document(path: str, loaded: LoadedDocument) -> ParsedDocument:
    entity, ref, problems = check_body(loaded.value, path, loaded.where)
    if loaded.problems:
        # A value the loader already refused (e.g. its tag) is not reported a second time.
        seen = {field for _, _, field in loaded.problems}
        first = [
            Problem(path, "error", msg, mark[0], mark[1], field, ref) for msg, mark, field in loaded.problems
        ]
        later = [p for p in problems if p.field is None or p.field not in seen]
        problems = sorted(first + later, key=lambda p: (p.line or 0, p.column or 0))
        entity = None
    line, column = loaded.mark
    found = references_of(entity, loaded.where) if entity is not None else []
    links = links_of(entity, loaded.where) if entity is not None else []
    return ParsedDocument(loaded.index, line, column, entity, ref, problems, found, links)


def parse_file(path: str, data: bytes, limits: LoadLimits) -> ParsedFile:
    """Every document of one descriptor file, validated; never raises for bad input."""
    try:
        documents = [_document(path, loaded) for loaded in iter_documents(data, limits)]
    except DescriptorError as exc:
        return ParsedFile(path, problems=[Problem(path, "error", exc.message, exc.line, exc.column)])
    parsed = ParsedFile(path, documents)
    if not documents:
        parsed.problems.append(Problem(path, "warning", "the file holds no descriptor (it is empty)"))
    return parsed


def validate_entity_body(body: object, path: str = "<body>") -> ParsedDocument:
    """Validate an entity already parsed from JSON (the API's validate-entity); problems carry no lines."""
    entity, ref, problems = check_body(body, path)
    found = references_of(entity, None) if entity is not None else []
    return ParsedDocument(0, 0, 0, entity, ref, problems, found, links_of(entity, None) if entity else [])
