"""Repositories registered through ``POST /api/repositories``: the ``registered`` source.

Their list lives in the catalog's database (so every API replica and every worker sees a registration
at once), and the sources sit below the store: the source is handed a plain ``list_registered``
callable, which the sync package answers from its store. Each registration becomes a git repository
like one of a ``git`` source, keyed as it was registered (URL and branch); git is loaded only when
the source lists, since the store and the API import this module for its names alone. A registration whose URL
this configuration refuses (``sync.allowed_protocols`` narrowed since) is still listed: asking for its
tip raises the refusal, so the pass records it as that repository's failure, where a user looks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from catalog_sync.config import SourceSettings
from catalog_sync.errors import SourceError
from catalog_sync.sources.base import Repository, RepositoryInfo, Snapshot
from catalog_sync.sources.urls import redact

if TYPE_CHECKING:
    from catalog_sync.sources.git import GitRepository
    from catalog_sync.sources.gitenv import GitLimits

REGISTERED_SOURCE = "registered"
"""The source that holds repositories registered through ``POST /api/repositories``."""
REGISTERED_TYPE = "registered"


@dataclass(frozen=True)
class RegisteredRepository:
    """One registration as the catalog keeps it."""

    id: int
    key: str
    url: str
    branch: str | None


ListRegistered = Callable[[], Sequence[RegisteredRepository]]
"""Answers the current registrations; called once per pass, so one made a moment ago is read at once."""


class RegisteredGitRepository:
    """A registered repository: a git repository under the key it was registered with."""

    def __init__(self, key: str, git: GitRepository) -> None:
        self._key = key
        self._git = git

    @property
    def info(self) -> RepositoryInfo:
        """The git repository's data under the registration's key (URL and branch)."""
        info = self._git.info
        return RepositoryInfo(key=self._key, name=info.name, url=info.url, branch=info.branch)

    def tip(self) -> str:
        """The tip commit, as ``git ls-remote`` tells it."""
        return self._git.tip()

    def prefetch(self, commit: str) -> None:
        """Fetch the commit into the cache clone now, if it is not there."""
        self._git.prefetch(commit)

    def snapshot(self, commit: str) -> Snapshot:
        """The commit, fetched into the cache clone when needed."""
        return self._git.snapshot(commit)


class RefusedRepository:
    """A registration this configuration refuses to read: every question about it answers the refusal."""

    tip_is_cheap = True

    def __init__(self, registration: RegisteredRepository, error: SourceError) -> None:
        from catalog_sync.sources.git import repository_name

        self._info = RepositoryInfo(
            key=registration.key,
            name=repository_name(registration.url),
            url=redact(registration.url),
            branch=registration.branch,
        )
        self._error = error

    @property
    def info(self) -> RepositoryInfo:
        """Identity as registered."""
        return self._info

    def tip(self) -> str:
        """Raise the refusal, so the pass records it as this repository's failure."""
        raise self._error

    def snapshot(self, commit: str) -> Snapshot:
        """Raise the refusal; nothing of it is ever read."""
        raise self._error


class RegisteredSource:
    """The registrations, each a git repository; listed from the catalog on every pass."""

    from_catalog = True

    def __init__(
        self,
        settings: SourceSettings,
        list_registered: ListRegistered,
        cache_dir: Path,
        limits: GitLimits,
    ) -> None:
        self._name = settings.name
        self._list = list_registered
        self._cache = cache_dir
        self._limits = limits

    @property
    def name(self) -> str:
        """Always ``registered``: one source holds every registration."""
        return self._name

    def discover(self) -> list[Repository]:
        """Every current registration, read from the catalog now."""
        from catalog_sync.sources.git import GitRepository

        found: list[Repository] = []
        for registration in self._list():
            try:
                git = GitRepository(registration.url, registration.branch, self._cache, limits=self._limits)
            except SourceError as exc:
                found.append(RefusedRepository(registration, exc))
                continue
            found.append(RegisteredGitRepository(registration.key, git))
        return found


def registered_settings() -> SourceSettings:
    """The settings of the ``registered`` source, which no configuration file names."""
    return SourceSettings(name=REGISTERED_SOURCE, type=REGISTERED_TYPE)
