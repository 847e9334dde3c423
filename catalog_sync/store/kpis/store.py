"""The KPI store's two protocols (the measurer's, the readers') and their SQLAlchemy implementation."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from catalog_sync.store.base import Database, Transaction, connection_of
from catalog_sync.store.engine import lock_writes
from catalog_sync.store.filters import EntityFilter
from catalog_sync.store.kpis import reads, writes
from catalog_sync.store.kpis.events import kpi_events
from catalog_sync.store.kpis.types import DeclaredKpi, KpiState, Measurement
from catalog_sync.store.outbox import enqueue
from catalog_sync.store.outbox.types import Route
from catalog_sync.store.scoring.writes import read_state, write_state

LOCK_ID = 0x6B706973  # "kpis"
ROUND_KEY = "kpis.round_at"


class KpiMeasuring(Protocol):
    """What a measuring round needs: a claim on the round, the KPIs to measure, and where results go."""

    def claim_round(self, now: datetime, interval_seconds: float) -> bool:
        """True when this process should measure now: no other process did within the interval.

        Several processes (API replicas under ``serve``, workers) may run the schedule; the claim makes
        one round per interval whatever their number."""
        ...

    def declared(self) -> list[DeclaredKpi]:
        """Every declared KPI, with its product's repository facts."""
        ...

    def write(
        self, measurements: Sequence[Measurement], declared: set[tuple[str, str]], now: datetime
    ) -> int:
        """Store a round's results and forget KPIs no longer ``declared``; returns how many were."""
        ...


class KpiReads(Protocol):
    """What the API, the portal, the metrics and scoring read of KPIs."""

    def states(
        self,
        tx: Transaction,
        entity_filter: EntityFilter | None = None,
        *,
        today: date | None = None,
        owner: str | None = None,
    ) -> list[KpiState]:
        """Declared KPIs with their stored values (trends when ``today`` is given)."""
        ...

    def history(
        self, tx: Transaction, entity_ref: str, ident: str, days: int, today: date
    ) -> list[dict[str, Any]]:
        """Daily values of one KPI, oldest first."""
        ...


class KpiPushes(Protocol):
    """Taking pushed values (``POST /api/kpis/.../values``)."""

    def declared_one(self, entity_ref: str, ident: str) -> DeclaredKpi | None:
        """The KPI as declared now, None when the product or the KPI does not exist."""
        ...

    def push(self, entity_ref: str, ident: str, value: float, at: datetime, now: datetime) -> bool:
        """Keep one pushed value; True when new, False for a replay of the same ``at``."""
        ...


class SqlKpiStore:
    """Every KPI protocol over one ``Database``."""

    def __init__(self, database: Database, *, routes: Sequence[Route] = ()) -> None:
        self._database = database
        self._routes = tuple(routes)
        """The notification channels: a KPI a new value makes missed is announced in the same write."""

    @contextmanager
    def _locked(self) -> Iterator[Any]:
        with self._database.transaction() as tx:
            conn = connection_of(tx)
            lock_writes(conn, LOCK_ID)
            yield conn

    def claim_round(self, now: datetime, interval_seconds: float) -> bool:
        with self._locked() as conn:
            last = read_state(conn, ROUND_KEY)
            if last is not None:
                since = now - datetime.fromisoformat(last)
                if timedelta(0) <= since < timedelta(seconds=interval_seconds * 0.9):
                    return False
            write_state(conn, {ROUND_KEY: now.astimezone(UTC).isoformat()})
            return True

    def declared(self) -> list[DeclaredKpi]:
        with self._database.reading() as tx:
            return reads.declared_kpis(connection_of(tx), facts=True)

    def write(
        self, measurements: Sequence[Measurement], declared: set[tuple[str, str]], now: datetime
    ) -> int:
        with self._locked() as conn:
            events = kpi_events(conn, measurements) if self._routes else []
            writes.write_measurements(conn, measurements, now)
            enqueue.write_events(conn, self._routes, events, now)
            return writes.prune(conn, declared, now)

    def states(
        self,
        tx: Transaction,
        entity_filter: EntityFilter | None = None,
        *,
        today: date | None = None,
        owner: str | None = None,
    ) -> list[KpiState]:
        return reads.kpi_states(connection_of(tx), entity_filter, today=today, owner=owner)

    def history(
        self, tx: Transaction, entity_ref: str, ident: str, days: int, today: date
    ) -> list[dict[str, Any]]:
        return reads.history(connection_of(tx), entity_ref, ident, days, today)

    def declared_one(self, entity_ref: str, ident: str) -> DeclaredKpi | None:
        with self._database.reading() as tx:
            for kpi in reads.declared_for(connection_of(tx), entity_ref):
                if kpi.kpi_id == ident:
                    return kpi
        return None

    def push(self, entity_ref: str, ident: str, value: float, at: datetime, now: datetime) -> bool:
        with self._locked() as conn:
            at = at.astimezone(UTC)
            events = (
                kpi_events(conn, [Measurement(entity_ref, ident, "push", value, None, at)])
                if self._routes
                else []
            )
            new = writes.record_push(conn, entity_ref, ident, value, at, now)
            enqueue.write_events(conn, self._routes, events, now)
            return new
