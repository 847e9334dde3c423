"""Repositories registered at run time (``POST /api/repositories``) and requests to sync now.

Registered repositories live in the database under one source named ``registered``, so every API
replica and every worker sees them; the sync engine turns each into a git repository like those of a
configured ``git`` source. Scheduling "now" only moves ``next_sync_at``: the worker that claims the
repository does the work, so a request never runs a sync inside an HTTP call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import Connection, insert, select, update

from catalog_sync.errors import ConflictError, NotFoundError, SourceError
from catalog_sync.sources.urls import check_url, redact
from catalog_sync.store.repos import REGISTERED_SOURCE, ensure_source
from catalog_sync.store.tables import repositories

REGISTERED_TYPE = "registered"
_BRANCH_FORBIDDEN = set(" ~^:?*[\\\t\n\r")


@dataclass(frozen=True)
class Registration:
    """The repository row a registration created."""

    id: int
    key: str
    url: str
    branch: str | None


def registration_key(url: str, branch: str | None) -> str:
    """One repository per URL and branch: registering the same pair twice is a conflict, not a copy."""
    return f"{url}#{branch}" if branch else url


def check_branch(branch: str | None) -> str | None:
    """Refuse branch names git would refuse or read as options, before anything stores them."""
    if branch is None:
        return None
    if (
        not branch
        or len(branch) > 255
        or branch.startswith(("-", "/"))
        or branch.endswith((".", "/", ".lock"))
        or ".." in branch
        or "@{" in branch
        or any(c in _BRANCH_FORBIDDEN for c in branch)
        or any(ord(c) < 32 for c in branch)
    ):
        raise SourceError(f"branch {branch!r} is not a valid branch name")
    return branch


def register_repository(
    conn: Connection, url: str, branch: str | None, *, allowed_protocols: tuple[str, ...], now: datetime
) -> Registration:
    """Add one git repository to the catalog's sources; it is synced at the next pass.

    ``file`` is never allowed here, whatever ``sync.allowed_protocols`` says: a caller of the API must
    not be able to make the server read folders of its own disk into the catalog.
    """
    if not isinstance(url, str) or len(url) > 2048:
        raise SourceError("url must be a string of at most 2048 characters")
    check_url(url, tuple(p for p in allowed_protocols if p != "file"))
    branch = check_branch(branch)
    if redact(url) != url:
        raise SourceError("credentials in repository URLs are not stored; configure them for git instead")
    source_id = ensure_source(conn, REGISTERED_SOURCE, REGISTERED_TYPE, "POST /api/repositories")
    key = registration_key(url, branch)
    if conn.execute(
        select(repositories.c.id).where(repositories.c.source_id == source_id, repositories.c.key == key)
    ).first():
        raise ConflictError(f"{url} ({branch or 'default branch'}) is already registered")
    name = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git") or url
    new_id = conn.execute(
        insert(repositories)
        .values(
            source_id=source_id,
            key=key,
            name=name[:512],
            url=url,
            branch=branch,
            state="pending",
            failures=0,
            rescan=False,
            next_sync_at=now,
        )
        .returning(repositories.c.id)
    ).scalar_one()
    return Registration(int(new_id), key, url, branch)


def schedule_repository(conn: Connection, repository_id: int, now: datetime) -> None:
    """Make one repository due now, and read it fully even if its tip has not moved."""
    result = conn.execute(
        update(repositories)
        .where(repositories.c.id == repository_id, repositories.c.removed_at.is_(None))
        .values(next_sync_at=now, rescan=True)
    )
    if not result.rowcount:
        raise NotFoundError(f"no repository with id {repository_id}")


def schedule_all(conn: Connection, now: datetime) -> int:
    """Make every repository due now (``POST /api/sync``); returns how many were scheduled."""
    result = conn.execute(
        update(repositories).where(repositories.c.removed_at.is_(None)).values(next_sync_at=now)
    )
    return int(result.rowcount or 0)
