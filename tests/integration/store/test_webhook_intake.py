"""``WebhookIntake``: a delivery's id is remembered for ``keep_seconds`` and then forgotten, on SQLite
and PostgreSQL; within that time a redelivery changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select

from catalog_sync.store.base import Database
from catalog_sync.store.tables import webhook_deliveries
from catalog_sync.store.webhook_store import DUPLICATE, IGNORED, Delivery, SqlWebhookIntake

WEEK = 7 * 24 * 3600


def ping(delivery_id: str, when: datetime) -> Delivery:
    return Delivery("github", delivery_id, "ping", when)


def test_a_delivery_id_is_kept_for_its_time_then_forgotten(store_engine: Engine) -> None:
    now = datetime.now(UTC)
    old = SqlWebhookIntake(Database(store_engine))
    assert old.record_delivery(ping("old", now - timedelta(days=10)), keep_seconds=WEEK).result != DUPLICATE
    assert old.record_delivery(ping("recent", now - timedelta(days=1)), keep_seconds=WEEK).result != DUPLICATE
    later = SqlWebhookIntake(Database(store_engine))  # a process started later prunes at its first delivery
    assert later.record_delivery(ping("new", now), keep_seconds=WEEK).result != DUPLICATE
    with store_engine.connect() as conn:
        kept = set(conn.execute(select(webhook_deliveries.c.delivery_id)).scalars())
    assert kept == {"recent", "new"}
    assert later.record_delivery(ping("recent", now), keep_seconds=WEEK).result == DUPLICATE
    assert later.record_delivery(ping("old", now), keep_seconds=WEEK).result != DUPLICATE


def test_an_ignored_delivery_is_remembered_with_why(store_engine: Engine) -> None:
    intake = SqlWebhookIntake(Database(store_engine))
    delivery = Delivery("gitlab", "u-1", "System Hook", datetime.now(UTC), None, "the system event 'x' ...")
    outcome = intake.record_delivery(delivery, keep_seconds=WEEK)
    assert (outcome.result, outcome.reason) == (IGNORED, "the system event 'x' ...")
    assert intake.record_delivery(delivery, keep_seconds=WEEK).result == DUPLICATE
    with store_engine.connect() as conn:
        assert conn.execute(select(webhook_deliveries.c.result)).scalars().all() == [IGNORED]
