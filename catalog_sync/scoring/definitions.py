"""Which scorecards are evaluated: the built-in ones, those of ``scorecards.paths``, and the catalog's.

A scorecard is a descriptor (``kind: Scorecard``, validated by ``catalog_sync.descriptors``), so it is
read here exactly as a repository's would be. Only repositories of a source listed in
``scorecards.trusted_sources`` may define one (``catalog_sync.descriptors.trust``): any other catalog
scorecard is left out here (``trusted_scorecards``), whatever its name, and its repository shows the
refusal as a descriptor error. When two scorecards share a name, the catalog's (so a trusted source's)
wins over a configured file, which wins over a built-in one: trusting a source means trusting it to
replace a built-in scorecard, which is how a platform team adapts ``product-readiness`` to its
organisation, and ``GET /api/scorecards`` shows the winner's ``origin`` and ``entityRef``. Between
catalog scorecards of the same name in different namespaces, the ``default`` namespace wins, then the
first ref in order.

A scorecard that cannot be used (a file that does not parse, an ``appliesTo`` filter the API would
refuse) is left out and reported in ``Definitions.problems``, never allowed to stop scoring.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalog_sync.config import Settings
from catalog_sync.descriptors import LoadLimits, parse_file
from catalog_sync.descriptors.trust import KindTrust
from catalog_sync.errors import QueryError
from catalog_sync.model import DEFAULT_NAMESPACE, Entity
from catalog_sync.sources.selection import in_listed_folder
from catalog_sync.store.filters import EntityFilter, parse_filters

BUILTIN_DIR = Path(__file__).resolve().parents[2] / "descriptors" / "scorecards"
"""The built-in scorecards shipped with catalog-sync."""

REPOSITORY_FORMS = frozenset({"repoFile", "repoCommitWithinDays"})
TEAM_FORMS = frozenset({"ownerTeamHasRoles", "ownerTeamMinMembers"})


@dataclass(frozen=True)
class CheckDef:
    """One check: its rule form and value, the level it counts for (1 = lowest) and its weight."""

    id: str
    title: str
    description: str
    level: str
    rank: int
    weight: float
    form: str
    rule: Any


@dataclass(frozen=True)
class ScorecardDef:
    """A scorecard ready to evaluate."""

    name: str
    title: str
    description: str
    origin: str
    entity_ref: str | None
    levels: tuple[str, ...]
    checks: tuple[CheckDef, ...]
    applies_to: tuple[str, ...]
    entity_filter: EntityFilter
    spec: Mapping[str, Any]
    digest: str
    forms: frozenset[str] = frozenset()
    """The rule forms its checks use, so an entity's context holds only what they need."""
    relation_types: frozenset[str] = frozenset()
    """The relation types its ``relation`` rules count."""


@dataclass
class Definitions:
    """The scorecards to evaluate, and the reasons any candidate was left out."""

    scorecards: list[ScorecardDef] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """What is evaluated but cannot work as written (a ``repoFile`` path the sync never records)."""

    def digest(self, extra: Sequence[str] = ()) -> str:
        """One digest of every definition (and of ``extra`` settings), to notice any change."""
        parts = sorted(f"{card.name}:{card.digest}" for card in self.scorecards)
        return hashlib.sha256("\n".join([*parts, *extra]).encode()).hexdigest()

    def by_name(self) -> dict[str, ScorecardDef]:
        """The scorecards keyed by name."""
        return {card.name: card for card in self.scorecards}


def build_scorecard(entity: Entity, origin: str, entity_ref: str | None = None) -> ScorecardDef:
    """A validated Scorecard entity as something to evaluate; QueryError when appliesTo cannot be used."""
    spec = entity.spec
    levels = tuple(str(level) for level in spec["levels"])
    ranks = {level: index + 1 for index, level in enumerate(levels)}
    checks = []
    for raw in spec["checks"]:
        rule = dict(raw["rule"])
        if "field" in rule:  # the one form with several keys: the path and its operators
            form, value = "field", rule
        else:
            ((form, value),) = rule.items()
        checks.append(
            CheckDef(
                id=str(raw["id"]),
                title=str(raw["title"]),
                description=str(raw.get("description") or ""),
                level=str(raw["level"]),
                rank=ranks[str(raw["level"])],
                weight=float(raw.get("weight", 1)),
                form=form,
                rule=value,
            )
        )
    applies_to = tuple(str(text) for text in spec["appliesTo"])
    entity_filter = parse_filters(applies_to)
    if entity_filter is None:
        raise QueryError("appliesTo", "selects nothing: give at least one filter such as kind=product")
    meta = entity.metadata
    encoded = json.dumps({"metadata": meta, "spec": spec}, sort_keys=True, default=str)
    return ScorecardDef(
        name=entity.name,
        title=str(meta.get("title") or entity.name),
        description=str(meta.get("description") or ""),
        origin=origin,
        entity_ref=entity_ref,
        levels=levels,
        checks=tuple(checks),
        applies_to=applies_to,
        entity_filter=entity_filter,
        spec=spec,
        digest=hashlib.sha256(encoded.encode()).hexdigest(),
        forms=frozenset(check.form for check in checks),
        relation_types=frozenset(str(c.rule["type"]) for c in checks if c.form == "relation"),
    )


def scorecard_files(settings: Settings) -> list[tuple[str, Path]]:
    """The files to read: the built-in folder (when enabled) and ``scorecards.paths``, in that order."""
    found: list[tuple[str, Path]] = []
    if settings.scorecards.builtin and BUILTIN_DIR.is_dir():
        found += [("builtin", path) for path in sorted(BUILTIN_DIR.glob("*.y*ml"))]
    for text in settings.scorecards.paths:
        path = Path(settings.base_dir) / text
        if path.is_dir():
            found += [("file", p) for p in sorted(path.glob("*.y*ml"))]
        else:
            found.append(("file", path))
    return found


class ScorecardFiles:
    """The scorecard files read so far, each with the bytes it was parsed from, so a file that has not
    changed is not parsed again.

    The re-score after every sync pass and every pass that scans a repository need the file
    scorecards, and a worker woken by each webhook delivery of a burst runs many such passes: parsing
    and validating the same files each time cost more than the rest of a pass that finds little to do.
    A file is still read every time (a few kilobytes): its bytes, not its modification time, decide
    whether it changed, so an edit within the file system's timestamp resolution is never missed. A
    file added or removed changes what ``scorecard_files`` lists, and is read or forgotten with it.
    Safe to share between threads: at worst two of them parse the same new file.
    """

    def __init__(self) -> None:
        self._parsed: dict[tuple[str, str, LoadLimits], tuple[bytes, list[ScorecardDef], list[str]]] = {}
        self.parses = 0
        """How many times a file was parsed (for the tests: an unchanged file adds nothing)."""

    def read(self, settings: Settings) -> tuple[list[ScorecardDef], list[str]]:
        """The scorecards of the built-in folder and of ``scorecards.paths``; problems as text."""
        cards: list[ScorecardDef] = []
        problems: list[str] = []
        limits = LoadLimits(max_file_bytes=settings.descriptors.max_file_bytes)
        for origin, path in scorecard_files(settings):
            try:
                data = path.read_bytes()
            except OSError as exc:
                problems.append(f"{path}: cannot be read: {exc.strerror or exc}")
                continue
            key = (origin, str(path), limits)
            known = self._parsed.get(key)
            if known is None or known[0] != data:
                self.parses += 1
                known = (data, *_parse_scorecards(origin, path, data, limits))
                self._parsed[key] = known
            cards += known[1]
            problems += known[2]
        return cards, problems


def _parse_scorecards(
    origin: str, path: Path, data: bytes, limits: LoadLimits
) -> tuple[list[ScorecardDef], list[str]]:
    """The scorecards of one file's bytes, and its problems as text."""
    cards: list[ScorecardDef] = []
    problems: list[str] = []
    parsed = parse_file(str(path), data, limits)
    problems += [p.format() for p in parsed.all_problems() if p.severity == "error"]
    for document in parsed.documents:
        entity = document.entity
        if entity is None:
            continue
        if entity.kind != "Scorecard":
            problems.append(f"{path}: {entity.kind} {entity.name} is not a Scorecard; ignored")
            continue
        try:
            cards.append(build_scorecard(entity, origin))
        except QueryError as exc:
            problems.append(f"{path}: spec.appliesTo: {exc.message} [{entity.ref}]")
    return cards, problems


SCORECARD_FILES = ScorecardFiles()
"""The files read by this process, shared by its re-scores and its passes."""


def read_file_scorecards(
    settings: Settings, files: ScorecardFiles = SCORECARD_FILES
) -> tuple[list[ScorecardDef], list[str]]:
    """The scorecards of the built-in folder and of ``scorecards.paths``; problems as text. A file
    ``files`` has parsed with the same bytes before is not parsed again."""
    return files.read(settings)


def trusted_scorecards(
    rows: Iterable[tuple[str, Mapping[str, Any], str | None]], trust: KindTrust, problems: list[str]
) -> list[tuple[str, Entity]]:
    """The catalog's scorecards that a trusted source defined; the others are named in ``problems``.

    Repositories of untrusted sources are refused their scorecards when they are read; this also
    leaves out one stored before its source lost its trust, or whose repository is gone.
    """
    kept: list[tuple[str, Entity]] = []
    for ref_key, body, source in rows:
        entity = Entity.from_dict(dict(body))
        reason = trust.refusal(entity.kind, source)
        if reason is not None:
            problems.append(f"scorecard {ref_key} is not evaluated: {reason}")
            continue
        kept.append((ref_key, entity))
    return kept


def merge_definitions(
    files: Iterable[ScorecardDef], catalog: Iterable[tuple[str, Entity]], problems: list[str]
) -> Definitions:
    """Combine file and catalog scorecards, the catalog's winning a shared name (see module doc)."""
    chosen: dict[str, ScorecardDef] = {}
    for card in files:
        if card.name in chosen and chosen[card.name].origin == card.origin:
            problems.append(f"scorecard {card.name!r} is defined twice in files; the first is used")
            continue
        chosen[card.name] = card
    ordered = sorted(catalog, key=lambda item: (item[1].namespace != DEFAULT_NAMESPACE, item[0]))
    taken: set[str] = set()
    for ref_key, entity in ordered:
        if entity.name in taken:
            problems.append(f"scorecard {ref_key} has the name of another catalog scorecard; ignored")
            continue
        try:
            card = build_scorecard(entity, "catalog", str(entity.ref))
        except (QueryError, KeyError, ValueError) as exc:
            problems.append(f"scorecard {ref_key} cannot be used: {exc}")
            continue
        taken.add(entity.name)
        chosen[card.name] = card
    return Definitions(sorted(chosen.values(), key=lambda card: card.name), problems)


def unseeable_paths(cards: Iterable[ScorecardDef], fact_paths: Sequence[str]) -> list[str]:
    """A warning for each ``repoFile`` path no sync can record (``unseen_repo_files``), naming the
    scorecard. Such a check fails on every repository, whatever it holds, so it is said when the
    scorecard loads rather than found in the results."""
    return [
        f"scorecard {card.name!r}, {unseen.message}"
        for card in cards
        for unseen in unseen_repo_files(
            [(check.id, {check.form: check.rule}) for check in card.checks], fact_paths
        )
    ]


@dataclass(frozen=True)
class UnseenPath:
    """A ``repoFile`` path of one check that the sync never records, and what to do about it."""

    check_index: int
    check_id: str
    path_index: int
    path: str

    @property
    def message(self) -> str:
        """The words shown in logs, ``catalog-sync validate``, the API and the portal."""
        return (
            f"check {self.check_id!r}: {self.path} can never be seen, because only sync.fact_paths and the"
            f" files directly inside their folders are recorded; add {self.path} to sync.fact_paths"
        )


def unseen_repo_files(checks: Iterable[tuple[str, Any]], fact_paths: Sequence[str]) -> list[UnseenPath]:
    """The ``repoFile`` paths of ``checks`` (each its id and its rule as written, ``{"repoFile":
    {"paths": [...]}}``) that are neither one of ``sync.fact_paths`` nor a file directly inside one of
    their folders."""
    folders = [path for path in fact_paths if path.endswith("/")]
    found = []
    for index, (check_id, rule) in enumerate(checks):
        form = rule.get("repoFile") if isinstance(rule, Mapping) else None
        paths = form.get("paths") if isinstance(form, Mapping) else None
        for position, path in enumerate(paths if isinstance(paths, list) else []):
            if str(path) not in fact_paths and not in_listed_folder(str(path), folders):
                found.append(UnseenPath(index, str(check_id), position, str(path)))
    return found


def check_warnings(checks: Iterable[Mapping[str, Any]], fact_paths: Sequence[str]) -> list[str]:
    """The warnings of a scorecard's checks as the API and the portal show them (each check a mapping
    with its ``id`` and ``rule``, as the store keeps definitions)."""
    pairs = [(str(check.get("id")), check.get("rule")) for check in checks]
    return [unseen.message for unseen in unseen_repo_files(pairs, fact_paths)]
