"""The Grafana dashboards of catalog-sync, written as code with grafana-foundation-sdk.

The JSON files beside this module are generated, never edited by hand: change the code here, then run
``python -m dashboards.generate`` (``--check`` fails when the committed files differ from the code, which
a test also proves). Import them in Grafana (Dashboards > Import, or provisioning) and pick a Prometheus
data source that scrapes catalog-sync.

Catalog-state gauges are reported identically by every replica, so every query takes ``max`` over
replicas before summing over labels; counters and histograms belong to each process and are summed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as models

from dashboards.health import sync_health
from dashboards.panels import DATASOURCE, bars, base, graph, listing, query, single

HERE = Path(__file__).resolve().parent

ENTITIES = "max by (kind, lifecycle) (catalog_entities)"
GAPS = "max by (type, tier) (catalog_ownership_gaps)"
REPOSITORIES = "max by (state) (catalog_repositories)"
LEVELS = 'max by (scorecard, level) (catalog_scorecard_entities{scorecard=~"$scorecard"})'
AVERAGES = 'max by (scorecard, owner) (catalog_scorecard_score_average{scorecard=~"$scorecard"})'
KPIS = "max by (category, status) (catalog_kpis)"
KPIS_MISSED = 'sum by (category) (max by (category, status) (catalog_kpis{status="missed"}))'
KPI_RATIOS = "max by (entity, kpi, tier, direction) (catalog_kpi_ratio)"
KPI_RATIOS_BELOW = 'bottomk(10, max by (entity, kpi) (catalog_kpi_ratio{tier="1", direction="at-least"}))'


def catalog_overview() -> dash.Dashboard:
    """What the catalog holds and where ownership is missing."""
    return (
        base("catalog-overview", "catalog-sync: catalog overview", "Entities, ownership gaps, repositories.")
        .with_row(dash.Row("Now"))
        .with_panel(single("Entities", "Entities in the catalog.", f"sum({ENTITIES})"))
        .with_panel(
            single("Ownership gaps", "Gaps of every type (SPEC section 5).", f"sum({GAPS})", red_from=1)
        )
        .with_panel(
            single(
                "Tier 1-2 products without a valid owner",
                "Gaps missing_owner and unknown_owner on tier 1 and 2: the critical alert.",
                f"sum({GAPS.replace('catalog_ownership_gaps', _TIER12)})",
                red_from=1,
            )
        )
        .with_panel(
            single(
                "Repositories not ok",
                "Repositories failing, stale or never synced.",
                f"sum({REPOSITORIES.replace('catalog_repositories', _NOT_OK)})",
                red_from=1,
            )
        )
        .with_panel(
            single("Descriptor errors", "Invalid descriptors.", "max(catalog_descriptor_errors)", red_from=1)
        )
        .with_panel(
            single("Conflicts", "Entities claimed twice.", "max(catalog_entity_conflicts)", red_from=1)
        )
        .with_row(dash.Row("Entities"))
        .with_panel(bars("Entities by kind", "Now.", f"sum by (kind) ({ENTITIES})", "{{kind}}", span=8))
        .with_panel(
            graph(
                "Entities by kind and lifecycle",
                "Over time; lifecycle none for kinds without one.",
                [query(ENTITIES, "{{kind}} / {{lifecycle}}")],
                stacked=True,
                span=16,
            )
        )
        .with_row(dash.Row("Ownership gaps"))
        .with_panel(
            graph(
                "Gaps by type",
                "Summed over tiers.",
                [query(f"sum by (type) ({GAPS})", "{{type}}")],
                stacked=True,
            )
        )
        .with_panel(
            graph(
                "Gaps by tier",
                "Business tier of the entity (none when unset).",
                [query(f"sum by (tier) ({GAPS})", "tier {{tier}}")],
                stacked=True,
            )
        )
        .with_panel(listing("Gaps by type and tier", "Current, non-zero only.", f"{GAPS} > 0", span=24))
        .with_row(dash.Row("Repositories"))
        .with_panel(
            graph(
                "Repositories by state",
                "ok, failing, stale, pending.",
                [query(REPOSITORIES, "{{state}}")],
                stacked=True,
                span=16,
            )
        )
        .with_panel(bars("Repositories now", "By state.", REPOSITORIES, "{{state}}", span=8))
    )


_TIER12 = 'catalog_ownership_gaps{type=~"missing_owner|unknown_owner", tier=~"1|2"}'
_NOT_OK = 'catalog_repositories{state!="ok"}'


def scorecard_variable() -> dash.QueryVariable:
    """The scorecards to show, from the metric's own label values."""
    return (
        dash.QueryVariable("scorecard")
        .label("Scorecard")
        .datasource(DATASOURCE)
        .query("label_values(catalog_scorecard_entities, scorecard)")
        .refresh(models.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(models.VariableSort.ALPHABETICAL_ASC)
        .multi(True)
        .include_all(True)
        .all_value(".*")
    )


def scorecards() -> dash.Dashboard:
    """How good the products are: levels per scorecard, scores per owner, and their trends."""
    return (
        base("catalog-scorecards", "catalog-sync: scorecards", "Levels and scores of every scorecard.")
        .with_variable(scorecard_variable())
        .with_panel(
            bars(
                "Entities per level now",
                "Level none: below the scorecard's first level.",
                LEVELS,
                "{{scorecard}} / {{level}}",
                span=10,
            )
        )
        .with_panel(
            graph(
                "Entities per level",
                "Over time, per scorecard.",
                [query(LEVELS, "{{scorecard}} / {{level}}")],
                stacked=True,
                span=14,
            )
        )
        .with_panel(
            listing(
                "Average score per owner",
                "Score 0-100, the weighted share of checks passed, averaged over each owner's entities.",
                AVERAGES,
            )
        )
        .with_panel(
            graph(
                "Lowest-scoring owners",
                "The 10 lowest averages over time: where help pays off most.",
                [query(f"bottomk(10, {AVERAGES})", "{{scorecard}} / {{owner}}")],
            )
        )
        .with_panel(
            graph(
                "Score trend per scorecard",
                "Mean of the owners' average scores.",
                [query(f"avg by (scorecard) ({AVERAGES})", "{{scorecard}}")],
                span=24,
            )
        )
        .with_panel(
            bars(
                "KPIs per category and status now",
                "Measured KPIs met, missed or unknown (a measurement failed), and those only declared.",
                KPIS,
                "{{category}} / {{status}}",
                span=10,
            )
        )
        .with_panel(
            graph(
                "KPIs missed per category",
                "Over time: speed to market, customer satisfaction, business alignment, team performance.",
                [query(KPIS_MISSED, "{{category}}")],
                span=14,
            )
        )
        .with_panel(
            listing(
                "Tier 1-2 KPIs: value over target",
                "At-least KPIs are missed below 1, at-most KPIs above 1; GET /api/kpis names them all.",
                KPI_RATIOS,
            )
        )
        .with_panel(
            graph(
                "Tier 1 KPIs furthest below target",
                "The 10 lowest at-least ratios over time.",
                [query(KPI_RATIOS_BELOW, "{{entity}} / {{kpi}}")],
            )
        )
    )


BUILDERS = {
    "catalog-overview.json": catalog_overview,
    "catalog-scorecards.json": scorecards,
    "catalog-sync-health.json": sync_health,
}


def render(builder: dash.Dashboard) -> str:
    """The dashboard as the committed JSON: panel ids in order, keys sorted, a final newline."""
    model = builder.build()
    for number, panel in enumerate(model.panels or [], start=1):
        panel.id_val = number
    return json.dumps(model, cls=JSONEncoder, indent=2, sort_keys=True) + "\n"


def render_all() -> dict[str, str]:
    """Every dashboard, by file name."""
    return {name: render(build()) for name, build in BUILDERS.items()}


def main(argv: Sequence[str] | None = None) -> int:
    """Write the dashboards, or with ``--check`` exit 1 when the committed files differ."""
    parser = argparse.ArgumentParser(
        prog="python -m dashboards.generate", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    parser.add_argument("--output", type=Path, default=HERE, help="folder to write to (default: dashboards/)")
    args = parser.parse_args(argv)
    stale = []
    for name, text in render_all().items():
        path = args.output / name
        if args.check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if stale:
        print(f"out of date (run python -m dashboards.generate): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
