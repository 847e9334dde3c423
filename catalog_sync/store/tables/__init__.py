"""The catalog's tables, in SQLAlchemy Core, portable across SQLite and PostgreSQL.

Alembic migrations in ``store/migrations`` create exactly these; a test proves the two agree. Every
table joins the one ``metadata`` of ``base``, so importing this package declares the whole schema;
callers import tables from here, whichever module declares them.

- ``base``: the ``metadata`` and its naming convention, and the column conventions shared by every
  table (``ID``, ``TEXT_LIMIT``, ``JSON_TEXT``);
- ``catalog``: sources, repositories, descriptor files, entities, their search rows, relations and
  problems;
- ``runs``: sync passes;
- ``webhooks``: webhook deliveries already answered;
- ``scoring``: scorecards, their results, summaries and history, ownership gaps, the bookkeeping of
  incremental rescoring, and initiatives;
- ``kpis``: KPI values, their history and pushes;
- ``outbox``: notifications waiting to be delivered.
"""

from __future__ import annotations

from catalog_sync.store.tables.base import ID, JSON_TEXT, TEXT_LIMIT, metadata
from catalog_sync.store.tables.catalog import (
    descriptor_files,
    entities,
    problems,
    relations,
    repositories,
    search,
    sources,
)
from catalog_sync.store.tables.kpis import kpi_history, kpi_pushes, kpi_values
from catalog_sync.store.tables.outbox import notifications
from catalog_sync.store.tables.runs import sync_runs
from catalog_sync.store.tables.scoring import (
    DEBT_SEVERITIES,
    initiative_entities,
    initiative_history,
    initiatives,
    ownership_gaps,
    scorecard_history,
    scorecard_level_summary,
    scorecard_owner_summary,
    scorecard_results,
    scorecards,
    scoring_capabilities,
    scoring_dependencies,
    scoring_repositories,
    scoring_state,
    scoring_subjects,
)
from catalog_sync.store.tables.webhooks import webhook_deliveries

__all__ = [
    "DEBT_SEVERITIES",
    "ID",
    "JSON_TEXT",
    "TEXT_LIMIT",
    "descriptor_files",
    "entities",
    "initiative_entities",
    "initiative_history",
    "initiatives",
    "kpi_history",
    "kpi_pushes",
    "kpi_values",
    "metadata",
    "notifications",
    "ownership_gaps",
    "problems",
    "relations",
    "repositories",
    "scorecard_history",
    "scorecard_level_summary",
    "scorecard_owner_summary",
    "scorecard_results",
    "scorecards",
    "scoring_capabilities",
    "scoring_dependencies",
    "scoring_repositories",
    "scoring_state",
    "scoring_subjects",
    "search",
    "sources",
    "sync_runs",
    "webhook_deliveries",
]
