"""``MetricsReads``: the aggregates a Prometheus scrape reports, read from the database at scrape time.

Every replica reads the same database, so every replica reports the same numbers (see
``catalog_sync.metrics``). Each aggregate reads an index and no entity body (but the KPIs, which are
judged against the products' descriptors as they are now), and a scrape runs them
all in one read unit (``reading``), so it takes one pooled connection. The numbers come back as plain
values (None where a kind, lifecycle or tier is unset); naming them as metrics is ``metrics``' job.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import func, select

from catalog_sync.store.base import Database, Transaction, connection_of
from catalog_sync.store.kpis.documents import kpi_item
from catalog_sync.store.kpis.reads import kpi_states
from catalog_sync.store.scoring.directory import tech_debt_totals
from catalog_sync.store.scoring.gauges import (
    gap_counts,
    score_totals_by_owner,
    scorecard_definitions,
    scorecard_level_counts,
)
from catalog_sync.store.scoring.initiatives import active_exemptions
from catalog_sync.store.tables import entities, problems, repositories, sources, sync_runs


class MetricsReads(Protocol):
    """What ``/metrics`` reads: counts of entities, repositories, problems and scores, the last pass."""

    def reading(self) -> AbstractContextManager[Transaction]:
        """One read unit for a whole scrape; database failures in it raise ``StoreError``."""
        ...

    def entity_counts(self, tx: Transaction) -> list[tuple[str | None, str | None, int]]:
        """Entities by kind and lifecycle."""
        ...

    def repository_counts(self, tx: Transaction) -> dict[str, int]:
        """Repositories still in the catalog, by sync state (states with none are left out)."""
        ...

    def problem_count(self, tx: Transaction, category: str, severity: str | None) -> int:
        """Problems of one category (descriptor errors, conflicts), of one severity when given."""
        ...

    def last_success(self, tx: Transaction) -> datetime | None:
        """When the latest successful pass finished (aware UTC), None when none has."""
        ...

    def gap_counts(self, tx: Transaction) -> list[tuple[str, str, int]]:
        """Ownership gaps by type and tier."""
        ...

    def scorecard_level_counts(self, tx: Transaction) -> list[tuple[str, str, int]]:
        """Entities per scorecard and level, every defined level present."""
        ...

    def score_totals_by_owner(self, tx: Transaction) -> list[tuple[str, str, int, float]]:
        """Entities and the sum of their scores per scorecard and owning team (``none``: no team)."""
        ...

    def scorecard_definitions(self, tx: Transaction) -> list[tuple[str, str, list[str]]]:
        """Every scorecard's name, origin (``builtin``, ``file``, ``catalog``) and levels, lowest first."""
        ...

    def kpi_items(self, tx: Transaction) -> list[dict[str, Any]]:
        """Every KPI judged (``kpis.documents.kpi_item``), for ``catalog_kpis``, ``catalog_team_kpis`` and
        ``catalog_kpi_ratio``."""
        ...

    def active_exemptions(self, tx: Transaction) -> list[tuple[str, int]]:
        """Checks passed only by an exemption, per scorecard, for ``catalog_exemptions_active``."""
        ...

    def tech_debt_counts(self, tx: Transaction) -> dict[str, int]:
        """Items of ``spec.techDebt`` of live entities by severity, every severity present."""
        ...

    def source_listings(self, tx: Transaction) -> dict[str, bool]:
        """Whether each source's last listing was clean (nothing failed, refused or left unread), by
        source name; a source never listed is left out, so it is not taken for a clean one."""
        ...


class SqlMetricsReads:
    """``MetricsReads`` over SQLite or PostgreSQL."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def reading(self) -> AbstractContextManager[Transaction]:
        """See ``MetricsReads``."""
        return self._database.reading()

    def entity_counts(self, tx: Transaction) -> list[tuple[str | None, str | None, int]]:
        """See ``MetricsReads``; one GROUP BY over the (kind, lifecycle) index, no JSON, no search rows."""
        query = select(entities.c.kind, entities.c.lifecycle, func.count()).group_by(
            entities.c.kind, entities.c.lifecycle
        )
        return [(kind, lifecycle, int(n)) for kind, lifecycle, n in connection_of(tx).execute(query)]

    def repository_counts(self, tx: Transaction) -> dict[str, int]:
        """See ``MetricsReads``."""
        query = (
            select(repositories.c.state, func.count())
            .where(repositories.c.removed_at.is_(None))
            .group_by(repositories.c.state)
        )
        return {str(state): int(number) for state, number in connection_of(tx).execute(query)}

    def problem_count(self, tx: Transaction, category: str, severity: str | None) -> int:
        """See ``MetricsReads``."""
        query = select(func.count()).select_from(problems).where(problems.c.category == category)
        if severity is not None:
            query = query.where(problems.c.severity == severity)
        return int(connection_of(tx).execute(query).scalar_one())

    def last_success(self, tx: Transaction) -> datetime | None:
        """See ``MetricsReads``; newest first by the indexed start time, the first success is the latest."""
        query = (
            select(sync_runs.c.finished_at)
            .where(sync_runs.c.result == "ok", sync_runs.c.finished_at.is_not(None))
            .order_by(sync_runs.c.started_at.desc())
            .limit(1)
        )
        finished: datetime | None = connection_of(tx).execute(query).scalar()
        if finished is None:
            return None
        return finished.replace(tzinfo=UTC) if finished.tzinfo is None else finished

    def gap_counts(self, tx: Transaction) -> list[tuple[str, str, int]]:
        """See ``MetricsReads``."""
        return gap_counts(connection_of(tx))

    def scorecard_level_counts(self, tx: Transaction) -> list[tuple[str, str, int]]:
        """See ``MetricsReads``."""
        return scorecard_level_counts(connection_of(tx))

    def score_totals_by_owner(self, tx: Transaction) -> list[tuple[str, str, int, float]]:
        """See ``MetricsReads``."""
        return score_totals_by_owner(connection_of(tx))

    def scorecard_definitions(self, tx: Transaction) -> list[tuple[str, str, list[str]]]:
        """See ``MetricsReads``."""
        return scorecard_definitions(connection_of(tx))

    def kpi_items(self, tx: Transaction) -> list[dict[str, Any]]:
        """See ``MetricsReads``; reads the bodies of products with KPIs only."""
        return [kpi_item(state) for state in kpi_states(connection_of(tx))]

    def active_exemptions(self, tx: Transaction) -> list[tuple[str, int]]:
        """See ``MetricsReads``."""
        return active_exemptions(connection_of(tx))

    def tech_debt_counts(self, tx: Transaction) -> dict[str, int]:
        """See ``MetricsReads``."""
        return tech_debt_totals(connection_of(tx))

    def source_listings(self, tx: Transaction) -> dict[str, bool]:
        """See ``MetricsReads``; ``sources.last_error`` is set by a failed, incomplete or refused listing
        and cleared by a clean one (``store.listing``). One row per source: a handful."""
        query = select(sources.c.name, sources.c.last_error).where(sources.c.last_discovery_at.is_not(None))
        return {str(name): error is None for name, error in connection_of(tx).execute(query)}
