"""Where repositories come from: one module per kind of source, behind the protocols of ``base``.

``build_source`` is the only place that knows the kinds, so the sync loop stays ignorant of them:
``local`` (folders), ``git`` (one remote URL), ``github`` and ``gitlab`` (listed from a hosting API)
and ``registered`` (repositories registered through the
API, listed by the ``list_registered`` callable the sync package answers from the catalog).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from catalog_sync.config import (
    AnySourceSettings,
    DescriptorSettings,
    GitHubSourceSettings,
    GitLabSourceSettings,
    SyncSettings,
)
from catalog_sync.errors import SourceError
from catalog_sync.sources.base import Repository, RepositoryInfo, Snapshot, Source

if TYPE_CHECKING:
    from catalog_sync.sources.registered import RegisteredRepository


def build_source(
    settings: AnySourceSettings,
    *,
    base_dir: str,
    cache_dir: str,
    allowed_protocols: tuple[str, ...],
    list_registered: Callable[[], Sequence[RegisteredRepository]] | None = None,
    sync: SyncSettings | None = None,
    release_tags: str | None = None,
    descriptors: DescriptorSettings | None = None,
) -> Source:
    """The Source for one entry of ``sources`` (or the ``registered`` one, given ``list_registered``);
    relative paths are taken from ``base_dir``; git's deadlines and limits come from ``sync``, and
    ``release_tags`` (``kpis.release_tag_pattern``) names the tags a fetch brings beside the branch;
    ``descriptors`` says which blobs a source reading through a hosting API reads ahead of a scan."""
    cache = Path(cache_dir).expanduser()
    cache = cache if cache.is_absolute() else Path(base_dir) / cache
    sync = sync or SyncSettings(allowed_protocols=allowed_protocols)
    if isinstance(settings, GitHubSourceSettings):
        from catalog_sync.sources.github import GitHubSource
        from catalog_sync.sources.hostedhistory import HistoryReader

        github = GitHubSource(settings, cache, sync, descriptors)
        github.history = HistoryReader(descriptors or DescriptorSettings(), release_tags)
        return github
    if isinstance(settings, GitLabSourceSettings):
        from catalog_sync.sources.gitlab import GitLabSource
        from catalog_sync.sources.hostedhistory import HistoryReader

        gitlab = GitLabSource(settings, cache, sync)
        gitlab.history = HistoryReader(descriptors or DescriptorSettings(), release_tags)
        return gitlab
    if settings.type == "local":
        from catalog_sync.sources.local import LocalSource

        return LocalSource(settings, base_dir)
    if settings.type == "git":
        from catalog_sync.sources.git import GitSource
        from catalog_sync.sources.gitenv import GitLimits

        limits = replace(GitLimits.of(sync), release_tags=release_tags)
        return GitSource(settings, cache, allowed_protocols, limits)
    if settings.type == "registered":
        from catalog_sync.sources.gitenv import GitLimits
        from catalog_sync.sources.registered import RegisteredSource

        if list_registered is None:
            raise SourceError(f"source {settings.name!r}: registered repositories need the catalog's list")
        limits = replace(GitLimits.of(sync, registered=True), release_tags=release_tags)
        return RegisteredSource(settings, list_registered, cache, limits)
    raise SourceError(f"source {settings.name!r}: unknown source type {settings.type!r}")


__all__ = ["Repository", "RepositoryInfo", "Snapshot", "Source", "build_source"]
