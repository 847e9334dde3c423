"""What the API reads of scoring: scorecards with their summaries, results, history, gaps, team summaries.

Every read is one or two indexed queries over the tables the scorer keeps (nothing is evaluated at
request time), and every list is a keyset page: ``limit`` items after a position, the position of
the last item given back when there are more. Items come back as plain dicts in the wire's
camelCase, ready for ``plugin_api.schemas.scoring``.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, func, select

from catalog_sync.errors import NotFoundError, QueryError
from catalog_sync.scoring.gapqueries import NONE_LEVEL, Page, gaps_page
from catalog_sync.scoring.history import read_history
from catalog_sync.scoring.insights import (
    capability_overlap,
    coordination_load,
    load_to_dict,
    runbook_automation,
)
from catalog_sync.scoring.summary import average, level_totals
from catalog_sync.scoring.teams import team_summary
from catalog_sync.store.engine import translate_errors
from catalog_sync.store.filters import EntityFilter
from catalog_sync.store.repo_queries import utc
from catalog_sync.store.sqlfilters import filter_clause
from catalog_sync.store.tables import (
    entities,
    scorecard_results,
    scorecards,
)


class ScoringReader:
    """The API's reads of scoring, on one engine."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # -- scorecards ----------------------------------------------------------------------------------------

    def list_scorecards(self, after: str | None, limit: int) -> Page:
        """Scorecards by name, each with its summary."""
        with translate_errors(self._engine), self._engine.connect() as conn:
            total = int(conn.execute(select(func.count()).select_from(scorecards)).scalar_one())
            query = select(scorecards).order_by(scorecards.c.name).limit(limit + 1)
            if after is not None:
                query = query.where(scorecards.c.name > after)
            rows = conn.execute(query).all()
            items = [_definition(row, _summary(conn, row.name)) for row in rows[:limit]]
        more = len(rows) > limit
        return Page(items, total, items[-1]["name"] if more and items else None)

    def get_scorecard(self, name: str) -> dict[str, Any]:
        """One scorecard with its summary; NotFoundError when there is none of that name."""
        with translate_errors(self._engine), self._engine.connect() as conn:
            row = conn.execute(select(scorecards).where(scorecards.c.name == name)).first()
            if row is None:
                raise NotFoundError(f"no scorecard named {name!r}")
            return _definition(row, _summary(conn, name))

    def results(
        self,
        name: str,
        *,
        entity_filter: EntityFilter | None,
        level: str | None,
        after: str | None,
        limit: int,
    ) -> Page:
        """One scorecard's results, by entity ref; ``level`` is a level name or ``none``."""
        with translate_errors(self._engine), self._engine.connect() as conn:
            definition = self._definition_row(conn, name)
            levels = json.loads(definition.levels)
            conditions: list[ColumnElement[bool]] = [scorecard_results.c.scorecard == name]
            if level is not None:
                if level != NONE_LEVEL and level not in levels:
                    allowed = ", ".join([NONE_LEVEL, *levels])
                    raise QueryError("level", f"{level!r} is not a level of {name} ({allowed})")
                conditions.append(scorecard_results.c.level == ("" if level == NONE_LEVEL else level))
            if entity_filter is not None:
                conditions.append(filter_clause(entity_filter, scorecard_results.c.entity_id))
            total = int(
                conn.execute(
                    select(func.count()).select_from(scorecard_results).where(*conditions)
                ).scalar_one()
            )
            query = select(scorecard_results).where(*conditions).order_by(scorecard_results.c.entity_ref)
            if after is not None:
                query = query.where(scorecard_results.c.entity_ref > after)
            rows = conn.execute(query.limit(limit + 1)).all()
        checks = _check_index(definition.definition)
        items = [_result(row, checks) for row in rows[:limit]]
        more = len(rows) > limit
        return Page(items, total, items[-1]["entityRef"] if more and items else None)

    def history(self, name: str, days: int, today: date) -> list[dict[str, Any]]:
        """Daily points of one scorecard, oldest first."""
        with translate_errors(self._engine), self._engine.connect() as conn:
            self._definition_row(conn, name)
            points = read_history(conn, name, days, today)
        return [
            {"day": p.day, "entities": p.entities, "levels": p.levels, "averageScore": p.average_score}
            for p in points
        ]

    def entity_scorecards(self, ref_key: str) -> list[dict[str, Any]]:
        """Every scorecard result of one entity; NotFoundError when the entity does not exist."""
        with translate_errors(self._engine), self._engine.connect() as conn:
            entity_id = conn.execute(select(entities.c.id).where(entities.c.ref_key == ref_key)).scalar()
            if entity_id is None:
                raise NotFoundError(f"no entity {ref_key}")
            rows = conn.execute(
                select(scorecard_results, scorecards.c.definition, scorecards.c.title)
                .join(scorecards, scorecards.c.name == scorecard_results.c.scorecard)
                .where(scorecard_results.c.entity_id == entity_id)
                .order_by(scorecard_results.c.scorecard)
            ).all()
        return [
            {"scorecard": row.scorecard, "title": row.title, **_result(row, _check_index(row.definition))}
            for row in rows
        ]

    def _definition_row(self, conn: Connection, name: str) -> Any:
        row = conn.execute(
            select(scorecards.c.name, scorecards.c.levels, scorecards.c.definition).where(
                scorecards.c.name == name
            )
        ).first()
        if row is None:
            raise NotFoundError(f"no scorecard named {name!r}")
        return row

    # -- gaps ----------------------------------------------------------------------------------------------

    def gaps(
        self, *, gap_type: str | None, owner: str | None, after: tuple[str, str, int] | None, limit: int
    ) -> tuple[Page, dict[str, int]]:
        """Ownership gaps by type and subject, and the count of each type under the same filters."""
        with translate_errors(self._engine), self._engine.connect() as conn:
            return gaps_page(conn, gap_type=gap_type, owner=owner, after=after, limit=limit)

    # -- teams ---------------------------------------------------------------------------------------------

    def team_summary(self, name: str, namespace: str = "default") -> dict[str, Any]:
        """What one team owns, how it scores, its gaps, its members by role and its insights."""
        with translate_errors(self._engine), self._engine.connect() as conn:
            return team_summary(conn, name, namespace)

    # -- insights ------------------------------------------------------------------------------------------

    def insight(self, name: str) -> list[dict[str, Any]]:
        """One insight list, whole (the API pages it).

        ``name`` is capability-overlap, coordination-load or runbook-automation.
        """
        with translate_errors(self._engine), self._engine.connect() as conn:
            if name == "capability-overlap":
                return capability_overlap(conn)
            if name == "coordination-load":
                return [load_to_dict(load) for load in coordination_load(conn)]
            if name == "runbook-automation":
                return runbook_automation(conn)
        raise NotFoundError(f"no insight named {name!r}")


# -- shaping -----------------------------------------------------------------------------------------------


def _summary(conn: Connection, name: str) -> dict[str, Any]:
    levels = json.loads(
        conn.execute(select(scorecards.c.levels).where(scorecards.c.name == name)).scalar() or "[]"
    )
    counts = dict.fromkeys([NONE_LEVEL, *levels], 0)
    entities_count, score_tenths = 0, 0
    for _, level, count, score in level_totals(conn, name):
        counts[level or NONE_LEVEL] = counts.get(level or NONE_LEVEL, 0) + count
        entities_count += count
        score_tenths += score
    return {
        "entities": entities_count,
        "levels": counts,
        "averageScore": average(score_tenths, entities_count, 1),
    }


def _definition(row: Any, summary: dict[str, Any]) -> dict[str, Any]:
    spec = json.loads(row.definition)
    return {
        "name": row.name,
        "title": row.title,
        "description": row.description,
        "origin": row.origin,
        "entityRef": row.entity_ref,
        "levels": json.loads(row.levels),
        "appliesTo": list(spec.get("appliesTo", [])),
        "checks": [
            {
                "id": check["id"],
                "title": check["title"],
                "description": check.get("description") or "",
                "level": check["level"],
                "weight": float(check.get("weight", 1)),
                "rule": check["rule"],
            }
            for check in spec.get("checks", [])
        ],
        "summary": summary,
        "updatedAt": utc(row.updated_at),
    }


def _check_index(definition: str) -> dict[str, dict[str, Any]]:
    spec = json.loads(definition)
    return {str(check["id"]): check for check in spec.get("checks", [])}


def _result(row: Any, checks: dict[str, dict[str, Any]]) -> dict[str, Any]:
    shown = []
    for stored in json.loads(row.checks):
        known = checks.get(stored["id"], {})
        shown.append(
            {
                "id": stored["id"],
                "title": known.get("title", stored["id"]),
                "level": known.get("level"),
                "weight": float(known.get("weight", 1)),
                "passed": stored["passed"],
                "value": stored.get("value"),
                "message": stored.get("message", ""),
            }
        )
    return {
        "entityRef": row.entity_ref,
        "kind": row.kind,
        "owner": row.owner or None,
        "level": row.level or None,
        "score": row.score,
        "evaluatedAt": utc(row.evaluated_at),
        "checks": shown,
    }


def gap_position(value: Any) -> tuple[str, str, int]:
    """The ``(type, subject, id)`` a gap list continues after, checked: a cursor can say anything."""
    if (
        isinstance(value, list)
        and len(value) == 3
        and isinstance(value[0], str)
        and isinstance(value[1], str)
        and isinstance(value[2], int)
        and not isinstance(value[2], bool)
        and 0 <= value[2] < 2**63
    ):
        return value[0], value[1], value[2]
    raise QueryError("cursor", "malformed cursor")
