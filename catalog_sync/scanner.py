"""One commit of one repository -> its descriptor files, parsed, and the repository's facts.

This is the only stage that looks inside a repository, and it reads as little as it can: only the
folders that ``descriptors.patterns``, ``sync.fact_paths`` and Location targets can reach are listed
(``sources.selection``); only files matched by the patterns (and files named by Location entities)
are read; a file over the size limit, a symbolic link or a submodule is refused from its tree entry,
never read. A budget (``sources.budget``: tree entries, bytes, seconds) bounds all of it, so a hostile
repository fails alone instead of holding the pass. Descriptor ages come from history walks, so they
are reused from the previous scan while the file's blob is unchanged: that keeps a re-sync of a
changed repository cheap.

``scan`` depends only on its arguments (no database; the clock only for its budget's seconds) and its
result pickles, so it runs in worker processes.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from catalog_sync.config import DescriptorSettings, SyncSettings
from catalog_sync.descriptors import location_targets, parse_file, resolve_location_target
from catalog_sync.descriptors.loader import LoadLimits
from catalog_sync.descriptors.parsed import ParsedDocument, ParsedFile
from catalog_sync.descriptors.patterns import compile_patterns
from catalog_sync.descriptors.problems import Problem, Severity
from catalog_sync.errors import DescriptorError
from catalog_sync.sources.base import HISTORY_DAYS, CommitInfo, Snapshot, TreeEntry
from catalog_sync.sources.budget import ScanBudget
from catalog_sync.sources.selection import TreeSelection

RECENT_DAYS = 30
MAX_HISTORY_COMMITS = 1000
"""Commits counted per scan at most; a busier repository's counts are lower bounds (history_truncated)."""
MAX_RELEASE_TAGS = 5000
"""Matching tags looked at per scan, at most."""
MAX_RELEASES = 200
"""Releases kept in the facts, the newest; more than a release a day over the history read is rare."""
MAX_CHANGE_WALK = 1000
"""Commits walked at most to find when a descriptor last changed."""
DEFAULT_SCAN_SECONDS = SyncSettings.scan_timeout_seconds
"""A scan's seconds when the caller gives no budget (the sync engine passes its own)."""

_REGULAR_FILE = 0o100000
_FILE_TYPE_MASK = 0o170000
_SYMLINK = 0o120000
_SUBMODULE = 0o160000
_ABSOLUTE_URL = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*:|//)")
_GLOB = re.compile(r"[*?\[]")


@dataclass
class RepoFacts:
    """What scorecards may ask of a repository beyond its descriptors (``repoFile``, commit recency)."""

    paths_present: dict[str, bool]
    last_commit_at: datetime
    commits_30d: int
    commits_90d: int
    authors_30d: int
    authors_90d: int
    history_truncated: bool
    commits_by_day: dict[str, int] = field(default_factory=dict)
    """Commits of the branch per UTC day over the history read (``change-frequency`` KPIs)."""
    releases: list[dict[str, Any]] = field(default_factory=list)
    """Release tags on the branch over the history read, oldest first: ``{tag, at, changes,
    lead_seconds}``, the changes being the commits it released first (``git`` KPIs)."""
    history_gap: str | None = None
    """Why the history above is the tip alone (``History.missing``): ``git`` KPIs are unknown with it."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe form, kept in the ``repositories.facts`` column."""
        return {
            "paths_present": dict(self.paths_present),
            "last_commit_at": self.last_commit_at.astimezone(UTC).isoformat(),
            "commits_30d": self.commits_30d,
            "commits_90d": self.commits_90d,
            "authors_30d": self.authors_30d,
            "authors_90d": self.authors_90d,
            "history_truncated": self.history_truncated,
            "commits_by_day": dict(self.commits_by_day),
            "releases": list(self.releases),
            "history_gap": self.history_gap,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RepoFacts:
        """Rebuild the facts stored by ``to_dict``."""
        moment = datetime.fromisoformat(str(data["last_commit_at"]))
        return cls(
            paths_present={str(k): bool(v) for k, v in dict(data.get("paths_present") or {}).items()},
            last_commit_at=moment if moment.tzinfo else moment.replace(tzinfo=UTC),
            commits_30d=int(data.get("commits_30d", 0)),
            commits_90d=int(data.get("commits_90d", 0)),
            authors_30d=int(data.get("authors_30d", 0)),
            authors_90d=int(data.get("authors_90d", 0)),
            history_truncated=bool(data.get("history_truncated", False)),
            commits_by_day={str(k): int(v) for k, v in dict(data.get("commits_by_day") or {}).items()},
            releases=[dict(r) for r in data.get("releases") or [] if isinstance(r, Mapping)],
            history_gap=str(data["history_gap"]) if data.get("history_gap") else None,
        )


@dataclass
class ScanResult:
    """Everything read from one commit: parsed descriptor files, facts, and when each file changed."""

    commit: str
    committed_at: datetime
    files: list[ParsedFile]
    facts: RepoFacts
    descriptor_changed: dict[str, datetime] = field(default_factory=dict)
    still_present: list[str] = field(default_factory=list)
    """Descriptor paths of the previous scan not read this time that still exist at this commit."""


def scan(
    snapshot: Snapshot,
    descriptors: DescriptorSettings,
    fact_paths: Sequence[str],
    *,
    previous_blobs: Mapping[str, str] | None = None,
    previous_changed: Mapping[str, datetime] | None = None,
    now: datetime | None = None,
    budget: ScanBudget | None = None,
    release_tag_pattern: str | None = None,
) -> ScanResult:
    """Read the descriptors and facts of ``snapshot``'s commit.

    ``previous_blobs``/``previous_changed`` are the last scan's blob sha and change time per
    descriptor path: a file whose blob is unchanged keeps its time without walking history.
    ``budget`` bounds the scan (by default ``descriptors.max_tree_entries`` and ``max_read_bytes`` and
    ``DEFAULT_SCAN_SECONDS``); spending it raises ``ScanBudgetError`` and nothing is returned.
    ``release_tag_pattern`` (``kpis.release_tag_pattern``) names the tags whose releases the facts list.
    """
    moment = now or datetime.now(UTC)
    spend = budget or scan_budget(descriptors, DEFAULT_SCAN_SECONDS)
    previous = previous_blobs or {}
    selection = TreeSelection(
        globs=descriptors.patterns,
        files=[*(f for f in fact_paths if not f.endswith("/")), *previous],
        folders=fact_paths,
    )
    entries = snapshot.tree(selection, spend)
    listed = {e.path: e for e in entries}
    reader = _Reader(snapshot, dict(listed), descriptors, spend)
    pattern = compile_patterns(tuple(descriptors.patterns))
    for entry in entries:
        if pattern.match(entry.path):
            reader.include(entry.path)
    reader.follow_locations()
    changed = _change_times(snapshot, reader, previous, previous_changed or {}, spend)
    read = {f.path for f in reader.files}
    return ScanResult(
        commit=snapshot.commit,
        committed_at=snapshot.committed_at,
        files=reader.files,
        facts=_facts(snapshot, listed, selection, fact_paths, moment, spend, release_tag_pattern),
        descriptor_changed=changed,
        still_present=[path for path in previous if path not in read and path in listed],
    )


def scan_budget(descriptors: DescriptorSettings, seconds: float) -> ScanBudget:
    """A fresh budget for one scan, from ``descriptors.max_tree_entries``/``max_read_bytes`` and
    ``sync.scan_timeout_seconds``."""
    return ScanBudget(
        max_entries=descriptors.max_tree_entries, max_bytes=descriptors.max_read_bytes, seconds=seconds
    )


class _Reader:
    """Reads descriptor files once each, in order, and follows Location entities breadth-first.

    ``tree`` holds the files listed so far; a Location's targets are listed when its file's turn
    comes, each round of targets in one walk that enters only the folders those targets can be in.
    """

    def __init__(
        self, snapshot: Snapshot, tree: dict[str, TreeEntry], settings: DescriptorSettings, budget: ScanBudget
    ) -> None:
        self.snapshot = snapshot
        self.tree = tree
        self.budget = budget
        self.max_bytes = settings.max_file_bytes
        self.limits = LoadLimits(max_file_bytes=settings.max_file_bytes)
        self.files: list[ParsedFile] = []
        self.read_paths: dict[str, str] = {}
        self._seen: set[str] = set()
        self._followed = 0
        self._listed_files: set[str] = set()
        self._listed_globs: set[str] = set()

    def include(self, path: str) -> None:
        """Read and parse ``path`` unless it was read already (duplicates and cycles end here)."""
        if path in self._seen:
            return
        self._seen.add(path)
        entry = self.tree[path]
        refusal = _refusal(entry, self.max_bytes)
        if refusal is not None:
            problem = Problem(path=_shown(path), severity="error", message=refusal)
            self.files.append(ParsedFile(path=_shown(path), problems=[problem], blob_sha=entry.sha))
            return
        self.budget.read(entry.size)
        try:
            parsed = parse_file(path, self.snapshot.read_blob(entry.sha), self.limits)
        except DescriptorError as exc:
            problem = Problem(path, "error", exc.message, line=exc.line, column=exc.column)
            parsed = ParsedFile(path=path, problems=[problem])
        parsed.blob_sha = entry.sha
        self.files.append(parsed)
        self.read_paths[path] = entry.sha

    def follow_locations(self) -> None:
        """Pull in the files that Location entities name, including those named by pulled-in files."""
        while self._followed < len(self.files):
            batch = self.files[self._followed :]
            self._list_targets(batch)
            for parsed in batch:
                self._followed += 1
                for document, target in _locations(parsed):
                    self._follow(parsed.path, document, target)

    def _list_targets(self, batch: list[ParsedFile]) -> None:
        """List, in one walk, the files that the Locations of ``batch`` may name and are not known yet."""
        files: set[str] = set()
        globs: set[str] = set()
        for parsed in batch:
            for _, target in _locations(parsed):
                resolved = resolve_location_target(parsed.path, target)
                if resolved is None:
                    continue
                if _GLOB.search(resolved):
                    if resolved not in self._listed_globs:
                        globs.add(resolved)
                elif resolved not in self.tree and resolved not in self._listed_files:
                    files.add(resolved)
        if not files and not globs:
            return
        self.budget.check_time()
        selection = TreeSelection(globs=sorted(globs), files=files)
        for entry in self.snapshot.tree(selection, self.budget):
            self.tree.setdefault(entry.path, entry)
        self._listed_files |= files
        self._listed_globs |= globs

    def _follow(self, origin: str, document: ParsedDocument, target: str) -> None:
        text = target.strip()
        resolved = resolve_location_target(origin, target)
        if resolved is None:
            if not (_ABSOLUTE_URL.match(text) or text.startswith("/")):
                _report(origin, document, target, "error", f"target {text!r} points outside the repository")
            return  # an absolute URL is never fetched; validation already warned on its own line
        if _GLOB.search(resolved):
            glob = compile_patterns((resolved,))
            matched = sorted(p for p in self.tree if glob.match(p))
            if not matched:
                _report(
                    origin, document, target, "warning", f"target {text!r} matches no file of this repository"
                )
            for path in matched:
                self.include(path)
            return
        if resolved not in self.tree:
            assert document.entity is not None
            if document.entity.spec.get("presence") != "optional":
                message = f"target {text!r} ({resolved}) is not a file of this repository"
                _report(origin, document, target, "error", message)
            return
        self.include(resolved)


def _locations(parsed: ParsedFile) -> list[tuple[ParsedDocument, str]]:
    """(document, target) for every target of every Location entity of ``parsed``, in order."""
    out: list[tuple[ParsedDocument, str]] = []
    for document in parsed.documents:
        entity = document.entity
        if entity is not None and entity.kind.lower() == "location":
            out.extend((document, target) for target in location_targets(entity))
    return out


def _report(origin: str, document: ParsedDocument, target: str, severity: Severity, message: str) -> None:
    """A problem on the Location document that names ``target``, at the document's position."""
    entity = document.entity
    where = "spec.target" if entity is not None and entity.spec.get("target") == target else "spec.targets"
    document.problems.append(
        Problem(origin, severity, message, line=document.line, column=document.column, field=where,
                entity_ref=document.ref)
    )  # fmt: skip


def _refusal(entry: TreeEntry, max_bytes: int) -> str | None:
    """Why ``entry`` may not be read as a descriptor, judged from the tree entry alone."""
    kind = entry.mode & _FILE_TYPE_MASK
    if kind == _SYMLINK:
        return "is a symbolic link; descriptors must be regular files"
    if kind == _SUBMODULE:
        return "is a submodule; descriptors must be regular files"
    if kind != _REGULAR_FILE:
        return "is not a regular file; descriptors must be regular files"
    if entry.size > max_bytes:
        return (
            f"file is larger than the limit of {max_bytes} bytes (descriptors.max_file_bytes); "
            f"its {entry.size} bytes were not read"
        )
    if _shown(entry.path) != entry.path:
        return "its path is not valid UTF-8"
    return None


def _shown(path: str) -> str:
    """A path as text that can be stored and printed (git paths are bytes; most are UTF-8)."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _change_times(
    snapshot: Snapshot,
    reader: _Reader,
    previous_blobs: Mapping[str, str],
    previous: Mapping[str, datetime],
    budget: ScanBudget,
) -> dict[str, datetime]:
    changed: dict[str, datetime] = {}
    unknown: list[str] = []
    for path, sha in reader.read_paths.items():
        if previous_blobs.get(path) == sha and path in previous:
            changed[path] = previous[path]
        else:
            unknown.append(path)
    if unknown:
        changed.update(snapshot.last_changed(unknown, max_commits=MAX_CHANGE_WALK, budget=budget))
    return changed


def _facts(
    snapshot: Snapshot,
    listed: Mapping[str, TreeEntry],
    selection: TreeSelection,
    fact_paths: Sequence[str],
    now: datetime,
    budget: ScanBudget,
    release_tag_pattern: str | None = None,
) -> RepoFacts:
    """A path ending in ``/`` is present when a file lives below it, any other when it is a file; the
    files directly inside a listed folder are recorded as present too (``docs/index.md`` for ``docs/``)."""
    occupied = selection.occupied
    present = dict.fromkeys(sorted(selection.files_in_folders), True)
    present.update({fact: fact in occupied if fact.endswith("/") else fact in listed for fact in fact_paths})
    history = snapshot.history(
        now - timedelta(days=HISTORY_DAYS), max_commits=MAX_HISTORY_COMMITS, budget=budget
    )
    recent = now - timedelta(days=RECENT_DAYS)
    in_90 = [c for c in history.commits if c.committed_at <= now]
    in_30 = [c for c in in_90 if c.committed_at >= recent]
    return RepoFacts(
        paths_present=present,
        last_commit_at=snapshot.committed_at,
        commits_30d=len(in_30),
        commits_90d=len(in_90),
        authors_30d=len({c.author for c in in_30}),
        authors_90d=len({c.author for c in in_90}),
        history_truncated=history.truncated,
        commits_by_day=dict(Counter(c.committed_at.astimezone(UTC).date().isoformat() for c in in_90)),
        releases=_releases(snapshot, in_90, release_tag_pattern) if release_tag_pattern else [],
        history_gap=history.missing,
    )


def _releases(snapshot: Snapshot, commits: Sequence[CommitInfo], pattern: str) -> list[dict[str, Any]]:
    """The release tags among the commits read, each with the commits it released first.

    The history walk already read these commits, so this costs one read of the tag refs and nothing
    per commit. A commit is released by the first release at or after its time that the branch holds
    (exact for a linear history, the common case for release branches' tips).
    """
    at = {c.sha: c.committed_at for c in commits}
    tagged: dict[str, str] = {}
    for tag in snapshot.release_tags(pattern, max_tags=MAX_RELEASE_TAGS):
        if tag.commit in at:
            tagged.setdefault(tag.commit, tag.name)
    releases = sorted((at[sha], name) for sha, name in tagged.items())[-MAX_RELEASES:]
    if not releases:
        return []
    changes = [0] * len(releases)
    lead = [0.0] * len(releases)
    times = [moment for moment, _ in releases]
    for commit in commits:
        index = bisect.bisect_left(times, commit.committed_at)
        if index < len(releases):
            changes[index] += 1
            lead[index] += (times[index] - commit.committed_at).total_seconds()
    return [
        {
            "tag": name,
            "at": moment.astimezone(UTC).isoformat(),
            "changes": changes[i],
            "lead_seconds": lead[i],
        }
        for i, (moment, name) in enumerate(releases)
    ]


__all__ = ["HISTORY_DAYS", "RepoFacts", "ScanResult", "scan", "scan_budget"]
