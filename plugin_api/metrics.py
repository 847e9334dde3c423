"""``GET /metrics`` for Prometheus, and the request counters behind ``catalog_http_*``.

Registering ``blp`` on an app is all it takes: the blueprint adds ``observe_request`` to the app's
request observers (``plugin_api.hooks``), so every answered request is counted by method, URL rule
and status, and timed by URL rule. The URL rule (``/api/repositories/<int:repository_id>``) is used,
never the raw path, so a client cannot grow the number of series by inventing paths.

The answer is Prometheus's plain text format 0.0.4 (what ``promtool check metrics`` and every
Prometheus version read), generated from ``catalog_sync.metrics.build_registry``: the catalog's state
read from the database now, plus this server's counters (all gunicorn workers' in multiprocess mode).
Like the rest of the API, it needs a bearer token when ``api.read_requires_token`` is set.
"""

from __future__ import annotations

from flask import Response, current_app
from flask.blueprints import BlueprintSetupState
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest

from catalog_sync.metrics import PerProcess, build_registry, sync_event_metrics
from plugin_api.hooks import RequestRecord, observers
from plugin_api.smorest import Blueprint
from plugin_api.state import state

REGISTRY_KEY = "catalog_sync.metrics_registry"
HTTP_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

blp = Blueprint("metrics", __name__, url_prefix="", description="Prometheus metrics")


class HttpMetrics:
    """The request counter and latency histogram, one set per process."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "catalog_http_requests",
            "HTTP requests answered, by method, URL rule and status code.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            "catalog_http_request_duration_seconds",
            "Time to answer an HTTP request, by URL rule.",
            ["route"],
            buckets=HTTP_DURATION_BUCKETS,
            registry=registry,
        )


_http = PerProcess(HttpMetrics)


def http_metrics() -> HttpMetrics:
    """The process's HTTP metrics, created on first use (a metric may be created once per process)."""
    sync_event_metrics()  # same registry and settings; also makes the sync series exist from the start
    return _http.get()


def observe_request(record: RequestRecord) -> None:
    """Count and time one answered request: an observer of ``plugin_api.hooks``."""
    metrics = http_metrics()
    metrics.requests.labels(method=record.method, route=record.route, status=str(record.status)).inc()
    metrics.duration.labels(route=record.route).observe(record.duration_seconds)


@blp.record_once
def _install(setup: BlueprintSetupState) -> None:
    """Start counting requests on the app the blueprint is registered on."""
    http_metrics()
    found = observers(setup.app)
    if observe_request not in found:
        found.append(observe_request)


def _registry() -> CollectorRegistry:
    """This app's registry, built on the first scrape over the app's ``MetricsReads``."""
    registry: CollectorRegistry | None = current_app.extensions.get(REGISTRY_KEY)
    if registry is None:
        app = state()
        registry = build_registry(app.metrics, sources=[source.name for source in app.settings.sources])
        current_app.extensions[REGISTRY_KEY] = registry
    return registry


@blp.route("/metrics", methods=["GET"])
@blp.response(
    200,
    {"type": "string"},
    content_type="text/plain",
    description="Prometheus text exposition format 0.0.4 (SPEC section 7's metrics)",
)
def metrics() -> Response:
    """The catalog's state and this server's counters, for Prometheus to scrape."""
    body = generate_latest(_registry())
    return Response(body, status=200, headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4})
