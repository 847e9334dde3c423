"""Reading a GitHub commit's tree and descriptor blobs through the REST API, for its scan to keep.

Runs in the sync's tip thread, where the source's client (and its credential) lives: one request for
the recursive tree, one per descriptor blob not cached yet (blobs are named by their content, so an
unchanged descriptor costs nothing; each is asked raw, ``RAW_BLOB``, and checked against its sha), and
one for the commit's time only when the branch answer did not carry it. Which blobs a scan will read is
known here from ``descriptors.patterns``, plus the files a Location descriptor names
(``locations.descriptor_files``: only descriptors that mention a Location are parsed), so the scan,
wherever it runs, has every blob it asks for; the history check searches the same files
(``ReadCommit.descriptors``).

Nothing is written here. What was read goes to the scan with the repository, and the process that
opens it writes it into the source's cache (``ReadCommit.keep``) for the passes after. Creating a file
costs the creating process 0.3 to 0.7 ms of CPU on some file systems, and the sync process, which sends
every request of the pass, is the pass's bound: writing two files per repository read cost it 16 to 19
of its CPU seconds in a full pass of 10,000 repositories (``benchmarks/github_bench.py``), where the
scanning processes had time to spare.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from catalog_sync.config import DescriptorSettings
from catalog_sync.descriptors.patterns import compile_patterns
from catalog_sync.errors import AnswerTooLargeError, HostApiError, RepositoryUnreachableError
from catalog_sync.sources.base import TreeEntry
from catalog_sync.sources.githubtree import BlobCache, TreeRecord, parse_raw_blob, parse_time, parse_tree
from catalog_sync.sources.hostapi import HostClient
from catalog_sync.sources.locations import ReadEntry, descriptor_files, in_listing, readable

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
    """A commit ``ApiReader.read`` just read: its time and author, its files (sorted by path), the
    blobs it fetched, and the files read as descriptors, so what the tip thread decides next (whether
    the history is read) reads nothing back from disk. Not in the cache until ``keep`` writes it."""

    commit: str
    committed_at: datetime
    author: str
    files: list[TreeEntry]
    fetched: dict[str, bytes]
    blobs: BlobCache
    descriptors: list[TreeEntry]
    """The files a scan reads as descriptors, in its order: those the patterns match, then those
    Locations name (``locations.descriptor_files``)."""

    def blob(self, sha: str) -> bytes | None:
        """A blob fetched by the read, else the cached one (an unchanged descriptor), else None."""
        data = self.fetched.get(sha)
        return data if data is not None else self.blobs.get(sha)

    def still_whole(self) -> bool:
        """Whether every descriptor blob it found cached is still there, marking each as just used as
        the read did: a read kept past its pass (its scan never ran) may outlive the grace that spared
        them from pruning, and one pruned since has the commit read again rather than scanned without
        it."""
        return all(entry.sha in self.fetched or self.blobs.keep(entry.sha) for entry in self.descriptors)

    def keep(self, record: TreeRecord) -> None:
        """Write the commit into the cache: the blobs fetched, then the tree record that names them
        (pruning, ``githubprune``, spares a blob written or used within its grace period, so none is
        removed between its write and the record's)."""
        for sha, data in self.fetched.items():
            self.blobs.put(sha, data)
        record.write(self.commit, self.committed_at, self.author, self.files)


def blob_answer_bytes(max_file_bytes: int) -> int:
    """The largest answer a blob of ``max_file_bytes`` comes in: its base64 (four bytes for every
    three), a line break every 60 (``\\n`` in the JSON: two bytes), and room for the JSON around it.
    The reading client's bound is raised to it, so no blob a scan may read is refused for its size."""
    encoded = -(-max_file_bytes // 3) * 4
    return encoded + 2 * -(-encoded // 60) + 64 * 1024


class ApiReader:
    """One source's reader; thread-safe (files are written whole, by rename)."""

    def __init__(self, client: HostClient, cache: Path, descriptors: DescriptorSettings) -> None:
        self._client = client
        self.blobs = BlobCache(cache / "blobs")
        self.trees = cache / "trees"
        self._settings = descriptors
        self._pattern = compile_patterns(tuple(descriptors.patterns))

    def record(self, repository_id: int) -> TreeRecord:
        """Where the tree read for a repository is kept."""
        return TreeRecord(self.trees / f"{repository_id}.json")

    def holds(self, repository_id: int, commit: str) -> bool:
        """Whether ``commit`` was read whole: its tree and every descriptor blob a scan reads (a blob
        lost from the cache is read again, not reported missing at every pass)."""
        record = self.record(repository_id).read(commit)
        if record is None:
            return False
        limit = self._settings.max_file_bytes
        wanted = (e for e in record[2] if self._pattern.match(e.path) and readable(e, limit))
        return all(self.blobs.has(e.sha) for e in wanted)

    def read(
        self, repository_id: int, full_name: str, commit: str, facts: CommitFacts | None
    ) -> ReadCommit | None:
        """Read ``commit``, answering what was read (for its scan to ``keep``); None when the host
        truncated its tree, or answered one too large to read (read it otherwise). The descriptor files
        are walked as a scan walks them, Locations followed, each blob fetched unless cached."""
        base = f"/repos/{quote(full_name)}"
        try:
            data = self._client.get(f"{base}/git/trees/{commit}?recursive=1", remember=False).data
        except AnswerTooLargeError:
            return None  # as a tree the host truncated: git reads it, within sync.max_repository_bytes
        except HostApiError as exc:
            raise RepositoryUnreachableError(f"{full_name}: {exc}") from None
        files = parse_tree(data, full_name, self._settings.max_tree_entries)
        if files is None:
            return None
        fetched: dict[str, bytes] = {}
        first = [e for e in files if self._pattern.match(e.path)]
        listed = in_listing({e.path: e for e in files})
        walk = descriptor_files(
            first, self._fetcher(base, full_name, fetched), listed, self._settings.max_file_bytes
        )
        descriptors = [entry for entry, _ in walk]
        if facts is None:
            facts = commit_facts(self._get(f"{base}/commits/{commit}", full_name), full_name)
        return ReadCommit(commit, facts[0], facts[1], files, fetched, self.blobs, descriptors)

    def _get(self, path: str, shown: str) -> Any:
        try:
            return self._client.get(path, remember=False).data
        except HostApiError as exc:
            raise RepositoryUnreachableError(f"{shown}: {exc}") from None

    def _fetcher(self, base: str, shown: str, fetched: dict[str, bytes]) -> ReadEntry:
        """A descriptor's bytes for the walk: the cached blob (marked as used, so pruning spares it),
        else the host's, checked and kept in ``fetched``; the bytes fetched are bounded by
        ``descriptors.max_read_bytes`` as a scan's are."""
        spent = 0

        def read(entry: TreeEntry) -> bytes | None:
            nonlocal spent
            cached = self.blobs.get(entry.sha) if self.blobs.keep(entry.sha) else None
            if cached is not None:
                return cached
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
            return fetched[entry.sha]

        return read


__all__ = ["ApiReader", "CommitFacts", "ReadCommit", "blob_answer_bytes", "commit_facts"]
