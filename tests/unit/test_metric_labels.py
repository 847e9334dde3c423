"""Label values of the catalog gauges: known values kept, the rest folded into ``other`` with true totals."""

from __future__ import annotations

from catalog_sync.metric_labels import (
    MAX_LEVELS,
    MAX_OWNERS,
    MAX_SCORECARDS,
    choose_owners,
    choose_scorecards,
    fold_averages,
    kind_label,
    lifecycle_label,
    sum_by,
    tier_label,
)


def test_documented_values_are_kept_and_invented_ones_are_other() -> None:
    assert [lifecycle_label(v) for v in ("production", "retired", None, "", "someday")] == [
        "production",
        "retired",
        "none",
        "none",
        "other",
    ]
    assert [kind_label(v) for v in ("component", "api", "gadget")] == ["component", "api", "other"]
    assert [tier_label(v) for v in ("1", "4", "none", "5", "x")] == ["1", "4", "none", "other", "other"]


def test_folded_counts_are_added_together() -> None:
    rows = [(("component", lifecycle_label(f"made-up-{i}")), 2) for i in range(1000)]
    assert sum_by([*rows, (("component", "production"), 3)]) == [
        (("component", "other"), 2000),
        (("component", "production"), 3),
    ]


def test_built_in_scorecards_keep_their_names_before_the_operator_s_and_the_catalog_s() -> None:
    levels = [f"l{n}" for n in range(MAX_LEVELS + 5)]
    definitions = [(f"aaa-{n}", "catalog", levels) for n in range(MAX_SCORECARDS)]
    definitions += [("zz-builtin", "builtin", ["bronze"]), ("mm-file", "file", ["gold"])]
    labels = choose_scorecards(definitions)
    assert labels.scorecard("zz-builtin") == "zz-builtin"
    assert labels.scorecard("mm-file") == "mm-file"
    assert labels.scorecard("aaa-0") == "aaa-0"
    assert labels.scorecard(f"aaa-{MAX_SCORECARDS - 1}") == "other"
    assert labels.level("aaa-0", f"l{MAX_LEVELS - 1}") == f"l{MAX_LEVELS - 1}"
    assert labels.level("aaa-0", f"l{MAX_LEVELS}") == "other"
    assert labels.level("aaa-0", None) == "none"
    assert labels.level(f"aaa-{MAX_SCORECARDS - 1}", "l0") == "other"


def test_the_owners_with_most_entities_are_named_and_the_rest_averaged_by_weight() -> None:
    totals = [("card", f"team:default/big-{n:03d}", 10, 500.0) for n in range(MAX_OWNERS)]
    totals += [("card", "team:default/small-a", 1, 100.0), ("card", "team:default/small-b", 3, 0.0)]
    totals += [("card", "none", 2, 100.0)]
    owners = choose_owners(totals)
    assert len(owners) == MAX_OWNERS
    assert "team:default/small-a" not in owners
    averages = {
        (card, owner): value for card, owner, value in fold_averages(totals, choose_scorecards([]), owners)
    }
    assert averages[("other", "other")] == 25.0, "one entity at 100 and three at 0, not (100 + 0) / 2"
    assert averages[("other", "none")] == 50.0
    assert len(averages) == MAX_OWNERS + 2


def test_kpi_ratios_are_only_for_tier_1_and_2_products_and_bounded() -> None:
    from catalog_sync.metric_labels import MAX_KPI_RATIOS, kpi_counts, kpi_ratios

    items = [
        {"entityRef": f"product:default/p{n:05d}", "id": "k", "tier": 1 + n % 4, "ratio": 1.0,
         "category": "customer-satisfaction", "status": "met", "direction": "at-least"}
        for n in range(5000)
    ] + [{"entityRef": "product:default/none", "id": "k", "tier": None, "ratio": 2.0,
          "category": "invented", "status": "met", "direction": "at-least"}]  # fmt: skip
    ratios = kpi_ratios(items)
    assert len(ratios) == MAX_KPI_RATIOS
    assert {entity for entity, *_ in ratios} <= {i["entityRef"] for i in items if i["tier"] in (1, 2)}
    counts = {(c, s): n for c, s, n in kpi_counts(items)}
    assert counts[("customer-satisfaction", "met")] == 5000
    assert counts[("other", "met")] == 1  # an unknown category is folded, never a new series
    assert len(counts) == 5 * 4


def test_team_kpis_name_the_teams_with_most_kpis_and_add_up_the_rest_as_other() -> None:
    from catalog_sync.descriptors.kpis import KPI_CATEGORIES, STATUSES
    from catalog_sync.metric_labels import team_kpi_counts

    items: list[dict[str, str | None]] = [
        {"owner": f"team:default/big-{n:03d}", "category": "speed-to-market", "status": "met"}
        for n in range(MAX_OWNERS)
        for _ in range(3)
    ]
    items += [
        {"owner": "team:default/small-a", "category": "speed-to-market", "status": "missed"},
        {"owner": "team:default/small-b", "category": "speed-to-market", "status": "missed"},
        {"owner": "team:default/small-b", "category": "invented", "status": "met"},
        {"owner": None, "category": "team-performance", "status": "unknown"},
    ]  # fmt: skip
    counts = {(owner, c, s): n for owner, c, s, n in team_kpi_counts(items)}
    owners = {owner for owner, _c, _s in counts}
    assert len(owners - {"other", "none"}) == MAX_OWNERS
    assert "team:default/small-a" not in owners
    assert counts[("team:default/big-007", "speed-to-market", "met")] == 3
    assert counts[("team:default/big-007", "customer-satisfaction", "missed")] == 0  # zeros are there
    assert counts[("other", "speed-to-market", "missed")] == 2, "two small teams' KPIs added together"
    assert counts[("other", "other", "met")] == 1  # an invented category is folded, never a new series
    assert counts[("none", "team-performance", "unknown")] == 1
    assert sum(counts.values()) == len(items)
    assert len(counts) <= (MAX_OWNERS + 2) * (len(KPI_CATEGORIES) + 1) * len(STATUSES)
