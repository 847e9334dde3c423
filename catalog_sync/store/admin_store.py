"""``Administration``: what the API's write endpoints do to the catalog, each as one store operation.

Registering a repository, making one (or every) repository due now, refreshing the repository that
holds an entity and deleting an orphan each run in one transaction of their own, and each enforces its
own rules whoever calls it: a registered URL is checked (protocol, branch, no credentials) before it
is stored; deleting an orphan re-points the relations that named it, exactly as a sync pass does when
it removes an entity, so a Product owned by ``payments`` follows the Team once the orphaned Group of
that name is gone.

Registered repositories live under one source named ``registered``, so every API replica and every
worker sees them. Scheduling "now" only moves ``next_sync_at`` (and, on PostgreSQL, wakes the workers
with ``NOTIFY`` when it commits): the worker that claims the repository does the work, so a request
never runs a sync inside an HTTP call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from urllib.parse import urlsplit

from sqlalchemy import Connection, delete, insert, select, update

from catalog_sync.credentials import CREDENTIALS_ADVICE, credential_in_url
from catalog_sync.descriptors.relations import COUNTERPARTS
from catalog_sync.errors import ConflictError, NotFoundError, SourceError
from catalog_sync.refnames import given_branch_problem
from catalog_sync.sources.hosts import check_host
from catalog_sync.sources.urls import (
    canonical_url,
    check_url,
    redact,
    repository_identity,
    scp_host,
    scp_split,
)
from catalog_sync.store.base import Database, connection_of
from catalog_sync.store.deliveries import notify_workers
from catalog_sync.store.limits import fit, too_long
from catalog_sync.store.listing import HOSTED_KEY_PREFIXES
from catalog_sync.store.repos import REGISTERED_SOURCE, ensure_source, make_due
from catalog_sync.store.tables import entities, repositories, sources
from catalog_sync.store.writer import repoint_counterparts
from catalog_sync.textsafe import escape_controls

REGISTERED_TYPE = "registered"


@dataclass(frozen=True)
class Registration:
    """The repository row a registration created."""

    id: int
    key: str
    url: str
    branch: str | None


class Administration(Protocol):
    """What administration writes: each operation opens, commits or rolls back its own transaction."""

    def register_repository(
        self,
        url: str,
        branch: str | None,
        *,
        allowed_protocols: tuple[str, ...],
        now: datetime,
        private_networks: tuple[str, ...] = (),
        max_registered: int | None = None,
    ) -> Registration:
        """Add one git repository; synced at the next pass.

        ``SourceError`` for a URL refused (transport, credentials, a host that is not public and not
        in ``private_networks``), ``ConflictError`` when it is registered already (under any spelling)
        or when ``max_registered`` repositories are.
        """
        ...

    def schedule_repository(self, repository_id: int, now: datetime) -> None:
        """Make one repository due now and read it in full (``NotFoundError`` if there is none)."""
        ...

    def schedule_all(self, now: datetime) -> int:
        """Make every repository due now; returns how many were scheduled."""
        ...

    def refresh_entity(self, ref_key: str, now: datetime) -> int:
        """Schedule the repository that holds an entity; returns its id.

        ``NotFoundError`` when no entity has that ref, ``ConflictError`` when it belongs to no
        repository any more (an orphan).
        """
        ...

    def delete_orphan(self, uid: str) -> None:
        """Remove an orphan and re-point what named it (``ConflictError`` if it is not an orphan)."""
        ...


class SqlAdministration:
    """``Administration`` over SQLite or PostgreSQL."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def register_repository(
        self,
        url: str,
        branch: str | None,
        *,
        allowed_protocols: tuple[str, ...],
        now: datetime,
        private_networks: tuple[str, ...] = (),
        max_registered: int | None = None,
    ) -> Registration:
        """See ``Administration``; the host is looked up before the transaction opens."""
        url, branch = checked_registration(url, branch, allowed_protocols, private_networks)
        with self._database.transaction() as tx:
            return store_registration(connection_of(tx), url, branch, now=now, max_registered=max_registered)

    def schedule_repository(self, repository_id: int, now: datetime) -> None:
        """See ``Administration``."""
        with self._database.transaction() as tx:
            schedule_repository(connection_of(tx), repository_id, now)

    def schedule_all(self, now: datetime) -> int:
        """See ``Administration``."""
        with self._database.transaction() as tx:
            return schedule_all(connection_of(tx), now)

    def refresh_entity(self, ref_key: str, now: datetime) -> int:
        """See ``Administration``."""
        with self._database.transaction() as tx:
            conn = connection_of(tx)
            row = conn.execute(
                select(entities.c.repository_id).where(entities.c.ref_key == ref_key.lower())
            ).first()
            if row is None:
                raise NotFoundError(f"no entity {ref_key}")
            if row.repository_id is None:
                raise ConflictError(
                    f"{ref_key} belongs to no repository any more, so there is nothing to refresh"
                )
            schedule_repository(conn, int(row.repository_id), now)
            return int(row.repository_id)

    def delete_orphan(self, uid: str) -> None:
        """See ``Administration``."""
        with self._database.transaction() as tx:
            delete_orphan(connection_of(tx), uid)


def registration_key(url: str, branch: str | None) -> str:
    """One repository per URL and branch: registering the same pair twice is a conflict, not a copy."""
    return f"{url}#{branch}" if branch else url


def check_branch(branch: str | None) -> str | None:
    """Refuse branch names git would refuse or read as options, before anything stores them: by the
    rule a configured branch is judged by (``refnames``), so a registration fails at once, not at
    every sync as a branch the remote has not."""
    if branch is None:
        return None
    problem = given_branch_problem(branch)
    if problem is not None:
        raise SourceError(f"branch {escape_controls(branch)!r} is not a valid branch name: {problem}")
    return branch


def checked_registration(
    url: str, branch: str | None, allowed_protocols: tuple[str, ...], private_networks: tuple[str, ...]
) -> tuple[str, str | None]:
    """Refuse what may not be registered; answer the URL as it is stored (one spelling per repository).

    ``file`` is never allowed here, whatever ``sync.allowed_protocols`` says: a caller of the API must
    not be able to make the server read folders of its own disk into the catalog. Credentials are
    refused, never stored; hosts that are not public are refused unless ``private_networks`` allows them.
    A URL in the form of a github or gitlab source's keys is refused: its repository would be taken
    for that host's repository of the same id.
    """
    if not isinstance(url, str) or len(url) > 2048:
        raise SourceError("url must be a string of at most 2048 characters")
    found = credential_in_url(url)
    if found is not None:
        raise SourceError(f"the repository URL carries {found}; {CREDENTIALS_ADVICE}")
    check_url(url, tuple(p for p in allowed_protocols if p != "file"))
    if any(char.isspace() or not char.isprintable() for char in url):
        # Pasted with the URL, it would make another spelling (and registration) of one repository.
        raise SourceError(
            "the repository URL holds a space or an invisible character; a space in its path is written %20"
        )
    if "\\" in url:  # git reads 'host\@other' as the host 'other', a browser the link as 'host/@other'
        raise SourceError("the repository URL holds a backslash, which git and a browser read differently")
    branch = check_branch(branch)
    try:
        port = urlsplit(url).port if "://" in url else scp_host(scp_split(url)[0])[2]
    except ValueError:  # dropping it would register another endpoint than the one asked for
        port = 0
    if port == 0:  # no host serves port 0: every pass would fail
        raise SourceError("the repository URL's port is not a number from 1 to 65535")
    check_host(url, private_networks)  # as written: one spelled in no way git reads is not rewritten into one
    url = canonical_url(url)
    if url.lower().startswith(HOSTED_KEY_PREFIXES):
        # Stored as it is keyed: an ssh host alias named github or gitlab, written scp-like, would key
        # the repository as a github or gitlab source keys a host's repository id.
        raise SourceError(
            f"the repository URL {redact(url)!r} has the form of a github or gitlab source's keys "
            "(github:HOST:ID, gitlab:HOST:ID); write an ssh URL as ssh://HOST/PATH"
        )
    return url, branch


def take_registration_lock(conn: Connection, source_id: int) -> None:
    """Hold registrations to one at a time until the caller's transaction ends.

    Checking the limit and the other spellings, then inserting, is a check-then-act: sixteen
    registrations at once all saw room under ``sync.max_registered_repositories`` and seven of them
    were stored where three were allowed. Writing the registered source's row first takes its lock
    (a row lock on PostgreSQL, the database's write lock on SQLite) before anything is counted.
    """
    conn.execute(update(sources).where(sources.c.id == source_id).values(type=sources.c.type))


def store_registration(
    conn: Connection, url: str, branch: str | None, *, now: datetime, max_registered: int | None = None
) -> Registration:
    """Store one checked registration inside the caller's transaction, once per repository."""
    source_id = ensure_source(conn, REGISTERED_SOURCE, REGISTERED_TYPE, "POST /api/repositories")
    take_registration_lock(conn, source_id)
    identity = repository_identity(url)
    rows = conn.execute(
        select(repositories.c.id, repositories.c.url, repositories.c.branch).where(
            repositories.c.source_id == source_id, repositories.c.removed_at.is_(None)
        )
    ).all()
    for row in rows:
        if row.branch == branch and repository_identity(str(row.url)) == identity:
            raise ConflictError(
                f"{redact(url)} ({branch or 'default branch'}) is already registered, as repository {row.id}"
            )
    if max_registered is not None and len(rows) >= max_registered:
        raise ConflictError(
            f"no more repositories can be registered: {len(rows)} are, and sync.max_registered_repositories "
            f"allows {max_registered}; raise it, or list repositories as git sources in the configuration"
        )
    name = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git") or url
    key = registration_key(identity, branch)
    if reason := too_long(repositories.c.key, key, "the URL with its branch"):
        raise SourceError(reason)
    new_id = conn.execute(
        insert(repositories)
        .values(
            source_id=source_id,
            key=key,
            name=fit(repositories.c.name, name),
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
    """Make one repository due now, and read it fully even if its tip has not moved (``make_due``,
    the same operation a push uses); an unknown repository is ``NotFoundError``."""
    if not make_due(conn, repository_id, now):
        raise NotFoundError(f"no repository with id {repository_id}")
    notify_workers(conn)


def schedule_all(conn: Connection, now: datetime) -> int:
    """Make every repository due now (``POST /api/sync``); returns how many were scheduled."""
    result = conn.execute(
        update(repositories).where(repositories.c.removed_at.is_(None)).values(next_sync_at=now)
    )
    notify_workers(conn)
    return int(result.rowcount or 0)


def delete_orphan(conn: Connection, uid: str) -> None:
    """Remove an orphaned entity; its search rows and the relations it originated go with it.

    Only orphans may go: an entity whose descriptor still exists would come back at the next pass, so
    deleting it would only confuse; that is refused with ``ConflictError``. What named the entity is
    re-derived in the same transaction (a Group gone, its Team of the same name takes the relations).
    """
    row = conn.execute(
        select(
            entities.c.id,
            entities.c.orphaned_at,
            entities.c.ref_key,
            entities.c.kind,
            entities.c.namespace,
            entities.c.name,
        ).where(entities.c.uid == uid)
    ).first()
    if row is None:
        raise NotFoundError(f"No entity with uid {uid}")
    if row.orphaned_at is None:
        raise ConflictError(
            f"{row.ref_key} is not an orphan: its descriptor still exists, so remove it from the "
            "repository instead"
        )
    conn.execute(delete(entities).where(entities.c.id == row.id, entities.c.orphaned_at.is_not(None)))
    if row.kind in COUNTERPARTS:
        repoint_counterparts(conn, {(row.namespace, row.name)})
