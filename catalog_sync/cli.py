"""The ``catalog-sync`` program, and the one place that wires configuration, engine, store and API.

Every other module receives what it needs as arguments; only this module decides which store, which
sources and which HTTP app are built, so each part stays testable on its own.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from catalog_sync.commandline import build_parser, print_progress
from catalog_sync.commands import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from catalog_sync.commands.demo import demo_settings, print_banner
from catalog_sync.commands.init import run_init
from catalog_sync.commands.reports import sync_report
from catalog_sync.commands.validate import run_validate
from catalog_sync.config import Settings, load_settings
from catalog_sync.errors import CatalogSyncError, ConfigError, StoreError
from catalog_sync.logs import configure_logging, redact_log_handlers
from catalog_sync.textsafe import escape_controls

if TYPE_CHECKING:
    from flask import Flask
    from sqlalchemy import Engine

    from catalog_sync.kpis import MeasuringSchedule, RoundSummary
    from catalog_sync.notify import DeliveryLoop
    from catalog_sync.store.outbox import Route
    from catalog_sync.store.pg_wakeup import PostgresWakeup
    from catalog_sync.store.stores import Stores
    from catalog_sync.sync import SyncEngine

__all__ = ["build_app", "build_sync_engine", "main", "open_store", "open_stores_on", "wsgi_app"]


def open_store(settings: Settings, *, migrate: bool | None = None, serving: bool = False) -> Engine:
    """The database engine, its schema current: migrated automatically on SQLite, checked elsewhere.

    ``serving`` opens it for a process that answers HTTP requests (see ``open_engine``), whose
    statements are stopped after ``api.statement_timeout_seconds``; a migration is never stopped.
    """
    from catalog_sync.store.engine import check_ready, open_engine
    from catalog_sync.store.schema_version import HEAD_REVISION, stored_revision

    engine = open_engine(settings.database, serving=serving)
    check_ready(engine)
    current = stored_revision(engine)
    if current != HEAD_REVISION or migrate:
        if not (migrate if migrate is not None else engine.dialect.name == "sqlite"):
            raise StoreError(
                f"the database schema is at revision {current or 'none'}, this version needs "
                f"{HEAD_REVISION}: run `catalog-sync db upgrade` first"
            )
        from catalog_sync.store.migrate import upgrade

        upgrade(engine)
    if not serving or _in_memory(engine):
        return engine
    engine.dispose()
    return open_engine(
        settings.database, serving=True, statement_timeout_seconds=settings.api.statement_timeout_seconds
    )


def open_stores_on(settings: Settings, engine: Engine) -> Stores:
    """The store's protocols on one engine, as every process of the product opens them."""
    from catalog_sync.store.base import Database
    from catalog_sync.store.stores import open_stores

    return open_stores(
        Database(engine),
        facet_cache_seconds=settings.api.facet_cache_seconds,
        max_filter_conditions=settings.api.max_filter_conditions,
        routes=notification_routes(settings),
    )


def notification_routes(settings: Settings) -> list[Route]:
    """The channels as the stores route events to them (a bad filter is a ``ConfigError``)."""
    from catalog_sync.notify import routes_of

    return routes_of(settings.notifications)


def build_app(settings: Settings, engine: Engine, *, sync_trigger: Callable[[], None] | None = None) -> Flask:
    """The HTTP app (API and portal) over the store's protocols: what ``serve``, gunicorn and tests run.

    ``sync_trigger`` wakes an in-process sync loop after an API call made repositories due.
    """
    from plugin_api import create_app

    return create_app(settings, open_stores_on(settings, engine), sync_trigger=sync_trigger)


def build_sync_engine(
    settings: Settings,
    engine: Engine,
    *,
    isolated: bool = False,
    delivery: DeliveryLoop | None = None,
) -> SyncEngine:
    """The sync engine with what runs after each pass wired in: scoring, then the pass counters, then
    waking the delivery loop for the events the pass and its re-score wrote.

    ``isolated`` for an engine inside a serving process: its scans run in child processes."""
    from catalog_sync.metrics import record_pass, sync_event_metrics
    from catalog_sync.scoring import Scorer
    from catalog_sync.store.base import Database
    from catalog_sync.store.scoring import SqlScoringStore
    from catalog_sync.store.sync_sql import SqlSyncStore
    from catalog_sync.sync import SyncEngine

    sync_event_metrics()  # counts the hosting API requests of discovery from the first pass on
    database = Database(engine)
    routes = notification_routes(settings)
    scorer = Scorer(settings, SqlScoringStore(database, routes=routes))
    hooks: list[Callable[[Any], None]] = [scorer.as_hook(), record_pass]
    if delivery is not None:
        hooks.append(lambda _summary: delivery.wake())
    return SyncEngine(settings, SqlSyncStore(database, routes=routes), after_pass=hooks, isolated=isolated)


def start_delivering(settings: Settings, engine: Engine) -> DeliveryLoop | None:
    """The delivery loop, beside the sync loop (None when no channel is configured); stop it at shutdown."""
    if not settings.notifications.channels:
        return None
    from catalog_sync.config import NOTIFICATION_EVENTS
    from catalog_sync.metrics import prepare_notifications, record_notification
    from catalog_sync.notify import Deliverer, DeliveryLoop
    from catalog_sync.store.base import Database
    from catalog_sync.store.outbox import SqlOutbox

    channels = settings.notifications.channels
    prepare_notifications([channel.name for channel in channels], NOTIFICATION_EVENTS)
    deliverer = Deliverer(settings.notifications, SqlOutbox(Database(engine)), record=record_notification)
    loop = DeliveryLoop(deliverer)
    loop.start()
    return loop


def start_measuring(settings: Settings, engine: Engine) -> MeasuringSchedule:
    """KPI measuring on its own schedule, beside (never inside) the sync loop; stop it at shutdown."""
    from catalog_sync.kpis import Measurer, MeasuringSchedule
    from catalog_sync.store.base import Database
    from catalog_sync.store.kpis import SqlKpiStore

    store = SqlKpiStore(Database(engine), routes=notification_routes(settings))
    schedule = MeasuringSchedule(Measurer(settings.kpis, store))
    schedule.start()
    return schedule


def run_sync(args: argparse.Namespace) -> int:
    """One pass over every source; exit 0 when the pass ran, even if some descriptors failed."""
    from catalog_sync.store.base import Database

    settings = load_settings(args.config)
    engine = open_store(settings)
    progress = print_progress if args.format == "text" and sys.stderr.isatty() else None
    sync = build_sync_engine(settings, engine)
    _tune_collector()
    summary = sync.run_pass(everything=True, progress=progress)
    gaps: dict[str, int] = {}
    with Database(engine).reading() as tx:
        for gap_type, _tier, count in open_stores_on(settings, engine).metrics.gap_counts(tx):
            gaps[gap_type] = gaps.get(gap_type, 0) + count
    sys.stdout.write(sync_report(summary, gaps, args.format))
    return EXIT_OK


def run_worker(args: argparse.Namespace) -> int:
    """The sync loop alone; stops cleanly on SIGTERM or Ctrl-C."""
    settings = load_settings(args.config)
    engine = open_store(settings)
    stop = threading.Event()
    wakeup = worker_wakeup(engine)

    def _stop(*_: object) -> None:
        stop.set()
        if wakeup is not None:
            wakeup.notify()

    signal.signal(signal.SIGTERM, _stop)
    configure_logging()
    if args.metrics_port is not None:
        from catalog_sync.metrics import start_metrics_server

        start_metrics_server(
            open_stores_on(settings, engine).metrics,
            host=args.metrics_host,
            port=args.metrics_port,
            sources=[source.name for source in settings.sources],
        )
    measuring = start_measuring(settings, engine)
    delivery = start_delivering(settings, engine)
    try:
        sync = build_sync_engine(settings, engine, delivery=delivery)
        _tune_collector()
        sync.run_forever(stop, poll_seconds=args.poll_seconds, wakeup=wakeup)
    except KeyboardInterrupt:
        stop.set()
    finally:
        measuring.stop()
        if wakeup is not None:
            wakeup.close()
        if delivery is not None:
            delivery.stop()
    return EXIT_OK


def worker_wakeup(engine: Engine) -> PostgresWakeup | None:
    """How a ``worker`` learns that a push made a repository due: ``LISTEN`` on PostgreSQL, where the
    webhook's transaction sends ``NOTIFY``; None on SQLite, whose workers poll (``--poll-seconds``).
    The connection is opened now, so a push answered while the first pass runs is not missed."""
    if engine.dialect.name != "postgresql":
        return None
    from catalog_sync.store.pg_wakeup import PostgresWakeup, listen_dsn

    wakeup = PostgresWakeup(listen_dsn(engine.url))
    wakeup.listen()
    return wakeup


def serve_forever(
    settings: Settings,
    engine: Engine,
    *,
    host: str,
    port: int,
    sync: bool,
    banner: Callable[[str], None] | None = None,
) -> int:
    """Serve API and portal in this process, with the sync loop in a background thread and its scans
    in child processes (a repository's trees never take this process's memory or time).

    This is the single-process form (a laptop, the demo). Deployments run the same app under gunicorn
    (``gunicorn 'catalog_sync.cli:wsgi_app()'``) beside ``catalog-sync worker`` processes.
    """
    from werkzeug.serving import make_server

    from catalog_sync.sync import InProcessWakeup

    stop = threading.Event()
    wakeup = InProcessWakeup()
    app = build_app(settings, engine, sync_trigger=wakeup.notify)
    loop = None
    engine_sync = None
    measuring = None
    delivery = None
    if sync:
        measuring = start_measuring(settings, _writing_engine(engine))
        delivery = start_delivering(settings, _writing_engine(engine))
        # Scans never run in the API's process: a hostile repository would hold its memory and time.
        engine_sync = build_sync_engine(settings, _writing_engine(engine), isolated=True, delivery=delivery)
        _tune_collector()
        loop = threading.Thread(
            target=engine_sync.run_forever,
            args=(stop,),
            kwargs={"wakeup": wakeup},
            name="catalog-sync-loop",
            daemon=True,
        )
        loop.start()
    server = make_server(host, port, app, threaded=True)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    url = f"http://{host}:{server.server_port}"
    (banner or (lambda u: print(f"serving on {u}", flush=True)))(url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        wakeup.notify()
        if loop is not None:
            loop.join(timeout=30)
        if measuring is not None:
            measuring.stop()
        if delivery is not None:
            delivery.stop()
        if engine_sync is not None:
            engine_sync.close()
    return EXIT_OK


def _tune_collector() -> None:
    from catalog_sync.sync.collector import tune_collector

    tune_collector()


def _writing_engine(serving: Engine) -> Engine:
    """An engine for the sync loop beside a serving one: the loop writes in bulk and wants SQLite's
    larger page cache, which the API's many pooled connections must not each keep, and its statements
    are not held to the API's statement timeout. An in-memory database has one connection, so it is
    shared."""
    from catalog_sync.store.deadlines import statement_timeout
    from catalog_sync.store.engine import open_engine

    if _in_memory(serving) or (serving.dialect.name != "sqlite" and statement_timeout(serving) is None):
        return serving
    return open_engine(serving.url.render_as_string(hide_password=False))


def _in_memory(engine: Engine) -> bool:
    database = engine.url.database or ""
    return engine.dialect.name == "sqlite" and (
        database in ("", ":memory:") or database.startswith("file::memory:")
    )


def run_serve(args: argparse.Namespace) -> int:
    """``catalog-sync serve``: API and portal, and unless ``--no-sync`` the sync loop."""
    configure_logging()
    settings = load_settings(args.config)
    engine = open_store(settings, serving=True)
    return serve_forever(settings, engine, host=args.host, port=args.port, sync=not args.no_sync)


def wsgi_app() -> Any:
    """The WSGI app for gunicorn: ``gunicorn 'catalog_sync.cli:wsgi_app()'`` (configuration from the
    environment, ``CATALOG_SYNC_CONFIG``); the sync loop runs apart, in ``catalog-sync worker``."""
    redact_log_handlers()
    settings = load_settings(None)
    return build_app(settings, open_store(settings, serving=True))


def run_demo(args: argparse.Namespace) -> int:
    """``make run``: the example organisation as real git repositories, synced into SQLite, served."""
    prepared = demo_settings(args)
    if prepared is None:
        return EXIT_USAGE
    settings, built = prepared
    engine = open_store(settings)
    summary = build_sync_engine(settings, engine).run_pass(everything=True)
    print(
        f"{built}; synced {summary.repositories} repositories: {summary.added} entities added, "
        f"{summary.descriptor_problems} descriptor problems"
    )
    kpis = _measure_examples(settings, engine, Path(args.examples))
    print(
        f"KPIs: {kpis.measured} measured ({kpis.unknown} unknown: no Prometheus in the demo), values pushed"
    )
    engine.dispose()
    serving = open_store(settings, serving=True)  # the API's statements are held to its timeout
    return serve_forever(settings, serving, host=args.host, port=args.port, sync=True, banner=print_banner)


def _measure_examples(settings: Settings, engine: Engine, examples: Path) -> RoundSummary:
    """The demo's KPIs before the portal opens: the examples' pushed values, then one measuring round
    (``git`` measures read the example repositories' release tags; there is no Prometheus to ask)."""
    from datetime import UTC, datetime

    from catalog_sync.kpis import Measurer
    from catalog_sync.kpis.examples import push_example_values
    from catalog_sync.store.base import Database
    from catalog_sync.store.kpis import SqlKpiStore

    store = SqlKpiStore(Database(engine))
    values = examples / "kpi-values.yaml"
    if values.is_file():
        push_example_values(values, store, datetime.now(UTC))
    return Measurer(settings.kpis, store).run_round()


def run_export(args: argparse.Namespace) -> int:
    """Write the catalog as Backstage entities to standard output, streamed one document at a time."""
    from catalog_sync.export import iter_backstage_yaml
    from catalog_sync.store.base import Database

    settings = load_settings(args.config)
    engine = open_store(settings)
    with Database(engine).reading() as tx:
        for chunk in iter_backstage_yaml(open_stores_on(settings, engine).catalog, tx):
            sys.stdout.write(chunk)
    return EXIT_OK


def run_db(args: argparse.Namespace) -> int:
    """Create or migrate the schema (the step a PostgreSQL deployment runs before starting)."""
    settings = load_settings(args.config)
    open_store(settings, migrate=True)
    print("database schema is up to date")
    return EXIT_OK


HANDLERS = {
    "validate": run_validate,
    "init": run_init,
    "sync": run_sync,
    "worker": run_worker,
    "db": run_db,
    "serve": run_serve,
    "demo": run_demo,
    "export": run_export,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script and of ``python -m catalog_sync``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    redact_log_handlers()
    try:
        return HANDLERS[args.command](args)
    except ConfigError as exc:
        print(f"catalog-sync: configuration error: {escape_controls(str(exc))}", file=sys.stderr)
        return EXIT_USAGE if args.command == "validate" else EXIT_FAILED
    except CatalogSyncError as exc:
        print(f"catalog-sync: {escape_controls(str(exc))}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
