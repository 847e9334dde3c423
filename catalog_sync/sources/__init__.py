"""Where repositories come from: one module per kind of source, behind the protocols of ``base``.

``build_source`` is the only place that knows the kinds, so the sync loop stays ignorant of them.
"""

from __future__ import annotations

from pathlib import Path

from catalog_sync.config import SourceSettings
from catalog_sync.errors import SourceError
from catalog_sync.sources.base import Repository, RepositoryInfo, Snapshot, Source


def build_source(
    settings: SourceSettings, *, base_dir: str, cache_dir: str, allowed_protocols: tuple[str, ...]
) -> Source:
    """The Source for one entry of ``sources``; relative paths are taken from ``base_dir``."""
    if settings.type == "local":
        from catalog_sync.sources.local import LocalSource

        return LocalSource(settings, base_dir)
    if settings.type == "git":
        from catalog_sync.sources.git import GitSource

        cache = Path(cache_dir).expanduser()
        cache = cache if cache.is_absolute() else Path(base_dir) / cache
        return GitSource(settings, cache, allowed_protocols)
    if settings.type in ("github", "gitlab"):
        raise SourceError(f"source {settings.name!r}: the {settings.type} source type is not available yet")
    raise SourceError(f"source {settings.name!r}: unknown source type {settings.type!r}")


__all__ = ["Repository", "RepositoryInfo", "Snapshot", "Source", "build_source"]
