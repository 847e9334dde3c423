"""Names in a descriptor that point at a scorecard: an exemption's scorecard and check, an initiative's
scorecard, checks and level. A name nothing defines is an error on the line that wrote it.

Parsing a file cannot know the scorecards (they come from files, from the catalog, from other
repositories), so it only records each such name with its position (``references_of``, kept on the
``ParsedDocument``); whoever reads the file and knows the scorecards then refuses the documents whose
names match nothing (``refuse_unknown``), exactly as ``trust.refuse_untrusted`` refuses untrusted
kinds: the sync pass against the scorecards last published plus the configured files, ``catalog-sync
validate`` against the configured files, the API against the published ones. Scorecards defined in the
same set of files count as known, so a repository may add a scorecard and an exemption together.

A scorecard that later loses a check does not make old descriptors invalid: scoring ignores an
exemption that names nothing (``catalog_sync.scoring.exemptions``), and the next change to the file
reports it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from catalog_sync.descriptors.parsed import ParsedFile, Reference
from catalog_sync.descriptors.positions import Where, format_path, locate
from catalog_sync.descriptors.problems import Problem
from catalog_sync.model import Entity


@dataclass(frozen=True)
class ScorecardTerms:
    """What names a scorecard defines: its check ids and its levels."""

    checks: frozenset[str]
    levels: tuple[str, ...]


ScorecardIndex = Mapping[str, ScorecardTerms]
"""The scorecards known where a file is read, by name."""

REFUSAL_PATTERNS = ("unknown scorecard %", "scorecard % has no check %", "scorecard % has no level %")
"""SQL ``LIKE`` patterns of the messages ``reference_problem`` writes, so the store can find the
repositories to read again once the scorecards change."""


def index_digest(index: ScorecardIndex) -> str:
    """One text that changes when any scorecard's name, check ids or levels change."""
    parts = [f"{name}:{','.join(sorted(t.checks))}:{','.join(t.levels)}" for name, t in sorted(index.items())]
    return "\n".join(parts)


def terms_of_spec(spec: Mapping[str, Any]) -> ScorecardTerms:
    """The names a validated Scorecard spec defines."""
    checks = frozenset(str(check["id"]) for check in spec.get("checks") or [] if isinstance(check, dict))
    return ScorecardTerms(checks, tuple(str(level) for level in spec.get("levels") or []))


def _at(where: Where | None, steps: tuple[str | int, ...]) -> tuple[int | None, int | None]:
    if where is None:
        return None, None
    (line, column), _ = locate(where, steps)
    return line, column


def references_of(entity: Entity, where: Where | None) -> list[Reference]:
    """The scorecard names a valid entity writes, with their positions when the loader kept them."""
    found: list[Reference] = []

    def add(what: str, scorecard: str, value: str, steps: tuple[str | int, ...]) -> None:
        line, column = _at(where, steps)
        found.append(Reference(what, scorecard, value, format_path(steps), line, column))

    spec = entity.spec
    for index, exemption in enumerate(spec.get("exemptions") or []):
        if isinstance(exemption, dict):
            card = str(exemption["scorecard"])
            add("scorecard", card, card, ("spec", "exemptions", index, "scorecard"))
            add("check", card, str(exemption["check"]), ("spec", "exemptions", index, "check"))
    if entity.kind == "Initiative":
        card = str(spec["scorecard"])
        add("scorecard", card, card, ("spec", "scorecard"))
        for index, check in enumerate(spec.get("checks") or []):
            add("check", card, str(check), ("spec", "checks", index))
        if "level" in spec:
            add("level", card, str(spec["level"]), ("spec", "level"))
    return found


def reference_problem(reference: Reference, index: ScorecardIndex) -> str | None:
    """Why a reference names nothing known, or None when it matches."""
    terms = index.get(reference.scorecard)
    if reference.what == "scorecard":
        if terms is not None:
            return None
        known = ", ".join(sorted(index)[:20]) or "none"
        return f"unknown scorecard {reference.value!r} (known scorecards: {known})"
    if terms is None:
        return None  # the scorecard's own reference says it
    if reference.what == "check" and reference.value not in terms.checks:
        known = ", ".join(sorted(terms.checks)[:40])
        return f"scorecard {reference.scorecard!r} has no check {reference.value!r} (its checks: {known})"
    if reference.what == "level" and reference.value not in terms.levels:
        known = ", ".join(terms.levels)
        return f"scorecard {reference.scorecard!r} has no level {reference.value!r} (its levels: {known})"
    return None


def index_of_files(files: Iterable[ParsedFile]) -> dict[str, ScorecardTerms]:
    """The scorecards the valid documents of these files define."""
    return {
        document.entity.name: terms_of_spec(document.entity.spec)
        for parsed in files
        for document in parsed.documents
        if document.entity is not None and document.entity.kind == "Scorecard"
    }


def refuse_unknown(files: list[ParsedFile], known: ScorecardIndex) -> int:
    """Turn every document naming an unknown scorecard, check or level into an error at that name (no
    entity); scorecards of ``files`` themselves count as known. Answers how many documents were refused;
    the files are changed in place."""
    index = {**known, **index_of_files(files)}
    refused = 0
    for parsed in files:
        for position, document in enumerate(parsed.documents):
            if document.entity is None or not document.references:
                continue
            problems = []
            for reference in document.references:
                message = reference_problem(reference, index)
                if message is not None:
                    problems.append(
                        Problem(
                            parsed.path,
                            "error",
                            message,
                            reference.line,
                            reference.column,
                            reference.field,
                            document.ref,
                        )
                    )
            if problems:
                parsed.documents[position] = replace(
                    document, entity=None, problems=[*document.problems, *problems]
                )
                refused += 1
    return refused
