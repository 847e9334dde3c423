"""Scorecards and ownership gaps: how good each product is, and who answers for it.

``Scorer`` evaluates every scorecard (built-in, configured, and ``kind: Scorecard`` entities of the
catalog) on the entities it applies to and finds the ownership gaps of SPEC section 5, incrementally
after each sync pass. This package is pure evaluation (``rules``, ``evaluate``, ``gaps``, ``resolve``,
``view``, ``definitions``, ``plugins``, the arithmetic of ``summary``, the shaping of ``teams``) and the
``Scorer`` that orchestrates it; it never builds SQL. Everything stored (results, daily history,
gaps, the API's reads, the metrics' aggregates) lives in ``catalog_sync.store.scoring``, reached
through its ``ScoringStore`` and ``ScoringReads`` protocols. A Python package adds checks through the
entry point group ``catalog_sync.checks`` (``plugins``).
"""

from __future__ import annotations

from catalog_sync.scoring.gaps import GAP_TYPES
from catalog_sync.scoring.plugins import CheckResult, CheckSubject
from catalog_sync.scoring.scorer import Scorer, ScoringSummary

__all__ = [
    "GAP_TYPES",
    "CheckResult",
    "CheckSubject",
    "Scorer",
    "ScoringSummary",
]
