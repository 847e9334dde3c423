"""What to fix next: the failing checks of an entity, or of a team's entities, ranked by the level they
unlock, each with how to pass it.

Pure: scorecard results in (plain dicts as ``ScoringReads`` gives them, with each scorecard's
``levels`` and each check's ``level``, ``weight`` and ``description``), ranked steps out. The rule is
the scorer's own (``evaluate.score_entity``): an entity reaches a level when every check of that level
and of every lower level passes. So a failing check of the level just above the entity's is the
nearest win, and among those a check that is the *only* one standing in the way raises the level by
itself (``unlocks`` names the level it would reach); checks of higher levels come after, however
heavy. A team's list folds the same steps over every product it owns: one line per check, with the
products it affects, ranked first by the level it counts towards, then by how many products it would
raise on its own, then by how many it affects.

Initiative deadlines (SPEC section 10) join a team's list through ``deadlines``: each is passed
through as given, soonest first, so the page and ``GET /api/teams/{name}/next`` show them beside the
checks without this module knowing what an initiative is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

MAX_TEAM_STEPS = 50
"""Lines of a team's list at most (the count of every failing check stays complete)."""


@dataclass(frozen=True)
class Step:
    """One failing check of one entity on one scorecard, and what fixing it would bring."""

    entity_ref: str
    scorecard: str
    scorecard_title: str
    check: str
    title: str
    level: str | None
    rank: int
    how: str
    message: str
    weight: float
    unlocks: str | None
    blocking: int

    def to_dict(self) -> dict[str, Any]:
        """The wire form (camelCase, as the API speaks)."""
        return {
            "entityRef": self.entity_ref,
            "scorecard": self.scorecard,
            "scorecardTitle": self.scorecard_title,
            "check": self.check,
            "title": self.title,
            "level": self.level,
            "unlocks": self.unlocks,
            "blocking": self.blocking,
            "how": self.how,
            "message": self.message,
        }


@dataclass
class _TeamLine:
    scorecard: str
    scorecard_title: str
    check: str
    title: str
    level: str | None
    rank: int
    how: str
    weight: float
    products: list[str] = field(default_factory=list)
    unlocking: list[str] = field(default_factory=list)


def entity_steps(results: Iterable[Mapping[str, Any]]) -> list[Step]:
    """Every failing check of one entity's ``results``, the nearest win first."""
    steps = [step for result in results for step in _result_steps(result)]
    steps.sort(key=_step_key)
    return steps


def team_steps(
    results: Iterable[Mapping[str, Any]],
    deadlines: Sequence[Mapping[str, Any]] = (),
    *,
    limit: int = MAX_TEAM_STEPS,
) -> dict[str, Any]:
    """The team's list: one line per failing check with the products it affects, and its deadlines."""
    lines: dict[tuple[str, str], _TeamLine] = {}
    for result in results:
        for step in _result_steps(result):
            line = lines.get((step.scorecard, step.check))
            if line is None:
                line = lines[(step.scorecard, step.check)] = _TeamLine(
                    step.scorecard,
                    step.scorecard_title,
                    step.check,
                    step.title,
                    step.level,
                    step.rank,
                    step.how,
                    step.weight,
                )
            line.products.append(step.entity_ref)
            if step.unlocks is not None:
                line.unlocking.append(step.entity_ref)
    ranked = sorted(lines.values(), key=_line_key)
    return {
        "steps": [_line_dict(line) for line in ranked[:limit]],
        "totalSteps": len(ranked),
        "deadlines": sorted((dict(item) for item in deadlines), key=lambda item: str(item.get("dueOn", ""))),
    }


def reached_rank(levels: Sequence[str], failing_ranks: Iterable[int]) -> int:
    """The rank (1-based; 0 below the first level) an entity reaches with these checks failing."""
    lowest_failing = min(failing_ranks, default=len(levels) + 1)
    return max(0, min(len(levels), lowest_failing - 1))


def _result_steps(result: Mapping[str, Any]) -> list[Step]:
    raw_levels, raw_checks = result.get("levels"), result.get("checks")
    levels = [str(level) for level in raw_levels] if isinstance(raw_levels, list) else []
    checks = (
        [check for check in raw_checks if isinstance(check, Mapping)] if isinstance(raw_checks, list) else []
    )
    failing = [(check, _rank(levels, check.get("level"))) for check in checks if not check.get("passed")]
    current = reached_rank(levels, (rank for _, rank in failing))
    steps = []
    for index, (check, rank) in enumerate(failing):
        others = [other for position, (_, other) in enumerate(failing) if position != index]
        after = reached_rank(levels, others)
        steps.append(
            Step(
                entity_ref=str(result.get("entityRef", "")),
                scorecard=str(result.get("scorecard", "")),
                scorecard_title=str(result.get("title") or result.get("scorecard", "")),
                check=str(check.get("id", "")),
                title=str(check.get("title") or check.get("id", "")),
                level=check.get("level"),
                rank=rank,
                how=str(check.get("description") or check.get("message") or ""),
                message=str(check.get("message") or ""),
                weight=float(check.get("weight") or 1),
                unlocks=levels[after - 1] if after > current else None,
                blocking=sum(1 for _, other in failing if other <= rank),
            )
        )
    return steps


def _rank(levels: Sequence[str], level: Any) -> int:
    """A check's level as its rank; a check without a known level counts towards the last level."""
    return levels.index(level) + 1 if level in levels else len(levels)


def _step_key(step: Step) -> tuple[Any, ...]:
    return (step.unlocks is None, step.rank, step.blocking, -step.weight, step.scorecard, step.check)


def _line_key(line: _TeamLine) -> tuple[Any, ...]:
    return (line.rank, -len(line.unlocking), -len(line.products), -line.weight, line.scorecard, line.check)


def _line_dict(line: _TeamLine) -> dict[str, Any]:
    return {
        "scorecard": line.scorecard,
        "scorecardTitle": line.scorecard_title,
        "check": line.check,
        "title": line.title,
        "level": line.level,
        "how": line.how,
        "products": sorted(line.products),
        "unlocksFor": sorted(line.unlocking),
    }


__all__ = ["MAX_TEAM_STEPS", "Step", "entity_steps", "reached_rank", "team_steps"]
