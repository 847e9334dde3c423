"""``ScoringStore`` over SQLAlchemy Core: the scorer's reads and writes, on one ``Database``.

Given the notification channels' routes, the same operations write the outbox: ``clear_all`` and
``clear_entities`` keep what they erase for the length of the re-score's transaction, and
``write_outcomes`` and ``rescore_repositories`` compare and write the events beside the results, so
a level drop is announced exactly when, and only if, it is committed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, func, select

from catalog_sync.store.base import Database, Transaction, connection_of
from catalog_sync.store.engine import lock_writes
from catalog_sync.store.filters import EntityFilter
from catalog_sync.store.outbox import enqueue, scoring_events
from catalog_sync.store.outbox.types import Event, Route
from catalog_sync.store.scoring import changes, history, initiatives, loads, summaries, writes
from catalog_sync.store.scoring.initiatives import BurnPoint, CandidateRow
from catalog_sync.store.scoring.types import (
    Changes,
    EdgeRow,
    EntityOutcome,
    Gap,
    Meta,
    PublishedScorecard,
    ScoredBefore,
    Served,
    Totals,
)
from catalog_sync.store.tables import entities

LOCK_ID = 0x73636F72  # "scor"


class SqlScoringStore:
    """The scorer's side of scoring's tables (see ``protocols.ScoringStore`` for each operation)."""

    def __init__(self, database: Database, *, routes: Sequence[Route] = ()) -> None:
        self._database = database
        self._routes = tuple(routes)
        self._snapshots: dict[int, scoring_events.Snapshot] = {}

    @property
    def database(self) -> Database:
        """The database re-scores run on."""
        return self._database

    @contextmanager
    def rescoring(self) -> Iterator[Transaction]:
        """One write transaction holding the re-score lock (PostgreSQL: an advisory lock held until
        the transaction ends; SQLite: ``BEGIN IMMEDIATE``, the database's one writer)."""
        with self._database.transaction() as tx:
            conn = connection_of(tx)
            lock_writes(conn, LOCK_ID)
            if not self._routes:
                yield tx
                return
            self._snapshots[id(tx)] = scoring_events.Snapshot(scoring_events.was_scored(conn))
            try:
                yield tx
            finally:
                self._snapshots.pop(id(tx), None)

    def _snapshot(self, tx: Transaction) -> scoring_events.Snapshot | None:
        """What this re-score erased, kept to compare (None when no channel listens)."""
        return self._snapshots.get(id(tx)) if self._routes else None

    def read_state(self, tx: Transaction, key: str) -> str | None:
        return writes.read_state(connection_of(tx), key)

    def write_state(self, tx: Transaction, values: dict[str, str]) -> None:
        writes.write_state(connection_of(tx), values)

    def catalog_scorecards(self, tx: Transaction) -> list[tuple[str, dict[str, Any], str | None]]:
        return loads.catalog_scorecards(connection_of(tx))

    def entity_count(self, tx: Transaction) -> int:
        return int(connection_of(tx).execute(select(func.count()).select_from(entities)).scalar_one())

    def entity_ids(self, tx: Transaction) -> list[int]:
        return list(connection_of(tx).execute(select(entities.c.id).order_by(entities.c.id)).scalars())

    def find_changes(self, tx: Transaction) -> Changes:
        return changes.find_changes(connection_of(tx))

    def changed_lists(self, tx: Transaction, entity_ids: Iterable[int]) -> set[tuple[str, str]]:
        return changes.changed_lists(connection_of(tx), entity_ids)

    def dependents(self, tx: Transaction, keys: set[str], lists: set[tuple[str, str]]) -> set[int]:
        return changes.dependents(connection_of(tx), keys, lists)

    def expired_subjects(self, tx: Transaction, now: datetime) -> set[int]:
        return changes.expired_subjects(connection_of(tx), now)

    def applicable_ids(
        self, tx: Transaction, entity_filter: EntityFilter, ids: Sequence[int] | None
    ) -> set[int]:
        return loads.applicable_ids(connection_of(tx), entity_filter, ids)

    def load_subjects(self, tx: Transaction, ids: Sequence[int]) -> list[tuple[Meta, dict[str, Any]]]:
        return loads.load_subjects(connection_of(tx), ids)

    def load_entities(
        self, tx: Transaction, keys: Sequence[str], *, body: bool
    ) -> list[tuple[Meta, dict[str, Any] | None]]:
        return loads.load_entities(connection_of(tx), keys, body=body)

    def load_edges(self, tx: Transaction, keys: Sequence[str], relation_type: str | None) -> list[EdgeRow]:
        return loads.load_edges(connection_of(tx), keys, relation_type)

    def load_facts(self, tx: Transaction, ids: Sequence[int]) -> dict[int, dict[str, Any] | None]:
        return loads.load_facts(connection_of(tx), ids)

    def load_kpi_values(
        self, tx: Transaction, keys: Sequence[str]
    ) -> dict[str, dict[str, tuple[float | None, str | None]]]:
        from catalog_sync.store.kpis.reads import stored_values  # the KPI store reads scoring's helpers

        found: dict[str, dict[str, tuple[float | None, str | None]]] = {key: {} for key in keys}
        for (ref, ident), stored in stored_values(connection_of(tx), keys).items():
            found.setdefault(ref, {})[ident] = (stored.value, stored.error)
        return found

    def load_parts(self, tx: Transaction, keys: Sequence[str]) -> tuple[dict[str, str], dict[str, list[str]]]:
        return loads.load_parts(connection_of(tx), keys)

    def write_definitions(self, tx: Transaction, cards: Sequence[PublishedScorecard], now: datetime) -> None:
        writes.write_definitions(connection_of(tx), cards, now)

    def clear_all(self, tx: Transaction) -> None:
        if (snapshot := self._snapshot(tx)) is not None:
            scoring_events.take_snapshot(connection_of(tx), snapshot, None)
        writes.clear_all(connection_of(tx))

    def clear_entities(self, tx: Transaction, ids: Sequence[int]) -> list[ScoredBefore]:
        if (snapshot := self._snapshot(tx)) is not None:
            scoring_events.take_snapshot(connection_of(tx), snapshot, ids)
        return writes.clear_entities(connection_of(tx), ids)

    def write_outcomes(
        self, tx: Transaction, outcomes: Iterable[EntityOutcome], now: datetime
    ) -> tuple[int, int]:
        conn = connection_of(tx)
        snapshot = self._snapshot(tx)
        if snapshot is None:
            return writes.write_outcomes(conn, outcomes, now)
        outcomes = list(outcomes)
        written = writes.write_outcomes(conn, outcomes, now)
        self._write_events(conn, scoring_events.events_of(snapshot, outcomes), now, snapshot)
        return written

    def _write_events(
        self, conn: Connection, events: list[Any], now: datetime, snapshot: scoring_events.Snapshot
    ) -> None:
        if events:
            enqueue.write_events(conn, self._routes, events, now, snapshot.owners)

    def apply_summaries(self, tx: Transaction, levels: Totals, owners: Totals, served: Served) -> bool:
        return summaries.apply_summaries(connection_of(tx), levels, owners, served)

    def rescore_repositories(
        self, tx: Transaction, ids: Sequence[int] | None, gap_of: Callable[[str, str], Gap]
    ) -> int:
        conn = connection_of(tx)
        snapshot = self._snapshot(tx)
        if snapshot is None:
            return writes.rescore_repositories(conn, ids, gap_of)
        before = scoring_events.repository_gaps(conn, ids)
        written = writes.rescore_repositories(conn, ids, gap_of)
        after = scoring_events.repository_gaps(conn, ids)
        if snapshot.scored_before:
            # The scorer hands this operation no clock: the wall clock dates the repository's events.
            events = scoring_events.repository_gap_events(before, after)
            self._write_events(conn, events, datetime.now(UTC), snapshot)
        return written

    def record_day(self, tx: Transaction, now: datetime) -> None:
        history.record_day(connection_of(tx), now)

    def announce(self, tx: Transaction, events: Sequence[Event], now: datetime) -> None:
        if self._routes and events:
            enqueue.write_events(connection_of(tx), self._routes, events, now)

    def catalog_initiatives(self, tx: Transaction) -> list[tuple[str, dict[str, Any], str | None]]:
        return loads.catalog_of_kind(connection_of(tx), "initiative")

    def initiative_candidates(
        self, tx: Transaction, scorecard: str, entity_filter: EntityFilter
    ) -> list[CandidateRow]:
        return initiatives.candidates(connection_of(tx), scorecard, entity_filter)

    def record_initiative_days(
        self, tx: Transaction, points: Sequence[tuple[str, int, int]], now: datetime
    ) -> None:
        initiatives.record_days(connection_of(tx), points, now)

    def initiative_points(
        self, tx: Transaction, names: Iterable[str], first_day: date
    ) -> dict[str, list[BurnPoint]]:
        return initiatives.burn_points(connection_of(tx), names, first_day)

    def write_initiatives(
        self,
        tx: Transaction,
        rows: Sequence[dict[str, Any]],
        covered: Sequence[dict[str, Any]],
        now: datetime,
    ) -> None:
        initiatives.write_all(connection_of(tx), rows, covered, now)
