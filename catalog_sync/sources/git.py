"""A remote git repository named by URL: the ``git`` source type.

A re-sync must be cheap, so ``tip`` runs only ``git ls-remote``; the objects are fetched into a bare
cache clone only when the tip is a commit the cache does not hold yet. Everything handed to git is
locked down twice: ``check_url`` refuses bad transports before git runs, and git itself is told which
protocols it may use (``protocol.allow=never`` plus the allowed ones), never to prompt, and to run no
hooks. The URL reaches git through the environment (``GIT_CONFIG_*``), not the command line, so
credentials in it never show in a process list, a log line or an error; git's stderr is redacted.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

from git.cmd import Git

from catalog_sync.config import SourceSettings
from catalog_sync.errors import RepositoryUnreachableError, SourceError
from catalog_sync.sources.base import Repository, RepositoryInfo
from catalog_sync.sources.gitobjects import ObjectStore
from catalog_sync.sources.gitread import GitSnapshot
from catalog_sync.sources.urls import check_url, redact

REMOTE = "catalog-sync-source"
LS_REMOTE_TIMEOUT = 60.0
FETCH_TIMEOUT = 600.0
_MAX_STDERR = 600


def git_environment(url: str, allowed_protocols: Sequence[str]) -> dict[str, str]:
    """The environment every git process of a source runs with: the locks described above."""
    config = [
        (f"remote.{REMOTE}.url", url),
        ("protocol.allow", "never"),
        *((f"protocol.{name}.allow", "always") for name in sorted(set(allowed_protocols))),
        ("core.hooksPath", os.devnull),
        ("credential.interactive", "never"),
        ("http.followRedirects", "initial"),
    ]
    start = int(os.environ.get("GIT_CONFIG_COUNT", "0") or 0)
    env = {
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ASKPASS": "echo",
        "SSH_ASKPASS": "echo",
        "GIT_PROTOCOL_FROM_USER": "0",
        "GIT_CONFIG_COUNT": str(start + len(config)),
    }
    if "GIT_SSH_COMMAND" not in os.environ and "GIT_SSH" not in os.environ:
        env["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes"
    for offset, (key, value) in enumerate(config):
        env[f"GIT_CONFIG_KEY_{start + offset}"] = key
        env[f"GIT_CONFIG_VALUE_{start + offset}"] = value
    return env


def repository_name(url: str) -> str:
    """A display name from a URL: its last path component without ``.git``."""
    tail = re.split(r"[/:]", redact(url).rstrip("/"))[-1]
    return tail[:-4] if tail.endswith(".git") and len(tail) > 4 else tail or url


class GitRepository:
    """One remote repository with its bare cache clone under ``cache_dir``."""

    def __init__(
        self,
        url: str,
        branch: str | None,
        cache_dir: str | Path,
        allowed_protocols: Sequence[str],
        *,
        ls_remote_timeout: float = LS_REMOTE_TIMEOUT,
        fetch_timeout: float = FETCH_TIMEOUT,
    ) -> None:
        self._url = check_url(url, allowed_protocols)
        self._shown = redact(url)
        self._allowed = tuple(allowed_protocols)
        self._branch = branch
        self._resolved: str | None = branch
        digest = hashlib.sha256(self._shown.encode()).hexdigest()[:16]
        self._cache = Path(cache_dir) / digest
        self._ls_timeout = ls_remote_timeout
        self._fetch_timeout = fetch_timeout
        self.fetches = 0
        """How many fetches this object ran; a re-sync of an unchanged repository runs none."""

    @property
    def info(self) -> RepositoryInfo:
        """Identity and display data; the URL is redacted and the branch is known after ``tip``."""
        return RepositoryInfo(
            key=self._shown, name=repository_name(self._url), url=self._shown, branch=self._resolved
        )

    @property
    def cache_path(self) -> Path:
        """The bare clone this repository is read from."""
        return self._cache

    def _git(self, args: list[str], *, timeout: float, cwd: Path | None = None) -> str:
        check_url(self._url, self._allowed)
        runner = Git(str(cwd) if cwd else None)
        status, out, err = runner.execute(
            ["git", *args],
            with_extended_output=True,
            with_exceptions=False,
            kill_after_timeout=timeout,
            env=git_environment(self._url, self._allowed),
        )
        if status != 0:
            lines = (line.strip() for line in redact(str(err)).splitlines())
            detail = " ".join(line for line in lines if line)[-_MAX_STDERR:] or f"exit status {status}"
            raise RepositoryUnreachableError(f"{self._shown}: git {args[0]} failed: {detail}")
        return str(out)

    def tip(self) -> str:
        """The branch's tip from ``git ls-remote`` alone; the default branch comes from HEAD's symref."""
        if self._branch:
            ref = f"refs/heads/{self._branch}"
            out = self._git(["ls-remote", "--", REMOTE, ref], timeout=self._ls_timeout, cwd=self._workdir())
            for line in out.splitlines():
                commit, _, name = line.partition("\t")
                if name == ref:
                    return commit
            raise RepositoryUnreachableError(
                f"{self._shown}: branch {self._branch!r} not found on the remote"
            )
        symref = ["ls-remote", "--symref", "--", REMOTE, "HEAD"]
        out = self._git(symref, timeout=self._ls_timeout, cwd=self._workdir())
        tip: str | None = None
        for line in out.splitlines():
            first, _, name = line.partition("\t")
            if first.startswith("ref: refs/heads/") and name == "HEAD":
                self._resolved = first[len("ref: refs/heads/") :]
            elif name == "HEAD":
                tip = first
        if tip is None:
            raise RepositoryUnreachableError(f"{self._shown}: the remote has no default branch with commits")
        return tip

    def snapshot(self, commit: str) -> GitSnapshot:
        """Open ``commit`` from the cache clone, fetching only when the cache lacks it."""
        if not self._has(commit):
            with self._locked():
                if not self._has(commit):
                    self._fetch(commit)
        try:
            return GitSnapshot(self._cache, commit, self._resolved or "HEAD")
        except SourceError as exc:
            raise RepositoryUnreachableError(f"{self._shown}: {exc}") from exc

    def _has(self, commit: str) -> bool:
        if not (self._cache / "HEAD").is_file():
            return False
        store = ObjectStore(self._cache / "objects")
        try:
            return store.contains(commit)
        finally:
            store.close()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One fetch per cache at a time, across threads and worker processes."""
        self._cache.parent.mkdir(parents=True, exist_ok=True)
        with open(self._cache.with_suffix(".lock"), "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _workdir(self) -> Path:
        """Git always runs inside the cache clone, so no other repository's configuration applies."""
        if not (self._cache / "HEAD").is_file():
            with self._locked():
                if not (self._cache / "HEAD").is_file():
                    self._init_cache()
        return self._cache

    def _fetch(self, commit: str) -> None:
        if not (self._cache / "HEAD").is_file():
            self._init_cache()
        if self._resolved is None:
            self.tip()  # learns the default branch's name
        refspec = f"+refs/heads/{self._resolved}:refs/heads/{self._resolved}"
        fetch = ["fetch", "--quiet", "--force", "--no-tags", "--no-write-fetch-head", "--", REMOTE]
        self.fetches += 1
        self._git([*fetch, refspec], timeout=self._fetch_timeout, cwd=self._cache)
        if not self._has(commit):
            # The branch moved on (or was force-pushed) since ls-remote; ask for the commit itself.
            with contextlib.suppress(RepositoryUnreachableError):
                self._git([*fetch, commit], timeout=self._fetch_timeout, cwd=self._cache)
            if not self._has(commit):
                raise RepositoryUnreachableError(
                    f"{self._shown}: commit {commit} is no longer on the remote; "
                    "the next pass reads the new tip"
                )

    def _init_cache(self) -> None:
        temporary = self._cache.with_name(f"{self._cache.name}.tmp-{os.getpid()}")
        shutil.rmtree(temporary, ignore_errors=True)
        # Named from the parent it runs in: a relative cache path would otherwise be taken twice.
        init = ["init", "--quiet", "--bare", "--template=", temporary.name]
        self._git(init, timeout=self._ls_timeout, cwd=self._cache.parent)
        shutil.rmtree(self._cache, ignore_errors=True)
        temporary.rename(self._cache)


class GitSource:
    """The ``git`` source type: exactly one repository, named by ``url``."""

    def __init__(
        self, settings: SourceSettings, cache_dir: str | Path, allowed_protocols: Sequence[str]
    ) -> None:
        if not settings.url:
            raise SourceError(f"source {settings.name!r}: a git source needs 'url'")
        self._settings = settings
        self._cache_dir = Path(cache_dir)
        self._allowed = tuple(allowed_protocols)
        self._repository: GitRepository | None = None

    @property
    def name(self) -> str:
        """The source's configured name."""
        return self._settings.name

    def discover(self) -> list[Repository]:
        """The one repository. A refused URL fails here, for this source only; reachability is found
        out by ``tip``, so a network failure stays a failure of the repository, not of the source."""
        if self._repository is None:
            url = self._settings.url or ""
            self._repository = GitRepository(url, self._settings.branch, self._cache_dir, self._allowed)
        return [self._repository]


__all__ = ["GitRepository", "GitSource", "git_environment", "repository_name"]
