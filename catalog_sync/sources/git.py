"""A remote git repository named by URL: the ``git`` source type.

A re-sync must be cheap, so ``tip`` runs only ``git ls-remote``; the objects are fetched into a bare
cache clone only when the tip is a commit the cache does not hold yet. Everything handed to git is
locked down twice: ``check_url`` refuses bad transports before git runs, and git itself is told which
protocols it may use (``protocol.allow=never`` plus the allowed ones), never to prompt, and to run no
hooks. The URL reaches git through the environment (``GIT_CONFIG_*``), not the command line, so
credentials in it never show in a process list, a log line or an error; git's stderr is redacted.
The limits and that environment are ``gitenv``'s.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from catalog_sync.config import SourceSettings
from catalog_sync.errors import RepositoryUnreachableError, SourceError
from catalog_sync.sources.base import History, Repository, RepositoryInfo
from catalog_sync.sources.budget import ScanBudget
from catalog_sync.sources.gitenv import REMOTE, GitLimits, git_environment
from catalog_sync.sources.gitobjects import ObjectStore
from catalog_sync.sources.gitread import GitSnapshot
from catalog_sync.sources.gitrun import (
    GitResult,
    GitStoppedError,
    Watch,
    explain_failure,
    pack_bytes,
    remove_partial_packs,
    run_git,
)
from catalog_sync.sources.hosts import check_host
from catalog_sync.sources.urls import check_url, clone_folder_name, redact, transport_of

TIP_SETTING = "sync.tip_timeout_seconds"
FETCH_SETTING = "sync.fetch_timeout_seconds"
_MAX_STDERR = 600


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
        allowed_protocols: Sequence[str] | None = None,
        *,
        limits: GitLimits | None = None,
        shallow: bool = False,
        credentials: Callable[[], Sequence[tuple[str, str]]] | None = None,
    ) -> None:
        """``shallow`` fetches the tip alone (depth 1), never the history; ``credentials`` answers git
        settings (an ``http.<origin>.extraHeader``) given to each ``ls-remote`` and ``fetch`` through the
        environment, never on the command line or in the URL."""
        self._shallow = shallow
        self._credentials = credentials
        if limits is None:
            limits = GitLimits(allowed_protocols=tuple(allowed_protocols or GitLimits.allowed_protocols))
        self._limits = limits
        self._allowed = tuple(limits.allowed_protocols)
        self._url = check_url(url, self._allowed)
        self._shown = redact(url)
        self._branch = branch
        self._resolved: str | None = branch
        self._cache = Path(cache_dir) / clone_folder_name(url)
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

    def _remote_config(self) -> list[tuple[str, str]]:
        """For a registered repository: its host checked again now, and git pinned to the address
        checked (no second lookup, no redirect to another host)."""
        if self._limits.private_networks is None:
            return []
        checked = check_host(self._url, self._limits.private_networks)
        if checked is not None and not checked.addresses:
            raise RepositoryUnreachableError(
                f"{self._shown}: the host name {checked.host!r} does not resolve; it is not handed to git "
                "unchecked, and is looked up again at the next pass"
            )
        extra = [("http.followRedirects", "false")]
        if checked is not None and checked.is_name and transport_of(self._url) in ("http", "https"):
            addresses = ",".join(f"[{a}]" if ":" in a else a for a in checked.addresses)
            extra.append(("http.curloptResolve", f"{checked.host}:{checked.port}:{addresses}"))
        return extra

    def _git(
        self,
        args: list[str],
        *,
        timeout: float,
        setting: str,
        cwd: Path | None = None,
        watch: Watch | None = None,
    ) -> str:
        check_url(self._url, self._allowed)
        extra = self._remote_config() if args[0] in ("ls-remote", "fetch") else []
        if self._credentials is not None and args[0] in ("ls-remote", "fetch"):
            extra = [*extra, ("http.followRedirects", "false"), *self._credentials()]
        env = git_environment(self._url, self._allowed, extra)
        try:
            result = run_git(args, env=env, cwd=cwd, timeout=timeout, watch=watch)
        except GitStoppedError as stopped:
            if not stopped.timed_out:
                raise RepositoryUnreachableError(f"{self._shown}: {stopped.reason}") from stopped
            raise RepositoryUnreachableError(
                f"{self._shown}: no answer from the host within {timeout:g} s ({setting})"
                if args[0] == "ls-remote"
                else f"{self._shown}: git {args[0]} did not finish within {timeout:g} s ({setting})"
            ) from stopped
        if result.status != 0:
            detail = self._explain(result)
            raise RepositoryUnreachableError(f"{self._shown}: git {args[0]} failed: {detail}")
        return result.out

    def _explain(self, result: GitResult) -> str:
        """Git's error for a configured repository; for a registered one, only what it means, since
        a hostile host can put its own text (or an internal service's) into git's error output."""
        if self._limits.private_networks is not None:
            return explain_failure(result.err, result.status)
        lines = (line.strip() for line in redact(result.err).splitlines())
        return " ".join(line for line in lines if line)[-_MAX_STDERR:] or f"exit status {result.status}"

    def tip(self) -> str:
        """The branch's tip from ``git ls-remote`` alone; the default branch comes from HEAD's symref."""
        if self._branch:
            ref = f"refs/heads/{self._branch}"
            out = self._git(["ls-remote", "--", REMOTE, ref], **self._tip_limits())
            for line in out.splitlines():
                commit, _, name = line.partition("\t")
                if name == ref:
                    return commit
            raise RepositoryUnreachableError(
                f"{self._shown}: branch {self._branch!r} not found on the remote"
            )
        symref = ["ls-remote", "--symref", "--", REMOTE, "HEAD"]
        out = self._git(symref, **self._tip_limits())
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

    def _tip_limits(self) -> dict[str, Any]:
        return {"timeout": self._limits.tip_timeout, "setting": TIP_SETTING, "cwd": self._workdir()}

    def prefetch(self, commit: str) -> None:
        """Bring ``commit`` into the cache clone unless it is there already."""
        if not self._has(commit):
            with self._locked():
                if not self._has(commit):
                    self._fetch(commit)

    def fetch_since(self, since: datetime) -> None:
        """Deepen the cache clone's branch to every commit made since ``since`` (``--shallow-since``),
        within the fetch's deadline and size limit: one fetch, whatever the number of commits."""
        stamp = since.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S +0000")
        refspec = f"+refs/heads/{self._resolved}:refs/heads/{self._resolved}"
        with self._locked():
            if not (self._cache / "HEAD").is_file():
                self._init_cache()
            self.fetches += 1
            fetch = ["fetch", "--quiet", "--force", "--no-tags", "--no-write-fetch-head"]
            self._fetch_within_limits([*fetch, f"--shallow-since={stamp}", "--", REMOTE, refspec])

    def remote_tags(self) -> list[tuple[str, str]]:
        """``(tag, commit)`` of every tag on the remote, annotated ones peeled, from one ``ls-remote``:
        no object is transferred."""
        out = self._git(["ls-remote", "--tags", "--", REMOTE], **self._tip_limits())
        tags: dict[str, str] = {}
        for line in out.splitlines():
            sha, _, ref = line.partition("\t")
            if not ref.startswith("refs/tags/"):
                continue
            name = ref[len("refs/tags/") :]
            if name.endswith("^{}"):
                tags[name[:-3]] = sha
            else:
                tags.setdefault(name, sha)
        return sorted(tags.items())

    def snapshot(self, commit: str) -> GitSnapshot:
        """Open ``commit`` from the cache clone, fetching only when the cache lacks it."""
        self.prefetch(commit)
        try:
            if self._shallow:
                return ShallowSnapshot(self._cache, commit, self._resolved or "HEAD")
            return GitSnapshot(self._cache, commit, self._resolved or "HEAD")
        except SourceError as exc:
            raise RepositoryUnreachableError(f"{self._shown}: {exc}") from exc

    def holds(self, commit: str) -> bool:
        """Whether the cache clone holds ``commit`` (no git is run)."""
        return self._has(commit)

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
        depth = ["--depth=1"] if self._shallow else []
        fetch = ["fetch", "--quiet", "--force", "--no-tags", "--no-write-fetch-head", *depth, "--", REMOTE]
        self.fetches += 1
        tags = self._limits.release_tags
        self._fetch_within_limits(
            [*fetch, refspec, *([f"+refs/tags/{tags}:refs/tags/{tags}"] if tags else [])]
        )
        if not self._has(commit):
            # The branch moved on (or was force-pushed) since ls-remote; ask for the commit itself.
            try:
                self._fetch_within_limits([*fetch, commit])
            except RepositoryUnreachableError as exc:
                if isinstance(exc.__cause__, GitStoppedError):
                    raise  # a deadline or the size limit: say that, not "no longer on the remote"
            if not self._has(commit):
                raise RepositoryUnreachableError(
                    f"{self._shown}: commit {commit} is no longer on the remote; "
                    "the next pass reads the new tip"
                )

    def _fetch_within_limits(self, args: list[str]) -> None:
        """Fetch, stopped when it outlasts ``sync.fetch_timeout_seconds`` or the cache outgrows
        ``sync.max_repository_bytes``; a fetch stopped half way leaves nothing half written behind."""
        limit = self._limits.max_bytes
        too_large = (
            f"the repository is larger than sync.max_repository_bytes ({limit} bytes); the fetch was stopped"
        )

        def watch() -> str | None:
            return too_large if limit is not None and pack_bytes(self._cache) > limit else None

        try:
            self._git(
                args, timeout=self._limits.fetch_timeout, setting=FETCH_SETTING, cwd=self._cache, watch=watch
            )
        except RepositoryUnreachableError as failed:
            if isinstance(failed.__cause__, GitStoppedError):
                # Killed half way: its lock files and partial packs would fail the next fetch.
                shutil.rmtree(self._cache, ignore_errors=True)
            else:
                remove_partial_packs(self._cache)
            raise
        if watch() is not None:
            shutil.rmtree(self._cache, ignore_errors=True)
            raise RepositoryUnreachableError(f"{self._shown}: {too_large}")

    def _init_cache(self) -> None:
        temporary = self._cache.with_name(f"{self._cache.name}.tmp-{os.getpid()}")
        shutil.rmtree(temporary, ignore_errors=True)
        # Named from the parent it runs in: a relative cache path would otherwise be taken twice.
        init = ["init", "--quiet", "--bare", "--template=", temporary.name]
        self._git(init, timeout=self._limits.tip_timeout, setting=TIP_SETTING, cwd=self._cache.parent)
        shutil.rmtree(self._cache, ignore_errors=True)
        temporary.rename(self._cache)


class ShallowSnapshot(GitSnapshot):
    """A commit of a shallow clone: its history ends at the clone's boundary, and says so."""

    def __init__(self, git_dir: Path, commit: str, branch: str) -> None:
        super().__init__(git_dir, commit, branch)
        self._cache_dir = git_dir

    def history(self, since: datetime, max_commits: int = 1000, budget: ScanBudget | None = None) -> History:
        """The commits present, ``truncated`` when the walk reached the boundary of the shallow fetch."""
        found = super().history(since, max_commits, budget)
        if not found.truncated and found.commits:
            with contextlib.suppress(OSError):
                boundary = set((self._cache_dir / "shallow").read_text(encoding="ascii").split())
                found.truncated = found.commits[-1].sha in boundary
        return found


class GitSource:
    """The ``git`` source type: exactly one repository, named by ``url``."""

    def __init__(
        self,
        settings: SourceSettings,
        cache_dir: str | Path,
        allowed_protocols: Sequence[str],
        limits: GitLimits | None = None,
    ) -> None:
        if not settings.url:
            raise SourceError(f"source {settings.name!r}: a git source needs 'url'")
        self._settings = settings
        self._cache_dir = Path(cache_dir)
        self._limits = limits or GitLimits(allowed_protocols=tuple(allowed_protocols))
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
            self._repository = GitRepository(url, self._settings.branch, self._cache_dir, limits=self._limits)
        return [self._repository]


__all__ = [
    "FETCH_SETTING",
    "TIP_SETTING",
    "GitLimits",
    "GitRepository",
    "GitSource",
    "ShallowSnapshot",
    "git_environment",
    "repository_name",
]
