"""A commit of a GitHub repository read through the REST API, kept on disk so a scan needs no client.

A shallow fetch starts about eight processes per repository; the API answers the same questions in
one request for the tree (``git/trees/{commit}?recursive=1``: every path, mode, sha and size) and one
per descriptor blob (``git/blobs/{sha}``), and a blob is content-addressed, so a descriptor that did
not change is never asked for again. Everything is read in the sync's tip thread (``prefetch``) and
written under the source's cache folder: the tree of the commit read per repository, the blobs by sha
(checked against their sha, so a host cannot put other content under a name). A scan, in whichever
process, opens an ``ApiSnapshot`` over those files and holds no credential.

The host's answers are checked like any other input: a tree with more entries than
``descriptors.max_tree_entries``, a path that is absolute, empty, climbs (``..``), is listed twice or
holds a lone surrogate, an unknown type or mode, a malformed sha or size, a ``truncated`` flag that is
not a boolean: the repository fails alone with a message naming the field.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import itertools
import json
import os
import re
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from catalog_sync.errors import RepositoryUnreachableError, SourceError
from catalog_sync.sources.base import CommitInfo, History, PathSelection, TagInfo, TreeEntry
from catalog_sync.sources.budget import ScanBudget

_SHA = re.compile(r"^[0-9a-f]{40}$")
_MODES = {"100644": "blob", "100755": "blob", "120000": "blob", "160000": "commit", "040000": "tree"}
_MAX_PATH = 4096


def blob_sha(data: bytes) -> str:
    """Git's name of a blob holding ``data``: what the host's answer must hash to."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def parse_tree(data: Any, shown: str, max_entries: int) -> list[TreeEntry] | None:
    """The files of a recursive tree answer, sorted by path; None when the host truncated it."""
    if not isinstance(data, dict) or not isinstance(data.get("tree"), list):
        raise RepositoryUnreachableError(f"{shown}: the host's tree answer has no 'tree' list")
    truncated = data.get("truncated", False)
    if not isinstance(truncated, bool):
        # Read as "not cut", a cut tree would lose its missing descriptors' entities: refuse instead.
        raise RepositoryUnreachableError(f"{shown}: the host's tree answer has no true or false 'truncated'")
    if truncated:
        return None
    rows = data["tree"]
    if len(rows) > max_entries:
        raise RepositoryUnreachableError(
            f"{shown}: the host's tree lists {len(rows)} entries, more than {max_entries} "
            "(descriptors.max_tree_entries); nothing was read from it"
        )
    files: list[TreeEntry] = []
    for index, row in enumerate(rows):
        entry = _entry(row, f"{shown}: entry {index} of the host's tree")
        if entry is not None:
            files.append(entry)
    files.sort(key=lambda e: e.path)
    for before, after in itertools.pairwise(files):
        if before.path == after.path:
            raise RepositoryUnreachableError(
                f"{shown}: the host's tree lists {after.path!r} twice; a git tree cannot, so it is refused"
            )
    return files


def _entry(row: Any, where: str) -> TreeEntry | None:
    """One checked row; None for a folder (a recursive tree lists its files anyway)."""
    if not isinstance(row, dict):
        raise RepositoryUnreachableError(f"{where} is not an object")
    path, mode, kind, sha = row.get("path"), row.get("mode"), row.get("type"), row.get("sha")
    if not isinstance(path, str) or not _safe_path(path):
        raise RepositoryUnreachableError(
            f"{where}: 'path' {str(path)[:80]!r} is not a relative path inside the repository; refused"
        )
    if not isinstance(mode, str) or _MODES.get(mode) is None or _MODES[mode] != kind:
        raise RepositoryUnreachableError(
            f"{where} ({path}): 'mode' {str(mode)[:20]!r} and 'type' {str(kind)[:20]!r} are not a git entry"
        )
    if not isinstance(sha, str) or not _SHA.match(sha):
        raise RepositoryUnreachableError(f"{where} ({path}): 'sha' is not a 40-hex object id")
    if kind == "tree":
        return None
    size = row.get("size", 0) if kind == "blob" else 0
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise RepositoryUnreachableError(f"{where} ({path}): 'size' is not a byte count")
    return TreeEntry(path, sha, int(mode, 8), size)


def _safe_path(path: str) -> bool:
    """A path git could have written, inside the repository. A backslash is a character of a name here,
    as on the git side (``gitread``): no file is made from the path, and refusing it would fail a whole
    repository for one file a Windows tool committed. A lone surrogate (which JSON can carry, and no
    UTF-8 text, SQLite or PostgreSQL can) is refused: the path is quoted in errors the store keeps, and
    storing one would fail the whole pass."""
    if not path or len(path) > _MAX_PATH or path.startswith("/") or "\0" in path:
        return False
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return all(part not in ("", ".", "..", ".git") for part in path.split("/"))


def parse_blob(data: Any, sha: str, shown: str) -> bytes:
    """A blob answer's bytes (base64 JSON), refused unless they hash to ``sha``."""
    content = data.get("content") if isinstance(data, dict) else None
    if not isinstance(content, str) or data.get("encoding") != "base64":
        raise RepositoryUnreachableError(f"{shown}: the host's answer for blob {sha} has no base64 'content'")
    try:
        raw = base64.b64decode(content.replace("\n", ""), validate=True)
    except (binascii.Error, ValueError):
        raise RepositoryUnreachableError(f"{shown}: blob {sha}'s 'content' is not base64") from None
    if blob_sha(raw) != sha:
        raise RepositoryUnreachableError(f"{shown}: the host's content for blob {sha} does not hash to it")
    return raw


def parse_raw_blob(content: bytes, sha: str, shown: str) -> bytes:
    """A blob answer asked in the raw media type: its bytes, refused unless they hash to ``sha``; a
    host that ignored the media type and answered base64 JSON is read as ``parse_blob`` reads it."""
    if blob_sha(content) == sha:
        return content
    try:
        data = json.loads(content)
    except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth
        raise RepositoryUnreachableError(
            f"{shown}: the host's content for blob {sha} does not hash to it"
        ) from None
    return parse_blob(data, sha, shown)


def parse_time(value: Any, shown: str) -> datetime:
    """An ISO 8601 time of an answer (``2026-01-01T00:00:00Z``), in UTC. A time UTC cannot hold (year 1
    east of Greenwich, year 9999 west of it) is refused here, where the message can name it, rather
    than failing later wherever it is first converted."""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise RepositoryUnreachableError(f"{shown}: the host's commit has no valid committer date") from None


class BlobCache:
    """Blobs by sha under one folder; a blob is written once, whole, and read by any process."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, sha: str) -> Path:
        if not _SHA.match(sha):
            raise SourceError(f"{sha!r} is not a blob id")
        return self.root / sha[:2] / sha[2:]

    def get(self, sha: str) -> bytes | None:
        """The blob's bytes, or None when it was never read."""
        try:
            return self._path(sha).read_bytes()
        except OSError:
            return None

    def has(self, sha: str) -> bool:
        """Whether the blob is cached."""
        return self._path(sha).is_file()

    def keep(self, sha: str) -> bool:
        """Whether the blob is cached, marking it as just used: pruning (``githubprune``) spares a blob
        touched within its grace period, so one a read is about to name in a tree record is not
        removed between this call and that record's write (by a worker sharing the cache folder)."""
        try:
            os.utime(self._path(sha))
        except OSError:
            return False
        return True

    def put(self, sha: str, data: bytes) -> None:
        """Keep a blob whose bytes were checked against ``sha``."""
        write_whole(self._path(sha), data)


def write_whole(path: Path, data: bytes) -> None:
    """Write whole or not at all; the folder is made only when missing (a full pass writes thousands).
    Plain system calls: Python's file objects add a size, a terminal and a position query to each."""
    temporary = f"{path}.tmp-{os.getpid()}-{threading.get_ident()}"
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    try:
        descriptor = os.open(temporary, flags, 0o644)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(temporary, flags, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view) :]
    finally:
        os.close(descriptor)
    os.replace(temporary, path)


class TreeRecord:
    """The tree read for one repository's commit, with the commit's time and author: one file per
    repository, replaced when a newer commit is read."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, commit: str, committed_at: datetime, author: str, files: list[TreeEntry]) -> None:
        """Keep the commit's listing (whole or not at all)."""
        rows = [[e.path, e.sha, e.mode, e.size] for e in files]
        record = {"commit": commit, "at": committed_at.isoformat(), "author": author, "files": rows}
        write_whole(self.path, json.dumps(record, separators=(",", ":")).encode())

    def read(self, commit: str) -> tuple[datetime, str, list[TreeEntry]] | None:
        """The listing of ``commit``, or None when another commit (or none) was read."""
        try:
            record = json.loads(self.path.read_bytes())
            if record.get("commit") != commit:
                return None
            files = [TreeEntry(str(p), str(s), int(m), int(z)) for p, s, m, z in record["files"]]
            return datetime.fromisoformat(record["at"]), str(record["author"]), files
        except (OSError, ValueError, KeyError, TypeError, RecursionError):  # damaged: read again
            return None


class ApiSnapshot:
    """The Snapshot of a commit read through the API: the tree and blobs from the cache, the tip as
    the whole history (``truncated``), and no tags."""

    def __init__(
        self,
        commit: str,
        branch: str,
        committed_at: datetime,
        author: str,
        files: list[TreeEntry],
        blobs: BlobCache,
    ) -> None:
        self._commit = commit
        self._branch = branch
        self._committed_at = committed_at
        self._author = author
        self._files = files
        self._blobs = blobs
        self._folders: dict[str, tuple[list[str], list[TreeEntry]]] | None = None

    @property
    def commit(self) -> str:
        """The commit's full sha."""
        return self._commit

    @property
    def branch(self) -> str:
        """The branch the commit is the tip of."""
        return self._branch

    @property
    def committed_at(self) -> datetime:
        """The commit's committer time."""
        return self._committed_at

    def _index(self) -> dict[str, tuple[list[str], list[TreeEntry]]]:
        """Folder -> (its sub-folders, its files), built once from the flat listing."""
        if self._folders is None:
            folders: dict[str, tuple[list[str], list[TreeEntry]]] = {"": ([], [])}
            for entry in self._files:
                parent = entry.path[: entry.path.rfind("/") + 1]
                missing: list[str] = []
                at = parent
                while at not in folders:
                    missing.append(at)
                    at = at[: at.rfind("/", 0, len(at) - 1) + 1]
                for folder in reversed(missing):
                    folders[folder] = ([], [])
                    folders[folder[: folder.rfind("/", 0, len(folder) - 1) + 1]][0].append(folder)
                folders[parent][1].append(entry)
            self._folders = folders
        return self._folders

    def tree(
        self, selection: PathSelection | None = None, budget: ScanBudget | None = None
    ) -> list[TreeEntry]:
        """The files ``selection`` keeps, walked folder by folder as a git tree is (so ``enters`` is
        asked in the same order), each folder's entries charged to ``budget``."""
        index = self._index()
        out: list[TreeEntry] = []
        stack = [""]
        while stack:
            prefix = stack.pop()
            if prefix and selection is not None and not selection.enters(prefix):
                continue
            subfolders, files = index.get(prefix, ([], []))
            if budget is not None:
                budget.read(len(prefix))
                budget.visit(len(subfolders) + len(files))
            stack.extend(sorted(subfolders, reverse=True))
            out.extend(e for e in files if selection is None or selection.keeps(e.path))
        out.sort(key=lambda entry: entry.path)
        return out

    def read_blob(self, sha: str) -> bytes:
        """A blob read ahead by the sync; one that was not is an error of this repository."""
        data = self._blobs.get(sha)
        if data is None:
            raise RepositoryUnreachableError(
                f"blob {sha} of commit {self._commit} was not read from the host; the next pass reads it"
            )
        return data

    def history(self, since: datetime, max_commits: int = 1000, budget: ScanBudget | None = None) -> History:
        """The tip alone, ``truncated``: the history is never read."""
        if self._committed_at < since or max_commits < 1:
            return History()
        return History([CommitInfo(self._commit, self._committed_at, self._author)], truncated=True)

    def last_changed(
        self, paths: list[str], max_commits: int = 1000, budget: ScanBudget | None = None
    ) -> dict[str, datetime]:
        """The tip's time for every path, as a depth-1 clone answers: no history was read."""
        return dict.fromkeys(paths, self._committed_at)

    def release_tags(self, pattern: str, max_tags: int = 1000) -> list[TagInfo]:
        """No tags are read through the API."""
        return []

    def close(self) -> None:
        """Nothing is held open."""
        self._folders = None


__all__ = [
    "ApiSnapshot",
    "BlobCache",
    "TreeRecord",
    "blob_sha",
    "parse_blob",
    "parse_raw_blob",
    "parse_time",
    "parse_tree",
    "write_whole",
]
