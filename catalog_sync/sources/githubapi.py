"""Reading a GitHub commit's tree and descriptor blobs through the REST API into the source's cache.

Runs in the sync's tip thread, where the source's client (and its credential) lives: one request for
the recursive tree, one per descriptor blob not cached yet (blobs are named by their content, so an
unchanged descriptor costs nothing; each is asked raw, ``RAW_BLOB``, and checked against its sha), and
one for the commit's time only when the branch answer did not carry it. Which blobs a scan will read is
known here from ``descriptors.patterns``, plus the files a Location descriptor names (parsed here only
for descriptors that mention a Location), so the scan, wherever it runs, finds every blob it asks for
in the cache.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from catalog_sync.config import DescriptorSettings
from catalog_sync.descriptors import location_targets, parse_file
from catalog_sync.descriptors.loader import LoadLimits
from catalog_sync.descriptors.patterns import compile_patterns
from catalog_sync.errors import DescriptorError, HostApiError, RepositoryUnreachableError
from catalog_sync.sources.base import TreeEntry
from catalog_sync.sources.githubtree import BlobCache, TreeRecord, parse_raw_blob, parse_time, parse_tree
from catalog_sync.sources.hostapi import HostClient

_REGULAR = 0o100000
_FILE_TYPE = 0o170000
_GLOB = re.compile(r"[*?\[]")
_URL = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*:|//)")
_MAX_ROUNDS = 20
RAW_BLOB = "application/vnd.github.raw+json"
"""The media type in which GitHub answers a blob with its bytes: no JSON, no base64 to decode."""

CommitFacts = tuple[datetime, str]
"""A commit's committer time and its author's e-mail (lower case), as the facts record them."""


def commit_facts(data: Any, shown: str) -> CommitFacts:
    """Time and author from a commit object as GitHub nests it (``commit.committer.date``)."""
    inner = data.get("commit") if isinstance(data, dict) else None
    committer = inner.get("committer") if isinstance(inner, dict) else None
    author = inner.get("author") if isinstance(inner, dict) else None
    if not isinstance(committer, dict):
        raise RepositoryUnreachableError(f"{shown}: the host's commit has no committer")
    email = author.get("email") if isinstance(author, dict) else None
    return parse_time(committer.get("date"), shown), email.strip().lower() if isinstance(email, str) else ""


@dataclass(frozen=True)
class ReadCommit:
    """A commit ``ApiReader.read`` just read: its files (sorted by path) and the blobs it fetched, so
    what the tip thread decides next (whether the history is read) reads nothing back from disk."""

    files: list[TreeEntry]
    fetched: dict[str, bytes]
    blobs: BlobCache

    def blob(self, sha: str) -> bytes | None:
        """A blob fetched by the read, else the cached one (an unchanged descriptor), else None."""
        data = self.fetched.get(sha)
        return data if data is not None else self.blobs.get(sha)


class ApiReader:
    """One source's reader; thread-safe (files are written whole, by rename)."""

    def __init__(self, client: HostClient, cache: Path, descriptors: DescriptorSettings) -> None:
        self._client = client
        self.blobs = BlobCache(cache / "blobs")
        self.trees = cache / "trees"
        self._settings = descriptors
        self._pattern = compile_patterns(tuple(descriptors.patterns))
        self._limits = LoadLimits(max_file_bytes=descriptors.max_file_bytes)

    def record(self, repository_id: int) -> TreeRecord:
        """Where the tree read for a repository is kept."""
        return TreeRecord(self.trees / f"{repository_id}.json")

    def holds(self, repository_id: int, commit: str) -> bool:
        """Whether ``commit`` was read whole: its tree and every descriptor blob a scan reads (a blob
        lost from the cache is read again, not reported missing at every pass)."""
        record = self.record(repository_id).read(commit)
        if record is None:
            return False
        wanted = (e for e in record[2] if self._pattern.match(e.path) and self._readable(e))
        return all(self.blobs.has(e.sha) for e in wanted)

    def read(
        self, repository_id: int, full_name: str, commit: str, facts: CommitFacts | None
    ) -> ReadCommit | None:
        """Read ``commit`` into the cache, answering what was read; None when the host truncated its
        tree (read it otherwise)."""
        base = f"/repos/{quote(full_name)}"
        data = self._get(f"{base}/git/trees/{commit}?recursive=1", full_name)
        files = parse_tree(data, full_name, self._settings.max_tree_entries)
        if files is None:
            return None
        by_path = {e.path: e for e in files}
        descriptors = [e for e in files if self._pattern.match(e.path)]
        fetched: dict[str, bytes] = {}
        spent = self._fetch(base, full_name, descriptors, 0, fetched)
        self._follow_locations(base, full_name, by_path, descriptors, spent, fetched)
        if facts is None:
            facts = commit_facts(self._get(f"{base}/commits/{commit}", full_name), full_name)
        self.record(repository_id).write(commit, facts[0], facts[1], files)
        return ReadCommit(files, fetched, self.blobs)

    def _get(self, path: str, shown: str) -> Any:
        try:
            return self._client.get(path, remember=False).data
        except HostApiError as exc:
            raise RepositoryUnreachableError(f"{shown}: {exc}") from None

    def _fetch(
        self, base: str, shown: str, entries: Iterable[TreeEntry], spent: int, fetched: dict[str, bytes]
    ) -> int:
        """Fetch the readable blobs of ``entries`` not cached yet (kept in ``fetched`` too, so looking
        for Locations reads no file back; a cached one is marked as used, so pruning spares it); the
        bytes spent so far, bounded by ``descriptors.max_read_bytes`` as a scan is."""
        for entry in entries:
            if not self._readable(entry) or self.blobs.keep(entry.sha):
                continue
            spent += entry.size
            if spent > self._settings.max_read_bytes:
                raise RepositoryUnreachableError(
                    f"{shown}: its descriptors take more than {self._settings.max_read_bytes} bytes "
                    "(descriptors.max_read_bytes); nothing was read from it"
                )
            where = f"{shown}: {entry.path}"
            try:
                answer = self._client.get_bytes(f"{base}/git/blobs/{entry.sha}", RAW_BLOB)
            except HostApiError as exc:
                raise RepositoryUnreachableError(f"{where}: {exc}") from None
            fetched[entry.sha] = parse_raw_blob(answer, entry.sha, where)
            self.blobs.put(entry.sha, fetched[entry.sha])
        return spent

    def _readable(self, entry: TreeEntry) -> bool:
        """What a scan would read: a regular file within ``descriptors.max_file_bytes``."""
        return entry.mode & _FILE_TYPE == _REGULAR and entry.size <= self._settings.max_file_bytes

    def _follow_locations(
        self,
        base: str,
        shown: str,
        by_path: dict[str, TreeEntry],
        first: list[TreeEntry],
        spent: int,
        fetched: dict[str, bytes],
    ) -> None:
        """Fetch the files Location descriptors name, round by round, as the scan will follow them."""
        seen = {e.path for e in first}
        batch = first
        for _ in range(_MAX_ROUNDS):
            named: list[TreeEntry] = []
            for entry in batch:
                for target in self._targets(entry, fetched):
                    named.extend(e for e in self._resolve(entry.path, target, by_path) if e.path not in seen)
            if not named:
                return
            seen.update(e.path for e in named)
            spent = self._fetch(base, shown, named, spent, fetched)
            batch = named

    def _targets(self, entry: TreeEntry, fetched: dict[str, bytes]) -> list[str]:
        data = (fetched.get(entry.sha) or self.blobs.get(entry.sha)) if self._readable(entry) else None
        if data is None or b"location" not in data.lower():
            return []
        try:
            parsed = parse_file(entry.path, data, self._limits)
        except DescriptorError:
            return []
        out: list[str] = []
        for document in parsed.documents:
            entity = document.entity
            if entity is not None and entity.kind.lower() == "location":
                out.extend(location_targets(entity))
        return out

    @staticmethod
    def _resolve(origin: str, target: str, by_path: dict[str, TreeEntry]) -> list[TreeEntry]:
        text = target.strip()
        if _URL.match(text) or text.startswith("/"):
            return []
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(origin), text))
        if resolved == ".." or resolved.startswith("../"):
            return []
        if _GLOB.search(resolved):
            glob = compile_patterns((resolved,))
            return [e for path, e in by_path.items() if glob.match(path)]
        found = by_path.get(resolved)
        return [found] if found is not None else []


__all__ = ["ApiReader", "CommitFacts", "ReadCommit", "commit_facts"]
