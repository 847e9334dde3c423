"""Exposition: the registry a ``/metrics`` answer is generated from, and a server for processes
without an HTTP API.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, ProcessCollector, start_http_server, values
from prometheus_client.core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from catalog_sync.metrics.catalog import CatalogCollector
from catalog_sync.metrics.events import EVENT_REGISTRY, sync_event_metrics
from catalog_sync.store.metrics_store import MetricsReads

log = logging.getLogger("catalog_sync.metrics")
"""The package's logger, shared by its modules, so operators filter its lines by one name."""

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
"""The environment variable that switches counters and histograms to prometheus-client's multiprocess
mode: a writable folder shared by every worker process of one server (gunicorn's)."""

_lock = threading.Lock()
_process_collector: ProcessCollector | None = None


def multiprocess_dir(environ: Mapping[str, str] | None = None) -> str | None:
    """The multiprocess folder when multiprocess mode is on, else None."""
    env = os.environ if environ is None else environ
    return env.get(MULTIPROC_ENV) or env.get(MULTIPROC_ENV.lower()) or None


def build_registry(
    reads: MetricsReads, *, sources: Sequence[str] = (), environ: Mapping[str, str] | None = None
) -> CollectorRegistry:
    """The registry a ``/metrics`` answer is generated from: catalog state plus this server's events.

    ``sources`` are the configured sources' names: ``catalog_source_listing_ok`` has one series each.

    In multiprocess mode the events are read from the files every worker writes, so whichever worker
    answers the scrape reports the whole server's counts; otherwise from this process's registry.
    """
    global _process_collector
    sync_event_metrics()
    registry = CollectorRegistry(auto_describe=False)
    folder = multiprocess_dir(environ)
    if folder:
        if values.ValueClass is values.MutexValue:
            log.warning(
                "%s is set but this process started without it: its counters are not written to %s "
                "and will be missing from /metrics (set the variable before the server starts)",
                MULTIPROC_ENV,
                folder,
            )
        MultiProcessCollector(registry, path=folder)  # type: ignore[no-untyped-call]
    else:
        with _lock:
            if _process_collector is None:
                _process_collector = ProcessCollector(registry=EVENT_REGISTRY)
        registry.register(_RegistryCollector(EVENT_REGISTRY))
    registry.register(CatalogCollector(reads, sources))
    return registry


def start_metrics_server(
    reads: MetricsReads, *, host: str, port: int, sources: Sequence[str] = ()
) -> WSGIServer:
    """Serve ``/metrics`` from a process that has no HTTP API (``catalog-sync worker``).

    Sync passes run in the workers, so their pass counters and durations are only seen if the workers
    are scraped too. The server runs in a daemon thread; ``shutdown()`` stops it.
    """
    server, _thread = start_http_server(port, addr=host, registry=build_registry(reads, sources=sources))
    return server


class _RegistryCollector(Collector):
    """Exposes another registry's metrics through this one."""

    def __init__(self, source: CollectorRegistry) -> None:
        self._source = source

    def collect(self) -> Iterable[Metric]:
        return self._source.collect()
