"""What the delivery tests share: a channel loaded as a configuration file is, the outbox written and
read as the store does, a clock moved by hand, and a catalog holding the owner team."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from catalog_sync.config import NOTIFICATION_EVENTS, NotificationSettings, parse_settings
from catalog_sync.notify import Deliverer, routes_of
from catalog_sync.store.base import Database, connection_of
from catalog_sync.store.outbox import Event, SqlOutbox
from catalog_sync.store.outbox.enqueue import write_events
from tests.fixtures.receivers import Receiver, receiver
from tests.unit.store.helpers import entity_body, insert_entity

SECRET = "s3cret-for-signing-0123456789"
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


class Clock:
    """The deliverer's clock, moved by hand past back-offs."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def notification_settings(
    url: str,
    *,
    kind: str = "webhook",
    secret: str | None = SECRET,
    network: dict[str, str] | None = None,
    environ: dict[str, str] | None = None,
    **delivery: Any,
) -> NotificationSettings:
    """Settings with one channel ``ops`` taking every event, loaded as a configuration file is;
    ``network`` adds keys to the channel (``proxy``...), ``environ`` variables to its environment."""
    env = {"OPS_HOOK_URL": url, **(environ or {})}
    channel: dict[str, Any] = {
        "name": "ops",
        "type": kind,
        "url_env": "OPS_HOOK_URL",
        "events": list(NOTIFICATION_EVENTS),
        **(network or {}),
    }
    if secret:
        env["OPS_HOOK_SECRET"] = secret
        channel["secret_env"] = "OPS_HOOK_SECRET"
    section = {"channels": [channel], "timeout_seconds": 0.5, "backoff_seconds": 10, "max_attempts": 3}
    section.update(delivery)
    return parse_settings({"notifications": section}, environ=env).notifications


def write(engine: Engine, settings: NotificationSettings, *events: Event, now: datetime = NOW) -> None:
    """Write events to the outbox as a store operation does, in a transaction of their own."""
    database = Database(engine)
    with database.transaction() as tx:
        write_events(connection_of(tx), routes_of(settings), list(events), now)


def listed(engine: Engine, status: str | None = None) -> list[dict[str, Any]]:
    with Database(engine).reading() as tx:
        return (
            SqlOutbox(Database(engine)).list_notifications(tx, status=status, before_id=None, limit=100).items
        )


DROP = Event(
    "level_dropped",
    "readiness\x00product:default/payments\x001",
    entity_ref="product:default/payments",
    owner="team:default/payments",
    summary="product:default/payments dropped from silver to bronze on scorecard readiness",
    detail={"scorecard": "readiness", "previousLevel": "silver", "level": "bronze"},
)


@pytest.fixture
def team(store_engine: Engine) -> Engine:
    """A catalog holding the payments team with its contact."""
    body = entity_body(
        "Team",
        "payments",
        spec={"contact": {"email": "payments@example.com", "channel": "#payments"}},
        title="Payments",
    )
    insert_entity(store_engine, body)
    return store_engine


def deliverer(engine: Engine, settings: NotificationSettings, clock: Clock, counts: list[Any]) -> Deliverer:
    return Deliverer(
        settings, SqlOutbox(Database(engine)), clock=clock, record=lambda *labels: counts.append(labels)
    )


@pytest.fixture
def counts() -> list[Any]:
    return []


@pytest.fixture
def ok_receiver() -> Iterator[Receiver]:
    with receiver([200], secret=SECRET) as found:
        yield found
