"""What the API and the portal read of scoring: scorecards with their summaries, results, history,
gaps, team summaries, insights.

Every read runs on the transaction the caller passes (one per HTTP request, so a request that asks
several questions uses one pooled connection). Every read is one or two indexed queries over the
tables the scorer keeps (nothing is evaluated at request time), and every list is a keyset page:
``limit`` items after a position, the position of the last item given back when there are more.
Items come back as plain dicts in the wire's camelCase, ready for ``plugin_api.schemas.scoring``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import ColumnElement, Connection, func, select

from catalog_sync.descriptors.references import ScorecardTerms
from catalog_sync.errors import NotFoundError, QueryError
from catalog_sync.store.base import Database, Transaction, connection_of
from catalog_sync.store.engine import translate_errors
from catalog_sync.store.filters import EntityFilter
from catalog_sync.store.repo_queries import utc
from catalog_sync.store.scorecard_terms import published_terms
from catalog_sync.store.scoring import initiatives
from catalog_sync.store.scoring.directory import (
    capability_tree,
    owner_results,
    result_with_checks,
    team_directory,
    team_edges,
    tech_debt,
)
from catalog_sync.store.scoring.gaps import gaps_page
from catalog_sync.store.scoring.history import read_history
from catalog_sync.store.scoring.insights import (
    capability_overlap,
    coordination_load,
    load_to_dict,
    runbook_automation,
)
from catalog_sync.store.scoring.ordering import RESULT_SORTS, past
from catalog_sync.store.scoring.summaries import average, level_totals
from catalog_sync.store.scoring.teams import team_facts
from catalog_sync.store.scoring.types import NONE_LEVEL, Page, TeamFacts
from catalog_sync.store.sqlfilters import filter_clause
from catalog_sync.store.tables import (
    entities,
    scorecard_results,
    scorecards,
)

P = ParamSpec("P")
R = TypeVar("R")


def _translated(
    read: Callable[Concatenate[SqlScoringReads, P], R],
) -> Callable[Concatenate[SqlScoringReads, P], R]:
    """A read whose database failures surface as the error tree's (an unreachable database: 503)."""

    def translating(self: SqlScoringReads, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with translate_errors(self.database.engine):
            return read(self, *args, **kwargs)

    translating.__name__, translating.__doc__ = read.__name__, read.__doc__
    return translating


class SqlScoringReads:
    """``ScoringReads`` over SQLAlchemy Core: every read runs on the caller's transaction."""

    def __init__(self, database: Database) -> None:
        self._database = database

    @property
    def database(self) -> Database:
        """The database whose transactions these reads take."""
        return self._database

    # -- initiatives -------------------------------------------------------------------------------------

    @_translated
    def list_initiatives(
        self, tx: Transaction, after: str | None, limit: int, owners: Sequence[str] | None
    ) -> Page:
        """Initiatives by due day; ``owners`` keeps those a team runs or has entities in."""
        return initiatives.list_page(connection_of(tx), after, limit, owners)

    @_translated
    def get_initiative(self, tx: Transaction, name: str) -> dict[str, Any]:
        """One initiative with its progress."""
        return initiatives.get_one(connection_of(tx), name)

    @_translated
    def initiative_history(self, tx: Transaction, name: str, days: int, today: date) -> list[dict[str, Any]]:
        """The daily burn-up of one initiative, oldest first."""
        return initiatives.history(connection_of(tx), name, days, today)

    @_translated
    def initiative_entities(
        self, tx: Transaction, name: str, done: bool | None, after: str | None, limit: int
    ) -> Page:
        """The entities one initiative covers, not done first."""
        return initiatives.covered_page(connection_of(tx), name, done, after, limit)

    @_translated
    def entity_initiatives(self, tx: Transaction, ref_key: str) -> list[dict[str, Any]]:
        """The initiatives covering one entity."""
        return initiatives.of_entity(connection_of(tx), ref_key)

    # -- scorecards ----------------------------------------------------------------------------------------

    @_translated
    def scorecard_terms(self, tx: Transaction) -> dict[str, ScorecardTerms]:
        """The published scorecards' check ids and levels, by name."""
        return published_terms(connection_of(tx))

    @_translated
    def list_scorecards(self, tx: Transaction, after: str | None, limit: int) -> Page:
        """Scorecards by name, each with its summary."""
        conn = connection_of(tx)
        total = int(conn.execute(select(func.count()).select_from(scorecards)).scalar_one())
        query = select(scorecards).order_by(scorecards.c.name).limit(limit + 1)
        if after is not None:
            query = query.where(scorecards.c.name > after)
        rows = conn.execute(query).all()
        items = [_definition(row, _summary(conn, row.name)) for row in rows[:limit]]
        more = len(rows) > limit
        return Page(items, total, items[-1]["name"] if more and items else None)

    @_translated
    def get_scorecard(self, tx: Transaction, name: str) -> dict[str, Any]:
        """One scorecard with its summary; NotFoundError when there is none of that name."""
        conn = connection_of(tx)
        row = conn.execute(select(scorecards).where(scorecards.c.name == name)).first()
        if row is None:
            raise NotFoundError(f"no scorecard named {name!r}")
        return _definition(row, _summary(conn, name))

    @_translated
    def results(
        self,
        tx: Transaction,
        name: str,
        *,
        entity_filter: EntityFilter | None,
        level: str | None,
        after: str | tuple[Any, str] | None,
        limit: int,
        sort: str = "entity",
        descending: bool = False,
    ) -> Page:
        """One scorecard's results, by entity ref (or by ``sort``, one of ``RESULT_SORTS``);
        ``level`` is a level name or ``none``. ``after`` is the ref the page follows, or with another
        sort the ``(value, ref)`` of that result, as the previous page's ``Page.after`` says."""
        conn = connection_of(tx)
        definition = _definition_row(conn, name)
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
            conn.execute(select(func.count()).select_from(scorecard_results).where(*conditions)).scalar_one()
        )
        if sort not in RESULT_SORTS:
            raise QueryError("sort", f"{sort[:60]!r} is not a column to sort by ({', '.join(RESULT_SORTS)})")
        column, ref = RESULT_SORTS[sort], scorecard_results.c.entity_ref
        query = select(scorecard_results).where(*conditions)
        if after is not None:
            query = query.where(past(_result_position(column, after), descending))
        keys = (column, ref) if sort != "entity" else (ref,)
        query = query.order_by(*(key.desc() if descending else key.asc() for key in keys))
        rows = conn.execute(query.add_columns(column.label("sort_value")).limit(limit + 1)).all()
        checks = _check_index(definition.definition)
        items = [_result(row, checks) for row in rows[:limit]]
        if len(rows) <= limit or not items:
            return Page(items, total, None)
        last = rows[limit - 1]
        return Page(items, total, last.entity_ref if sort == "entity" else (last.sort_value, last.entity_ref))

    @_translated
    def history(self, tx: Transaction, name: str, days: int, today: date) -> list[dict[str, Any]]:
        """Daily points of one scorecard, oldest first."""
        conn = connection_of(tx)
        _definition_row(conn, name)
        return [
            {"day": p.day, "entities": p.entities, "levels": p.levels, "averageScore": p.average_score}
            for p in read_history(conn, name, days, today)
        ]

    @_translated
    def entity_scorecards(self, tx: Transaction, ref_key: str) -> list[dict[str, Any]]:
        """Every scorecard result of one entity; NotFoundError when the entity does not exist."""
        conn = connection_of(tx)
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

    # -- gaps, teams, insights -------------------------------------------------------------------------------

    @_translated
    def gaps(
        self,
        tx: Transaction,
        *,
        gap_type: str | None,
        owner: str | None,
        after: tuple[str, str, int] | None,
        limit: int,
        sort: str = "type",
        descending: bool = False,
    ) -> tuple[Page, dict[str, int]]:
        """Ownership gaps by type and subject (or by ``sort``, one of ``GAP_SORTS``), and the count of
        each type under the same filters."""
        return gaps_page(
            connection_of(tx),
            gap_type=gap_type,
            owner=owner,
            after=after,
            limit=limit,
            sort=sort,
            descending=descending,
        )

    @_translated
    def team_summary(self, tx: Transaction, name: str, namespace: str = "default") -> TeamFacts:
        """What one team owns, how it scores, its gaps and its insights, read for that team alone."""
        return team_facts(connection_of(tx), name, namespace)

    @_translated
    def insight(self, tx: Transaction, name: str) -> list[dict[str, Any]]:
        """One insight list, whole (the API pages it).

        ``name`` is capability-overlap, coordination-load, runbook-automation, tech-debt or
        team-dependencies (the edges between teams behind coordination-load).
        """
        conn = connection_of(tx)
        if name == "capability-overlap":
            return capability_overlap(conn)
        if name == "coordination-load":
            return [load_to_dict(load) for load in coordination_load(conn)]
        if name == "runbook-automation":
            return runbook_automation(conn)
        if name == "tech-debt":
            return tech_debt(conn)
        if name == "team-dependencies":
            return team_edges(conn)
        raise NotFoundError(f"no insight named {name!r}")

    @_translated
    def capability_tree(self, tx: Transaction) -> list[dict[str, Any]]:
        """Every capability, parents before children, with the products serving it."""
        return capability_tree(connection_of(tx))

    @_translated
    def team_directory(self, tx: Transaction) -> list[dict[str, Any]]:
        """Every Team and Group with its gaps, levels, runbooks, dependencies and debt."""
        return team_directory(connection_of(tx))

    @_translated
    def owner_results(self, tx: Transaction, owner: str, limit: int) -> list[dict[str, Any]]:
        """The results of what ``owner`` (a stored key) owns, with their checks' definitions."""
        return owner_results(connection_of(tx), owner, limit)

    @_translated
    def entity_results(self, tx: Transaction, ref_key: str) -> list[dict[str, Any]]:
        """One entity's results with their checks' definitions (empty when it has none)."""
        conn = connection_of(tx)
        rows = conn.execute(
            select(scorecard_results, scorecards.c.definition, scorecards.c.title, scorecards.c.levels)
            .join(scorecards, scorecards.c.name == scorecard_results.c.scorecard)
            .join(entities, entities.c.id == scorecard_results.c.entity_id)
            .where(entities.c.ref_key == ref_key)
            .order_by(scorecard_results.c.scorecard)
        ).all()
        return [result_with_checks(row) for row in rows]


def _definition_row(conn: Connection, name: str) -> Any:
    row = conn.execute(
        select(scorecards.c.name, scorecards.c.levels, scorecards.c.definition).where(
            scorecards.c.name == name
        )
    ).first()
    if row is None:
        raise NotFoundError(f"no scorecard named {name!r}")
    return row


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


def _result_position(column: ColumnElement[Any], after: str | tuple[Any, str]) -> list[tuple[Any, Any]]:
    ref = scorecard_results.c.entity_ref
    if isinstance(after, str):
        return [(ref, after)]
    return [(column, after[0]), (ref, after[1])]


def _check_index(definition: str) -> dict[str, dict[str, Any]]:
    spec = json.loads(definition)
    return {str(check["id"]): check for check in spec.get("checks", [])}


def _result(row: Any, checks: dict[str, dict[str, Any]]) -> dict[str, Any]:
    shown = []
    for stored in json.loads(row.checks):
        known = checks.get(stored["id"], {})
        check = {
            "id": stored["id"],
            "title": known.get("title", stored["id"]),
            "level": known.get("level"),
            "weight": float(known.get("weight", 1)),
            "passed": stored["passed"],
            "value": stored.get("value"),
            "message": stored.get("message", ""),
        }
        if stored.get("exempted"):
            check["exempted"] = stored["exempted"]
        shown.append(check)
    return {
        "entityRef": row.entity_ref,
        "kind": row.kind,
        "owner": row.owner or None,
        "level": row.level or None,
        "score": row.score,
        "evaluatedAt": utc(row.evaluated_at),
        "checks": shown,
    }
