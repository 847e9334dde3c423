"""Refs a descriptor writes (owner, capabilities, system, dependsOn, parent, members...) checked against a
catalog, so a typo is found before the commit rather than as an ownership gap after the sync.

Parsing a file cannot know the catalog, so it records each ref with its position (``links_of``, kept
on the ``ParsedDocument``, as ``references`` keeps scorecard names); whoever can ask a catalog then
checks them (``check_links``) through the small ``CatalogRefs`` protocol: ``catalog-sync validate
--catalog URL`` asks a running catalog over HTTP, ``POST /api/validate`` asks the store it serves.
Entities defined in the same set of files count as known, so a repository may add a team and the
product it owns together. A ref that names nothing is an error on the line that wrote it, with the
nearest name the catalog holds: ``did you mean team:default/payments-team?``.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from catalog_sync.descriptors.parsed import ParsedFile
from catalog_sync.descriptors.positions import Where, format_path, locate
from catalog_sync.descriptors.problems import Problem
from catalog_sync.descriptors.relations import COUNTERPARTS, spec_ref_fields
from catalog_sync.errors import RefError
from catalog_sync.model import Entity, EntityRef

SUGGESTION_CUTOFF = 0.6
"""How alike (difflib's ratio, 0-1) a catalog name must be to be offered as the one meant."""


@dataclass(frozen=True)
class EntityLink:
    """One ref written in a spec: where, as written, and the ref keys it may mean (its kind, and the
    counterpart kind when the field leaves the kind out: ``owner: pay`` is a team or a group)."""

    field: str
    text: str
    keys: tuple[str, ...]
    line: int | None = None
    column: int | None = None


class CatalogRefs(Protocol):
    """What a catalog must answer for the check: which refs exist, and the refs of some kinds."""

    def existing(self, ref_keys: Sequence[str]) -> set[str]:
        """The lower-cased keys among ``ref_keys`` that name an entity."""
        ...

    def of_kinds(self, kinds: Sequence[str]) -> list[str]:
        """The keys of every entity of these (lower-cased) kinds, for suggestions."""
        ...


def links_of(entity: Entity, where: Where | None) -> list[EntityLink]:
    """The refs a valid entity writes (``spec_ref_fields``), with positions when the loader kept them."""
    found: list[EntityLink] = []
    for steps, text, default_kind in spec_ref_fields(entity):
        try:
            ref = EntityRef.parse(text, default_kind=default_kind, default_namespace=entity.namespace)
        except RefError:
            continue  # a malformed ref is the schema's to report
        keys = [ref.key]
        if ":" not in text and default_kind in COUNTERPARTS:
            keys.append(EntityRef(COUNTERPARTS[default_kind], ref.namespace, ref.name).key)
        line: int | None = None
        column: int | None = None
        if where is not None:
            (line, column), _ = locate(where, steps)
        found.append(EntityLink(format_path(steps), text, tuple(keys), line, column))
    return found


def _kind(key: str) -> str:
    return key.split(":", 1)[0]


def _name(key: str) -> str:
    return key.rsplit("/", 1)[-1]


def nearest(key: str, candidates: Sequence[str]) -> str | None:
    """The candidate whose name is most like ``key``'s (of the same kind first), or None when none is
    alike enough. Names are compared without kind and namespace, which every candidate shares."""
    name = _name(key)
    same_kind = [c for c in candidates if _kind(c) == _kind(key)]
    for pool in (same_kind, candidates):
        by_name: dict[str, list[str]] = {}
        for candidate in pool:
            by_name.setdefault(_name(candidate), []).append(candidate)
        match = difflib.get_close_matches(name, list(by_name), n=1, cutoff=SUGGESTION_CUTOFF)
        if match:
            keys = by_name[match[0]]
            return next((k for k in keys if k.rsplit("/", 1)[0] == key.rsplit("/", 1)[0]), keys[0])
    return None


def similarity(key: str, other: str) -> float:
    """How alike two refs' names are (difflib's ratio, 0-1)."""
    return difflib.SequenceMatcher(None, _name(key), _name(other)).ratio()


def link_message(link: EntityLink, suggestion: str | None) -> str:
    """Why the link fails, and the name probably meant."""
    shown = link.keys[0] + (f" (nor {link.keys[1]})" if len(link.keys) > 1 else "")
    text = f"{shown} is not in the catalog"
    return text + (f"; did you mean {suggestion}?" if suggestion else "")


def check_links(files: list[ParsedFile], catalog: CatalogRefs) -> int:
    """Add an error for every link of ``files`` that names nothing in the catalog nor in ``files``;
    answers how many. Entities keep their place (the problem makes the file invalid, as any error)."""
    defined = {
        document.ref.lower()
        for parsed in files
        for document in parsed.documents
        if document.entity is not None and document.ref
    }
    wanted = sorted(
        {key for parsed in files for d in parsed.documents for link in d.links for key in link.keys}
    )
    unseen = [key for key in wanted if key not in defined]
    known = defined | (catalog.existing(unseen) if unseen else set())
    missing = [
        (parsed, position, link)
        for parsed in files
        for position, document in enumerate(parsed.documents)
        for link in document.links
        if not known.intersection(link.keys)
    ]
    if not missing:
        return 0
    kinds = sorted({_kind(key) for _, _, link in missing for key in link.keys})
    candidates = sorted(set(catalog.of_kinds(kinds)) | {k for k in defined if _kind(k) in kinds})
    for parsed, position, link in missing:
        document = parsed.documents[position]
        suggestions = [s for s in (nearest(key, candidates) for key in link.keys) if s is not None]
        best = max(
            suggestions,
            key=lambda s: max(similarity(k, s) for k in link.keys),
            default=None,
        )
        document.problems.append(
            Problem(
                parsed.path,
                "error",
                link_message(link, best),
                link.line,
                link.column,
                link.field,
                document.ref,
            )
        )
    return len(missing)
