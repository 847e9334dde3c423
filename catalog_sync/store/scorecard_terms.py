"""The names each published scorecard defines (check ids, levels), for checking descriptors that name them.

The scorecards table holds what the last re-score evaluated: the built-in and configured files and the
trusted catalog scorecards. Reading a repository, and the API's validation, check exemptions and
initiatives against it (``catalog_sync.descriptors.references``).
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Connection, or_, select, update

from catalog_sync.descriptors.references import REFUSAL_PATTERNS, ScorecardTerms, terms_of_spec
from catalog_sync.store.tables import problems, repositories, scorecards


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


def reread_refused(conn: Connection, now: datetime) -> int:
    """Make due for a full read the repositories holding a document refused for naming a scorecard,
    check or level nobody defined (it may be defined now); answer how many."""
    refused = select(problems.c.repository_id).where(
        problems.c.category == "descriptor",
        problems.c.severity == "error",
        or_(*(problems.c.message.like(pattern) for pattern in REFUSAL_PATTERNS)),
    )
    result = conn.execute(
        update(repositories)
        .where(repositories.c.id.in_(refused), repositories.c.removed_at.is_(None))
        .values(rescan=True, next_sync_at=now)
    )
    return int(result.rowcount or 0)
