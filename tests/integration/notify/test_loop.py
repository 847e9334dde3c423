"""The delivery loop as ``worker`` and ``serve`` start it: woken by new events, counted by channel,
event and result in ``catalog_notifications_total`` (bounded series), stopped cleanly."""

from __future__ import annotations

import time
from pathlib import Path

from prometheus_client import generate_latest
from sqlalchemy import Engine

from catalog_sync.cli import start_delivering
from catalog_sync.config import NOTIFICATION_EVENTS, parse_settings
from catalog_sync.metrics import EVENT_REGISTRY
from catalog_sync.notify import routes_of
from catalog_sync.store.base import Database, connection_of
from catalog_sync.store.outbox import Event
from catalog_sync.store.outbox.enqueue import write_events
from catalog_sync.store.outbox.store import pending_count
from tests.fixtures.receivers import receiver


def _sample(channel: str, event: str, result: str) -> float:
    labels = {"channel": channel, "event": event, "result": result}
    return EVENT_REGISTRY.get_sample_value("catalog_notifications_total", labels) or 0.0


def test_the_loop_delivers_what_is_written_and_counts_each_try(store_engine: Engine, tmp_path: Path) -> None:
    with receiver([500, 200, 404]) as hook:
        channel = {
            "name": "loop-ops",
            "type": "webhook",
            "url_env": "HOOK",
            "events": ["kpi_missed", "gap_opened"],
        }
        config = {"notifications": {"channels": [channel], "backoff_seconds": 0.2, "poll_seconds": 30}}
        settings = parse_settings(config, str(tmp_path), environ={"HOOK": hook.url})
        before = {
            result: _sample("loop-ops", "kpi_missed", result) for result in ("delivered", "retried", "failed")
        }
        loop = start_delivering(settings, store_engine)
        assert loop is not None
        try:
            database = Database(store_engine)
            with database.transaction() as tx:
                events = [Event("kpi_missed", "product:default/p\x00lead-time", summary="missed")]
                write_events(
                    connection_of(tx), routes_of(settings.notifications), events, loop.deliverer.clock()
                )
            loop.wake()
            deadline = time.monotonic() + 20
            while pending_count(database) and time.monotonic() < deadline:
                time.sleep(0.05)
                loop.wake()  # the back-off is short; the poll is not
            assert pending_count(database) == 0
        finally:
            loop.stop()
    assert [r.answered for r in hook.requests] == [500, 200]
    assert _sample("loop-ops", "kpi_missed", "retried") - before["retried"] == 1
    assert _sample("loop-ops", "kpi_missed", "delivered") - before["delivered"] == 1
    assert _sample("loop-ops", "kpi_missed", "failed") - before["failed"] == 0
    exposition = generate_latest(EVENT_REGISTRY).decode()
    series = [
        line
        for line in exposition.splitlines()
        if line.startswith("catalog_notifications_total{") and "loop-ops" in line
    ]
    assert len(series) == len(NOTIFICATION_EVENTS) * 3  # every event and result of the channel, no more
    assert hook.url not in exposition


def test_without_channels_no_loop_runs(store_engine: Engine, tmp_path: Path) -> None:
    assert start_delivering(parse_settings({}, str(tmp_path), environ={}), store_engine) is None
