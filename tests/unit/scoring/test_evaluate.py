"""Levels and scores: the highest level whose checks and all lower ones pass; the weighted share passed."""

from __future__ import annotations

from catalog_sync.model import Entity
from catalog_sync.scoring.definitions import build_scorecard
from catalog_sync.scoring.evaluate import evaluate_entity, score_entity
from catalog_sync.scoring.plugins import PluginChecks
from catalog_sync.scoring.resolve import Owner
from catalog_sync.scoring.rules import RuleEnv
from tests.unit.scoring.helpers import NOW, context

ENV = RuleEnv(NOW, ("developer",), PluginChecks({}))


def card(checks: list[dict[str, object]], levels: tuple[str, ...] = ("bronze", "silver", "gold")) -> object:
    spec = {"appliesTo": ["kind=product"], "levels": list(levels), "checks": checks}
    return build_scorecard(Entity("catalog/v1", "Scorecard", {"name": "test"}, spec), "builtin")


def check(check_id: str, level: str, field: str, weight: float = 1) -> dict[str, object]:
    return {
        "id": check_id,
        "title": check_id,
        "level": level,
        "weight": weight,
        "rule": {"field": field, "exists": True},
    }


def test_the_level_is_the_highest_whose_checks_and_all_lower_ones_pass() -> None:
    scorecard = card(
        [
            check("a", "bronze", "spec.a", 3),
            check("b", "silver", "spec.b"),
            check("c", "gold", "spec.c"),
        ]
    )
    cases = [
        ({"a": 1, "b": 1, "c": 1}, "gold", 3, 100.0),
        ({"a": 1, "b": 1}, "silver", 2, 80.0),
        ({"a": 1, "c": 1}, "bronze", 1, 80.0),  # gold passing does not skip a failed silver
        ({"b": 1, "c": 1}, "", 0, 40.0),  # below the first level
    ]
    for spec, level, rank, score in cases:
        result, _ = score_entity(scorecard, context({"spec": spec}), ENV)  # type: ignore[arg-type]
        assert (result.level, result.rank, result.score) == (level, rank, score)


def test_a_level_without_checks_is_reached_with_the_levels_below_it() -> None:
    scorecard = card([check("a", "bronze", "spec.a"), check("c", "gold", "spec.c")])
    result, _ = score_entity(scorecard, context({"spec": {"a": 1}}), ENV)  # type: ignore[arg-type]
    assert (result.level, result.score) == ("silver", 50.0)


def test_each_check_result_keeps_id_pass_value_and_message() -> None:
    scorecard = card([check("a", "bronze", "spec.a")])
    result, _ = score_entity(scorecard, context({"spec": {"a": [1, 2]}}), ENV)  # type: ignore[arg-type]
    assert result.checks == [{"id": "a", "passed": True, "value": 2, "message": "spec.a is set"}]


def test_orphans_are_not_scored_and_keep_only_their_orphan_gap() -> None:
    scorecard = card([check("a", "bronze", "spec.a")])
    orphan = context(owner=Owner("missing"), capabilities=[], orphaned=True)
    outcome = evaluate_entity(orphan, [scorecard], ENV, required_roles=("developer",))  # type: ignore[list-item]
    assert outcome.results == []
    assert [gap.type for gap in outcome.gaps] == ["orphaned_entity"]
    assert outcome.live is False
