"""``WebhookIntake``: a delivery's id is remembered for ``keep_seconds`` and then forgotten, on SQLite
and PostgreSQL; within that time a redelivery changes nothing, even one arriving at the same moment
as the first; and the repository a delivery names is found without reading the whole table."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select, text

from catalog_sync.store.base import Database
from catalog_sync.store.tables import sources, webhook_deliveries
from catalog_sync.store.webhook_events import HostRepository, Push
from catalog_sync.store.webhook_store import ACCEPTED, DUPLICATE, IGNORED, Delivery, SqlWebhookIntake

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
    # Decided anew when redelivered (it changed nothing), and kept as one row.
    assert intake.record_delivery(delivery, keep_seconds=WEEK).result == IGNORED
    with store_engine.connect() as conn:
        assert conn.execute(select(webhook_deliveries.c.result)).scalars().all() == [IGNORED]


def test_deliveries_arriving_together_are_each_recorded_once(store_engine: Engine) -> None:
    """Twenty deliveries, each sent twice at the same moment by 40 threads of one process: every id
    is applied exactly once, the other copy is a duplicate, and no delivery fails waiting its turn."""
    intake = SqlWebhookIntake(Database(store_engine))
    now = datetime.now(UTC)
    start = threading.Barrier(40)

    def deliver(n: int) -> str:
        start.wait(timeout=60)
        return intake.record_delivery(ping(f"d-{n // 2}", now), keep_seconds=WEEK).result

    with ThreadPoolExecutor(40) as pool:
        results = list(pool.map(deliver, range(40)))
    for n in range(20):
        assert sorted(results[2 * n : 2 * n + 2]) == sorted([ACCEPTED, DUPLICATE]), results
    with store_engine.connect() as conn:
        stored = sorted(conn.execute(select(webhook_deliveries.c.delivery_id)).scalars())
    assert stored == sorted(f"d-{n}" for n in range(20))


def test_a_repository_is_found_by_its_key_through_an_index(sqlite_engine: Engine) -> None:
    """A delivery names its repository by key alone (whichever source lists it): with thousands of
    repositories a scan of the table would be most of the answer's time."""
    with sqlite_engine.connect() as conn:
        plan = conn.execute(
            text("EXPLAIN QUERY PLAN SELECT id FROM repositories WHERE key = :key"), {"key": "github:h:1"}
        ).all()
    details = " ".join(str(row[-1]) for row in plan)
    assert (
        "USING INDEX ix_repositories_key" in details or "USING COVERING INDEX ix_repositories_key" in details
    ), details


def test_a_push_to_a_branch_made_the_default_since_the_listing_asks_its_source_to_list(
    store_engine: Engine,
) -> None:
    """Alone (a system hook naming no host) or with others, the push records the listing it answers."""
    with store_engine.begin() as conn:
        conn.execute(text("INSERT INTO sources (id, name, type, target) VALUES (1, 'acme', 'github', 't')"))
        conn.execute(
            text(
                "INSERT INTO repositories (id, source_id, key, name, url, branch, state, failures, rescan)"
                " VALUES (1, 1, 'github:h:7', 'acme/pay', 'u', 'main', 'ok', 0, false)"
            )
        )
    intake = SqlWebhookIntake(Database(store_engine))
    now = datetime.now(UTC)
    for netloc, delivery_id in ((None, "alone"), ("h", "with-others")):
        push = Push(
            HostRepository("github", "7", netloc), "develop", "develop", "a" * 40, listed_by=("acme",)
        )
        with store_engine.begin() as conn:
            conn.execute(text("UPDATE sources SET listing_requested_at = NULL"))

        outcome = intake.record_delivery(
            Delivery("github", delivery_id, "push", now, push), keep_seconds=WEEK
        )

        assert (outcome.result, outcome.listing, outcome.repository_ids) == (ACCEPTED, ("acme",), ())
        with store_engine.connect() as conn:
            assert conn.execute(select(sources.c.listing_requested_at)).scalar() is not None, delivery_id
