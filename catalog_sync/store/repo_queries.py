"""The read side of the catalog's bookkeeping: sources, repositories, descriptor locations, sync passes.

The HTTP API shows the people who own repositories what the catalog made of them (state, last commit,
errors to fix) and shows operators what each sync pass did. Every list here is keyset-paged and every
page costs a fixed number of queries (one for the rows, one for their counts, one for their problems),
whatever the size of the fleet. The API reaches these through ``catalog_store.CatalogReads``; its
writes are ``admin_store.Administration``'s.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, func, select

from catalog_sync.config import AnySourceSettings
from catalog_sync.errors import NotFoundError
from catalog_sync.model import files_root
from catalog_sync.sources.urls import redact
from catalog_sync.store.engine import reading
from catalog_sync.store.filters import EntityFilter
from catalog_sync.store.records import PROBLEM_COLUMNS, StoredProblem
from catalog_sync.store.repos import REGISTERED_SOURCE
from catalog_sync.store.sqlfilters import filter_clause
from catalog_sync.store.tables import descriptor_files, entities, problems, repositories, sources, sync_runs

REPOSITORY_STATES = ("ok", "failing", "stale", "pending")
MAX_ERRORS_PER_REPOSITORY = 100
"""Problems shown per repository; the total is given beside them so nothing is hidden silently."""
_CHUNK = 500


@dataclass(frozen=True)
class SourceSummary:
    """One configured source and how its repositories fare."""

    name: str
    type: str
    target: str
    repositories: int
    states: dict[str, int]
    last_discovery_at: datetime | None
    last_error: str | None
    listing_requested_at: datetime | None = None
    """When a push or a creation asked for a listing the source has not made yet (a repository no
    source lists yet): set for more than a few seconds, the workers are not running or not woken."""


@dataclass
class RepositoryRecord:
    """One repository as the API shows it."""

    id: int
    source: str
    name: str
    url: str
    branch: str | None
    state: str
    last_commit: str | None
    last_sync_at: datetime | None
    last_success_at: datetime | None
    next_sync_at: datetime | None
    has_descriptors: bool | None
    entities: int = 0
    error_count: int = 0
    errors: list[StoredProblem] = field(default_factory=list)


@dataclass(frozen=True)
class SyncRunRecord:
    """One sync pass and what it did."""

    id: int
    worker: str
    started_at: datetime
    finished_at: datetime | None
    result: str
    repositories: int
    changed: int
    unchanged: int
    errors: int
    duration_seconds: float | None
    message: str | None


@dataclass(frozen=True)
class LocationRecord:
    """A descriptor file of a repository, as one of Backstage's ``url`` locations."""

    id: str
    target: str
    type: str = "url"


@dataclass(frozen=True)
class ListPage:
    """One page of a keyset-paged list: ``last_key`` continues it when ``has_more``."""

    items: list[Any]
    total_items: int
    has_more: bool
    last_key: int | None


def utc(value: datetime | None) -> datetime | None:
    """Timestamps as aware UTC datetimes (SQLite hands them back naive), so clients read one format."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def location_target(url: str, branch: str | None, path: str) -> str:
    """Where a descriptor lives, in the form of ``backstage.io/managed-by-location`` without ``url:``."""
    return f"{redact(url).rstrip('/')}/blob/{branch or 'HEAD'}/{path}"


def encode_location_id(repository_id: int, path: str) -> str:
    """A stable, URL-safe location id: descriptor rows are rewritten by every pass, their ids are not."""
    raw = f"{repository_id}:{path}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_location_id(location_id: str) -> tuple[int, str] | None:
    """The repository id and path a location id names, None when it is not one of ours."""
    if not location_id or len(location_id) > 2048:
        return None
    try:
        raw = base64.urlsafe_b64decode(location_id + "=" * (-len(location_id) % 4)).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    number, sep, path = raw.partition(":")
    if not sep or not path or not number.isdigit() or len(number) > 18:
        return None
    return int(number), path


class RepositoryReader:
    """Everything the API reads about sources, repositories, locations and passes, on one engine.

    Each read takes an optional connection, so one API request can run all its queries on one; without
    it a read uses a connection of its own.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def list_sources(
        self, configured: Sequence[AnySourceSettings], *, connection: Connection | None = None
    ) -> list[SourceSummary]:
        """The configured sources, then the ``registered`` one when repositories were registered."""
        with reading(self._engine, connection) as conn:
            rows = {row.name: row for row in conn.execute(select(sources))}
            counts: dict[int, dict[str, int]] = {}
            query = (
                select(repositories.c.source_id, repositories.c.state, func.count())
                .where(repositories.c.removed_at.is_(None))
                .group_by(repositories.c.source_id, repositories.c.state)
            )
            for source_id, state, number in conn.execute(query):
                counts.setdefault(source_id, {})[state] = int(number)
        summaries: list[SourceSummary] = []
        wanted = [(s.name, s.type, _configured_target(s)) for s in configured]
        if REGISTERED_SOURCE in rows and REGISTERED_SOURCE not in {name for name, _, _ in wanted}:
            wanted.append((REGISTERED_SOURCE, rows[REGISTERED_SOURCE].type, "POST /api/repositories"))
        for name, type_, target in wanted:
            row = rows.get(name)
            by_state = {state: 0 for state in REPOSITORY_STATES}
            if row is not None:
                for state, number in counts.get(row.id, {}).items():
                    by_state[state] = by_state.get(state, 0) + number
            summaries.append(
                SourceSummary(
                    name=name,
                    type=type_,
                    target=redact(target),
                    repositories=sum(by_state.values()),
                    states=by_state,
                    last_discovery_at=utc(row.last_discovery_at) if row is not None else None,
                    last_error=redact(row.last_error) if row is not None and row.last_error else None,
                    listing_requested_at=utc(row.listing_requested_at) if row is not None else None,
                )
            )
        return summaries

    def list_repositories(
        self,
        *,
        source: str | None,
        state: str | None,
        after_id: int | None,
        limit: int,
        connection: Connection | None = None,
    ) -> ListPage:
        """A page of repositories ordered by id, optionally of one source and in one state."""
        conditions: list[ColumnElement[bool]] = [repositories.c.removed_at.is_(None)]
        if source is not None:
            conditions.append(sources.c.name == source)
        if state is not None:
            conditions.append(repositories.c.state == state)
        joined = repositories.join(sources, repositories.c.source_id == sources.c.id)
        with reading(self._engine, connection) as conn:
            total = conn.execute(select(func.count()).select_from(joined).where(*conditions)).scalar_one()
            page = select(*_REPOSITORY_COLUMNS).select_from(joined).where(*conditions)
            if after_id is not None:
                page = page.where(repositories.c.id > after_id)
            rows = conn.execute(page.order_by(repositories.c.id).limit(limit + 1)).all()
            records = [_repository(row) for row in rows[:limit]]
            self._fill_details(conn, records)
        has_more = len(rows) > limit
        return ListPage(records, int(total), has_more, records[-1].id if has_more and records else None)

    def get_repository(self, repository_id: int, *, connection: Connection | None = None) -> RepositoryRecord:
        """One repository with its entity count and problems."""
        joined = repositories.join(sources, repositories.c.source_id == sources.c.id)
        query = (
            select(*_REPOSITORY_COLUMNS)
            .select_from(joined)
            .where(repositories.c.id == repository_id, repositories.c.removed_at.is_(None))
        )
        with reading(self._engine, connection) as conn:
            row = conn.execute(query).first()
            if row is None:
                raise NotFoundError(f"no repository with id {repository_id}")
            record = _repository(row)
            self._fill_details(conn, [record])
        return record

    def list_sync_runs(
        self, *, before_id: int | None, limit: int, connection: Connection | None = None
    ) -> ListPage:
        """The most recent passes first."""
        with reading(self._engine, connection) as conn:
            total = conn.execute(select(func.count()).select_from(sync_runs)).scalar_one()
            query = select(sync_runs)
            if before_id is not None:
                query = query.where(sync_runs.c.id < before_id)
            rows = conn.execute(query.order_by(sync_runs.c.id.desc()).limit(limit + 1)).all()
        records = [
            SyncRunRecord(
                id=row.id,
                worker=row.worker,
                started_at=utc(row.started_at) or datetime.now(UTC),
                finished_at=utc(row.finished_at),
                result=row.result,
                repositories=row.repositories,
                changed=row.changed,
                unchanged=row.unchanged,
                errors=row.errors,
                duration_seconds=row.duration_seconds,
                message=redact(row.message) if row.message else None,
            )
            for row in rows[:limit]
        ]
        has_more = len(rows) > limit
        return ListPage(records, int(total), has_more, records[-1].id if has_more and records else None)

    def list_locations(self, *, connection: Connection | None = None) -> list[LocationRecord]:
        """Every descriptor file of every repository still in the catalog (Backstage's ``GET /locations``)."""
        query = (
            select(
                descriptor_files.c.repository_id,
                descriptor_files.c.path,
                repositories.c.url,
                repositories.c.key,
                repositories.c.branch,
            )
            .select_from(descriptor_files.join(repositories))
            .where(repositories.c.removed_at.is_(None))
            .order_by(descriptor_files.c.repository_id, descriptor_files.c.path)
        )
        with reading(self._engine, connection) as conn:
            return [
                LocationRecord(
                    encode_location_id(row.repository_id, row.path),
                    location_target(files_root(row.url, row.key), row.branch, row.path),
                )
                for row in conn.execute(query)
            ]

    def get_location(self, location_id: str, *, connection: Connection | None = None) -> LocationRecord:
        """One location by the id ``list_locations`` gave it."""
        decoded = decode_location_id(location_id)
        if decoded is None:
            raise NotFoundError(f"found no location with ID {location_id}")
        repository_id, path = decoded
        query = (
            select(repositories.c.url, repositories.c.key, repositories.c.branch)
            .select_from(descriptor_files.join(repositories))
            .where(
                descriptor_files.c.repository_id == repository_id,
                descriptor_files.c.path == path,
                repositories.c.removed_at.is_(None),
            )
        )
        with reading(self._engine, connection) as conn:
            row = conn.execute(query).first()
        if row is None:
            raise NotFoundError(f"found no location with ID {location_id}")
        return LocationRecord(location_id, location_target(files_root(row.url, row.key), row.branch, path))

    def refs_matching(
        self, ref_keys: Iterable[str], entity_filter: EntityFilter, *, connection: Connection | None = None
    ) -> set[str]:
        """Which of these entities a filter keeps (``POST /entities/by-refs?filter=...``)."""
        keys = sorted({key.lower() for key in ref_keys})
        found: set[str] = set()
        with reading(self._engine, connection) as conn:
            for start in range(0, len(keys), _CHUNK):
                chunk = keys[start : start + _CHUNK]
                query = select(entities.c.ref_key).where(
                    entities.c.ref_key.in_(chunk), filter_clause(entity_filter)
                )
                found.update(conn.execute(query).scalars())
        return found

    def _fill_details(self, conn: Connection, records: list[RepositoryRecord]) -> None:
        """Entity counts and problems for a page of repositories, one query each."""
        if not records:
            return
        by_id = {record.id: record for record in records}
        ids = list(by_id)
        count_query = (
            select(entities.c.repository_id, func.count())
            .where(entities.c.repository_id.in_(ids))
            .group_by(entities.c.repository_id)
        )
        for repository_id, number in conn.execute(count_query):
            by_id[repository_id].entities = int(number)
        problem_query = (
            select(problems.c.repository_id, *PROBLEM_COLUMNS)
            .where(problems.c.repository_id.in_(ids))
            .order_by(problems.c.repository_id, problems.c.path, problems.c.line, problems.c.id)
        )
        for repository_id, *values in conn.execute(problem_query):
            record = by_id[repository_id]
            record.error_count += 1
            if len(record.errors) < MAX_ERRORS_PER_REPOSITORY:
                problem = StoredProblem(*values)
                record.errors.append(replace(problem, message=redact(problem.message)))


_REPOSITORY_COLUMNS = (
    repositories.c.id,
    sources.c.name.label("source"),
    repositories.c.name,
    repositories.c.url,
    repositories.c.branch,
    repositories.c.state,
    repositories.c.last_commit,
    repositories.c.last_sync_at,
    repositories.c.last_success_at,
    repositories.c.next_sync_at,
    repositories.c.has_descriptors,
)


def _repository(row: Any) -> RepositoryRecord:
    return RepositoryRecord(
        id=row.id,
        source=row.source,
        name=row.name,
        url=redact(row.url),
        branch=row.branch,
        state=row.state,
        last_commit=row.last_commit,
        last_sync_at=utc(row.last_sync_at),
        last_success_at=utc(row.last_success_at),
        next_sync_at=utc(row.next_sync_at),
        has_descriptors=row.has_descriptors,
    )


def _configured_target(source: AnySourceSettings) -> str:
    return source.target
