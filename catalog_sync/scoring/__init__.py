"""Scorecards and ownership gaps: how good each product is, and who answers for it.

``Scorer`` evaluates every scorecard (built-in, configured, and ``kind: Scorecard`` entities of the
catalog) on the entities it applies to and finds the ownership gaps of SPEC section 5, incrementally
after each sync pass; results, their daily history and the gaps are stored for the API and the
metrics (``store`` has the metrics' aggregates, ``reader`` the API's reads). A Python package adds
checks through the entry point group ``catalog_sync.checks`` (``plugins``).
"""

from __future__ import annotations

from catalog_sync.scoring.gaps import GAP_TYPES
from catalog_sync.scoring.plugins import CheckResult, CheckSubject
from catalog_sync.scoring.scorer import Scorer, ScoringSummary
from catalog_sync.scoring.store import gap_counts, score_averages_by_owner, scorecard_level_counts

__all__ = [
    "GAP_TYPES",
    "CheckResult",
    "CheckSubject",
    "Scorer",
    "ScoringSummary",
    "gap_counts",
    "score_averages_by_owner",
    "scorecard_level_counts",
]
