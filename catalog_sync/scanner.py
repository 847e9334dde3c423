"""One commit of one repository -> its descriptor files, parsed, and the repository's facts.

This is the only stage that looks inside a repository, and it reads as little as it can: the tree is
listed once; only files matched by ``descriptors.patterns`` (and files named by Location entities)
are read; a file over the size limit, a symbolic link or a submodule is refused from its tree entry,
never read. Descriptor ages come from history walks, so they are reused from the previous scan while
the file's blob is unchanged: that keeps a re-sync of a changed repository cheap.

``scan`` depends only on its arguments (no clock, no database) and its result pickles, so it runs in
worker processes.
"""

from __future__ import annotations

import bisect
import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from catalog_sync.config import DescriptorSettings
from catalog_sync.descriptors import location_targets, parse_file
from catalog_sync.descriptors.loader import LoadLimits
from catalog_sync.descriptors.parsed import ParsedDocument, ParsedFile
from catalog_sync.descriptors.patterns import compile_patterns
from catalog_sync.descriptors.problems import Problem, Severity
from catalog_sync.errors import DescriptorError
from catalog_sync.sources.base import Snapshot, TreeEntry

HISTORY_DAYS = 90
RECENT_DAYS = 30
MAX_HISTORY_COMMITS = 1000
"""Commits counted per scan at most; a busier repository's counts are lower bounds (history_truncated)."""
MAX_CHANGE_WALK = 1000
"""Commits walked at most to find when a descriptor last changed."""

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
        )


@dataclass
class ScanResult:
    """Everything read from one commit: parsed descriptor files, facts, and when each file changed."""

    commit: str
    committed_at: datetime
    files: list[ParsedFile]
    facts: RepoFacts
    descriptor_changed: dict[str, datetime] = field(default_factory=dict)


def scan(
    snapshot: Snapshot,
    descriptors: DescriptorSettings,
    fact_paths: Sequence[str],
    *,
    previous_blobs: Mapping[str, str] | None = None,
    previous_changed: Mapping[str, datetime] | None = None,
    now: datetime | None = None,
) -> ScanResult:
    """Read the descriptors and facts of ``snapshot``'s commit.

    ``previous_blobs``/``previous_changed`` are the last scan's blob sha and change time per
    descriptor path: a file whose blob is unchanged keeps its time without walking history.
    """
    moment = now or datetime.now(UTC)
    entries = snapshot.tree()
    reader = _Reader(snapshot, {e.path: e for e in entries}, descriptors)
    pattern = compile_patterns(tuple(descriptors.patterns))
    for entry in entries:
        if pattern.match(entry.path):
            reader.include(entry.path)
    reader.follow_locations()
    changed = _change_times(snapshot, reader, previous_blobs or {}, previous_changed or {})
    return ScanResult(
        commit=snapshot.commit,
        committed_at=snapshot.committed_at,
        files=reader.files,
        facts=_facts(snapshot, entries, fact_paths, moment),
        descriptor_changed=changed,
    )


class _Reader:
    """Reads descriptor files once each, in order, and follows Location entities breadth-first."""

    def __init__(self, snapshot: Snapshot, tree: dict[str, TreeEntry], settings: DescriptorSettings) -> None:
        self.snapshot = snapshot
        self.tree = tree
        self.max_bytes = settings.max_file_bytes
        self.limits = LoadLimits(max_file_bytes=settings.max_file_bytes)
        self.files: list[ParsedFile] = []
        self.read_paths: dict[str, str] = {}
        self._seen: set[str] = set()
        self._followed = 0

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
            parsed = self.files[self._followed]
            self._followed += 1
            for document in parsed.documents:
                entity = document.entity
                if entity is None or entity.kind.lower() != "location":
                    continue
                for target in location_targets(entity):
                    self._follow(parsed.path, document, target)

    def _follow(self, origin: str, document: ParsedDocument, target: str) -> None:
        text = target.strip()
        if _ABSOLUTE_URL.match(text) or text.startswith("/"):
            return  # never fetched; validation already warned about it on the target's own line
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(origin), text))
        if resolved == ".." or resolved.startswith("../"):
            _report(origin, document, target, "error", f"target {text!r} points outside the repository")
            return
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
    snapshot: Snapshot, reader: _Reader, previous_blobs: Mapping[str, str], previous: Mapping[str, datetime]
) -> dict[str, datetime]:
    changed: dict[str, datetime] = {}
    unknown: list[str] = []
    for path, sha in reader.read_paths.items():
        if previous_blobs.get(path) == sha and path in previous:
            changed[path] = previous[path]
        else:
            unknown.append(path)
    if unknown:
        changed.update(snapshot.last_changed(unknown, max_commits=MAX_CHANGE_WALK))
    return changed


def _facts(
    snapshot: Snapshot, entries: list[TreeEntry], fact_paths: Sequence[str], now: datetime
) -> RepoFacts:
    paths = sorted(entry.path for entry in entries)
    present: dict[str, bool] = {}
    for fact in fact_paths:
        if fact.endswith("/"):
            at = bisect.bisect_left(paths, fact)
            present[fact] = at < len(paths) and paths[at].startswith(fact)
        else:
            at = bisect.bisect_left(paths, fact)
            present[fact] = at < len(paths) and paths[at] == fact
    history = snapshot.history(now - timedelta(days=HISTORY_DAYS), max_commits=MAX_HISTORY_COMMITS)
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
    )


__all__ = ["HISTORY_DAYS", "RepoFacts", "ScanResult", "scan"]
