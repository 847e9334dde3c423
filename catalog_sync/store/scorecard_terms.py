"""The names each published scorecard defines (check ids, levels), for checking descriptors that name them.

The scorecards table holds what the last re-score evaluated: the built-in and configured files and the
trusted catalog scorecards. Reading a repository, and the API's validation, check exemptions and
initiatives against it (``catalog_sync.descriptors.references``).
"""

from __future__ import annotations

import json

from sqlalchemy import Connection, select

from catalog_sync.descriptors.references import ScorecardTerms, terms_of_spec
from catalog_sync.store.tables import scorecards


def published_terms(conn: Connection) -> dict[str, ScorecardTerms]:
    """Every published scorecard's check ids and levels, by name."""
    found: dict[str, ScorecardTerms] = {}
    for name, definition in conn.execute(select(scorecards.c.name, scorecards.c.definition)):
        try:
            spec = json.loads(definition)
        except ValueError:
            continue
        if isinstance(spec, dict):
            found[name] = terms_of_spec(spec)
    return found
