"""Scoring's persistence: every table the scorer writes and the API reads, behind two protocols.

The cut between ``catalog_sync.scoring`` and this package: scoring *decides* (rules, levels, gaps,
which entities a change touches, the tally arithmetic of the summaries) from plain data and never
builds SQL; this package *stores and reads* and decides nothing about scorecards. Scoring sits
above the store and imports from here; nothing here imports scoring. The records both sides speak
(``Meta``, ``EntityOutcome``, ``Gap``, ``Tally``, ``Changes``, ``TeamFacts``...) live in ``types``,
below both, so neither needs the other's code.

- ``protocols``: ``ScoringStore`` (what a re-score reads and writes, in one locked transaction) and
  ``ScoringReads`` (what the API and the portal read, on the request's transaction);
- ``store`` (``SqlScoringStore``) and ``reads`` (``SqlScoringReads``): their SQLAlchemy Core
  implementations on a ``Database``, for SQLite and PostgreSQL;
- one module per thing done: ``loads`` (what evaluation reads), ``changes`` (what changed since the
  last re-score), ``writes`` (outcomes, scorecards, state), ``summaries`` (the kept totals),
  ``history`` (daily points), ``gaps``, ``teams``, ``insights`` (the reads behind the API), and
  ``gauges`` (the aggregates the Prometheus gauges read at scrape time).
"""

from __future__ import annotations

from catalog_sync.store.scoring.gaps import GAP_SORTS, gap_position, owner_keys
from catalog_sync.store.scoring.gauges import gap_counts, score_averages_by_owner, scorecard_level_counts
from catalog_sync.store.scoring.history import MAX_DAYS, RETENTION_DAYS
from catalog_sync.store.scoring.ordering import RESULT_SORTS
from catalog_sync.store.scoring.protocols import ScoringReads, ScoringStore
from catalog_sync.store.scoring.reads import SqlScoringReads
from catalog_sync.store.scoring.store import SqlScoringStore
from catalog_sync.store.scoring.types import GAP_TYPES, NONE_LEVEL, Page, TeamFacts

__all__ = [
    "GAP_SORTS",
    "GAP_TYPES",
    "MAX_DAYS",
    "NONE_LEVEL",
    "RESULT_SORTS",
    "RETENTION_DAYS",
    "Page",
    "ScoringReads",
    "ScoringStore",
    "SqlScoringReads",
    "SqlScoringStore",
    "TeamFacts",
    "gap_counts",
    "gap_position",
    "owner_keys",
    "score_averages_by_owner",
    "scorecard_level_counts",
]
