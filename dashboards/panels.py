"""Building blocks of the catalog-sync dashboards: queries and panels with the shared defaults.

Every panel and query reads the data source chosen in the dashboard's ``datasource`` variable, so one
JSON file works against whichever Prometheus scrapes catalog-sync.
"""

from __future__ import annotations

from collections.abc import Sequence

from grafana_foundation_sdk.builders import bargauge, common, stat, table, timeseries
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders import prometheus as prom
from grafana_foundation_sdk.models import common as common_models
from grafana_foundation_sdk.models import dashboard as models
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

DATASOURCE = models.DataSourceRef(type_val="prometheus", uid="${datasource}")
TAGS = ["catalog-sync"]
RATE = "$__rate_interval"
"""Grafana's rate window: at least four scrape intervals, whatever the zoom."""


def query(expr: str, legend: str = "", *, ref: str = "A", instant: bool = False) -> prom.Dataquery:
    """One PromQL query of a panel."""
    built = prom.Dataquery().expr(expr).ref_id(ref).datasource(DATASOURCE)
    if legend:
        built = built.legend_format(legend)
    if instant:
        built = built.instant().format(PromQueryFormat.TABLE)
    return built


def graph(
    title: str,
    description: str,
    targets: Sequence[prom.Dataquery],
    *,
    unit: str = "short",
    stacked: bool = False,
    span: int = 12,
) -> timeseries.Panel:
    """A time series panel; ``stacked`` for parts of a whole (entities by kind, repositories by state)."""
    panel = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .targets(list(targets))
        .unit(unit)
        .min(0)
        .span(span)
        .height(8)
        .fill_opacity(20 if stacked else 0)
        .legend(
            common.VizLegendOptions()
            .display_mode(common_models.LegendDisplayMode.TABLE)
            .placement(common_models.LegendPlacement.RIGHT)
            .show_legend(True)
            .calcs(["lastNotNull"])
        )
    )
    if stacked:
        panel = panel.stacking(common.StackingConfig().mode(common_models.StackingMode.NORMAL))
    return panel


def single(
    title: str, description: str, expr: str, *, unit: str = "short", red_from: float | None = None
) -> stat.Panel:
    """A single number; with ``red_from`` it turns red at that value (a gap, an error, a conflict)."""
    steps = [models.Threshold(value=None, color="green")]
    if red_from is not None:
        steps.append(models.Threshold(value=red_from, color="red"))
    return (
        stat.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .with_target(query(expr))
        .unit(unit)
        .span(4)
        .height(4)
        .graph_mode(common_models.BigValueGraphMode.AREA)
        .color_mode(common_models.BigValueColorMode.VALUE)
        .reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
        .thresholds(dash.ThresholdsConfig().mode(models.ThresholdsMode.ABSOLUTE).steps(steps))
    )


def bars(title: str, description: str, expr: str, legend: str, *, span: int = 12) -> bargauge.Panel:
    """Current values side by side (one bar per label value)."""
    return (
        bargauge.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .with_target(query(expr, legend, instant=True))
        .span(span)
        .height(8)
        .orientation(common_models.VizOrientation.HORIZONTAL)
        .display_mode(common_models.BarGaugeDisplayMode.BASIC)
        .reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
    )


def listing(title: str, description: str, expr: str, *, span: int = 12) -> table.Panel:
    """A table of the current values, one row per label set."""
    return (
        table.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .with_target(query(expr, instant=True))
        .span(span)
        .height(8)
    )


def datasource_variable() -> dash.DatasourceVariable:
    """The Prometheus data source the dashboard reads, chosen on import or in the dashboard."""
    return dash.DatasourceVariable("datasource").label("Data source").type("prometheus")


def base(uid: str, title: str, description: str) -> dash.Dashboard:
    """What every catalog-sync dashboard shares: tags, time range, refresh, the data source variable."""
    return (
        dash.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(TAGS)
        .time("now-24h", "now")
        .refresh("1m")
        .timezone("browser")
        .tooltip(models.DashboardCursorSync.CROSSHAIR)
        .with_variable(datasource_variable())
    )


def rate_by(
    title: str, description: str, counter: str, *labels: str, unit: str, stacked: bool = False
) -> timeseries.Panel:
    """A counter's rate summed over processes and replicas, one series per combination of ``labels``."""
    legend = " ".join("{{" + label + "}}" for label in labels)
    targets = [query(f"sum by ({', '.join(labels)}) (rate({counter}[{RATE}]))", legend)]
    return graph(title, description, targets, unit=unit, stacked=stacked)
