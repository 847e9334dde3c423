"""What to fix next: failing checks ranked by the level they unlock, for one entity and for a team."""

from __future__ import annotations

from typing import Any

from catalog_sync.scoring.next_steps import entity_steps, reached_rank, team_steps

LEVELS = ["bronze", "silver", "gold"]


def check(check_id: str, level: str, passed: bool, *, weight: float = 1, how: str = "") -> dict[str, Any]:
    """One check of a stored result, joined with its definition."""
    return {
        "id": check_id,
        "title": check_id.replace("-", " "),
        "level": level,
        "weight": weight,
        "passed": passed,
        "description": how,
        "message": f"{check_id} is not met",
    }


def result(ref: str, level: str | None, *checks: dict[str, Any], card: str = "readiness") -> dict[str, Any]:
    """One entity's result on one scorecard."""
    return {
        "entityRef": ref,
        "scorecard": card,
        "title": card.title(),
        "levels": LEVELS,
        "level": level,
        "checks": list(checks),
    }


def test_the_level_reached_follows_the_scorers_rule() -> None:
    assert reached_rank(LEVELS, []) == 3
    assert reached_rank(LEVELS, [2, 3]) == 1
    assert reached_rank(LEVELS, [1]) == 0


def test_a_check_that_alone_blocks_the_next_level_comes_first_and_says_what_it_unlocks() -> None:
    steps = entity_steps(
        [
            result(
                "product:default/shop",
                "bronze",
                check("owner", "bronze", True),
                check("runbooks", "silver", False, how="List spec.runbooks."),
                check("docs", "gold", False, weight=5),
                check("automated", "gold", False),
            )
        ]
    )
    assert [step.check for step in steps] == ["runbooks", "docs", "automated"]
    assert steps[0].unlocks == "silver"
    assert steps[0].how == "List spec.runbooks."
    assert steps[1].unlocks is None  # gold needs both gold checks, and silver first
    assert steps[1].blocking == 3


def test_fixing_the_last_lower_check_can_unlock_several_levels_at_once() -> None:
    steps = entity_steps(
        [result("product:default/shop", None, check("owner", "bronze", False), check("docs", "silver", True))]
    )
    assert steps[0].unlocks == "gold"  # gold has no check of its own: reached with the levels below


def test_a_check_without_a_description_says_what_failed_instead() -> None:
    steps = entity_steps([result("product:default/shop", None, check("owner", "bronze", False))])
    assert steps[0].how == "owner is not met"


def test_an_entity_passing_everything_has_nothing_to_fix() -> None:
    assert entity_steps([result("product:default/shop", "gold", check("owner", "bronze", True))]) == []


def test_a_team_list_folds_products_and_ranks_by_level_then_products_unlocked() -> None:
    results = [
        result(
            "product:default/a", "bronze", check("runbooks", "silver", False), check("docs", "gold", False)
        ),
        result(
            "product:default/b", "bronze", check("runbooks", "silver", False), check("kpis", "silver", False)
        ),
        result("product:default/c", None, check("owner", "bronze", False), check("docs", "gold", False)),
    ]
    found = team_steps(results)
    lines = [(line["check"], line["products"], line["unlocksFor"]) for line in found["steps"]]
    assert lines == [
        ("owner", ["product:default/c"], ["product:default/c"]),
        ("runbooks", ["product:default/a", "product:default/b"], ["product:default/a"]),
        ("kpis", ["product:default/b"], []),
        ("docs", ["product:default/a", "product:default/c"], []),
    ]
    assert found["totalSteps"] == 4
    assert found["deadlines"] == []


def test_a_team_list_is_cut_but_counts_every_check_and_passes_deadlines_soonest_first() -> None:
    results = [result("product:default/a", None, *(check(f"c{i}", "bronze", False) for i in range(5)))]
    deadlines = [{"name": "later", "dueOn": "2027-03-31"}, {"name": "sooner", "dueOn": "2027-01-31"}]
    found = team_steps(results, deadlines, limit=2)
    assert len(found["steps"]) == 2
    assert found["totalSteps"] == 5
    assert [item["name"] for item in found["deadlines"]] == ["sooner", "later"]


def test_odd_results_are_read_without_failing() -> None:
    odd: list[dict[str, Any]] = [
        {
            "entityRef": "product:default/x",
            "scorecard": "s",
            "levels": None,
            "checks": [None, {"passed": False}],
        },
        {"entityRef": "product:default/y", "scorecard": "s", "levels": ["bronze"], "checks": "not a list"},
    ]
    steps = entity_steps(odd)
    assert len(steps) == 1
    assert steps[0].level is None
