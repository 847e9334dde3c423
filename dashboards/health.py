"""The sync-health dashboard: whether the catalog follows the repositories, how the hosting APIs and
their push webhooks are doing, and how the API answers (``generate`` writes it with the others)."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dash

from dashboards.panels import RATE, base, graph, listing, query, rate_by, single

SOURCES_NOT_OK = "max by (source) (catalog_source_listing_ok) == 0"
_REQUESTS = "catalog_http_requests_total"
SCM_REMAINING = (
    "min by (source) (catalog_scm_rate_limit_remaining "
    "and catalog_scm_rate_limit_reset_timestamp_seconds > time())"
)
"""The lowest budget any process saw in its last answer while that answer's window has not reset:
processes sharing a token see one budget, and a number from a window that reset says nothing."""
VISIBLE = "histogram_quantile({q}, sum by (le) (rate(catalog_webhook_visible_seconds_bucket[{r}])))"
NEWCOMER_VISIBLE = (
    "histogram_quantile(0.95, sum by (le) (rate(catalog_webhook_newcomer_visible_seconds_bucket[{r}])))"
)


def sync_health() -> dash.Dashboard:
    """Whether the catalog follows the repositories, and how the API is doing."""
    p95 = "histogram_quantile(0.95, sum by (le) (rate(catalog_sync_duration_seconds_bucket[{r}])))"
    mean = (
        "sum(rate(catalog_sync_duration_seconds_sum[{r}]))"
        " / sum(rate(catalog_sync_duration_seconds_count[{r}]))"
    )
    route_p95 = (
        "histogram_quantile(0.95,"
        " sum by (le, route) (rate(catalog_http_request_duration_seconds_bucket[{r}])))"
    )
    return (
        base("catalog-sync-health", "catalog-sync: sync health", "Sync passes, errors and the API.")
        .with_row(dash.Row("Sync"))
        .with_panel(
            single(
                "Last successful pass",
                "Any worker's; the CatalogSyncStale alert fires after an hour.",
                "max(catalog_sync_last_success_timestamp_seconds) * 1000",
                unit="dateTimeFromNow",
            )
        )
        .with_panel(
            single(
                "Seconds since last success",
                "Turns red after an hour.",
                "time() - max(catalog_sync_last_success_timestamp_seconds)",
                unit="s",
                red_from=3600,
            )
        )
        .with_panel(
            single(
                "Failed passes (24h)",
                "Passes that could not run.",
                'sum(increase(catalog_sync_runs_total{result="failed"}[24h]))',
                red_from=1,
            )
        )
        .with_panel(
            rate_by(
                "Passes",
                "Passes finished per second, by result.",
                "catalog_sync_runs_total",
                "result",
                unit="ops",
            )
        )
        .with_panel(
            graph(
                "Pass duration",
                "95th percentile and mean.",
                [query(p95.format(r=RATE), "p95"), query(mean.format(r=RATE), "mean", ref="B")],
                unit="s",
            )
        )
        .with_panel(
            rate_by(
                "Repositories synced",
                "Per second: changed (read and reconciled), unchanged (tip did not move), error.",
                "catalog_repository_syncs_total",
                "result",
                unit="ops",
                stacked=True,
            )
        )
        .with_panel(
            graph(
                "Errors",
                "Descriptor errors, conflicts, repositories failing or stale.",
                [
                    query("max(catalog_descriptor_errors)", "descriptor errors"),
                    query("max(catalog_entity_conflicts)", "conflicts", ref="B"),
                    query(
                        'max by (state) (catalog_repositories{state=~"failing|stale"})', "{{state}}", ref="C"
                    ),
                ],
            )
        )
        .with_panel(
            listing(
                "Sources not listing cleanly",
                "Configured sources whose last listing failed, was incomplete, refused a removal or has "
                "not happened (catalog_source_listing_ok 0); GET /api/sources gives each one's lastError. "
                "Empty when every source lists cleanly.",
                SOURCES_NOT_OK,
            )
        )
        .with_row(dash.Row("Hosting APIs and webhooks"))
        .with_panel(
            rate_by(
                "Hosting API requests",
                "Requests to GitHub and GitLab per second, by source and answer: 304 is a list page "
                "unchanged (asked conditionally; GitHub does not count it), 429 and 403 are rate limits, "
                "error is no answer.",
                "catalog_scm_requests_total",
                "source",
                "status",
                unit="reqps",
                stacked=True,
            )
        )
        .with_panel(
            graph(
                "Rate limit left",
                "Requests left in each source's rate-limit window, as the host's last answer said, until "
                "that window resets (then no value until the next answer). Below 1,000 a github source "
                "reads changed repositories by a shallow fetch; the CatalogScmRateLimitLow alert fires "
                "under 100.",
                [query(SCM_REMAINING, "{{source}}")],
            )
        )
        .with_panel(
            rate_by(
                "Webhook deliveries",
                "Deliveries answered per second, by provider and result: accepted (a repository read "
                "now), ignored (another branch, an unknown repository), duplicate (redelivered), "
                "unauthorized (a wrong secret or token), invalid (a malformed delivery).",
                "catalog_webhook_deliveries_total",
                "provider",
                "result",
                unit="reqps",
                stacked=True,
            )
        )
        .with_panel(
            graph(
                "Push to visible",
                "From a delivery's arrival to the write that shows the pushed commit (target: p95 under "
                "1 s); a repository no listing held yet (a newcomer) waits for its source to list too.",
                [
                    query(VISIBLE.format(q=0.5, r=RATE), "p50"),
                    query(VISIBLE.format(q=0.95, r=RATE), "p95", ref="B"),
                    query(NEWCOMER_VISIBLE.format(r=RATE), "newcomers p95", ref="C"),
                ],
                unit="s",
            )
        )
        .with_row(dash.Row("API"))
        .with_panel(
            rate_by("Requests by route", "Per second, by URL rule.", _REQUESTS, "route", unit="reqps")
        )
        .with_panel(
            rate_by(
                "Requests by status",
                "Per second, by status code.",
                _REQUESTS,
                "status",
                unit="reqps",
                stacked=True,
            )
        )
        .with_panel(
            graph(
                "Latency by route (p95)",
                "95th percentile of the time to answer.",
                [query(route_p95.format(r=RATE), "{{route}}")],
                unit="s",
            )
        )
        .with_panel(
            graph(
                "Server errors",
                "Share of requests answered 5xx.",
                [
                    query(
                        f'sum(rate(catalog_http_requests_total{{status=~"5.."}}[{RATE}]))'
                        f" / sum(rate(catalog_http_requests_total[{RATE}]))",
                        "5xx share",
                    )
                ],
                unit="percentunit",
            )
        )
    )
