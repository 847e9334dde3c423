"""Deliveries that arrive together are written in one transaction: when it fails, every delivery of
the group is answered 503 (the hosts redeliver) and none of them is recorded or scheduled; the next
delivery is written as usual once the database is back."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from catalog_sync.store.deliveries import UNKNOWN_REPOSITORY
from tests.fixtures.hosted import GITHUB_API, body_of, github_headers, github_push
from tests.integration.webhooks.conftest import SECRET, World

DELIVERIES = 10


@contextmanager
def writer_held(world: World) -> Iterator[sqlite3.Connection]:
    """Another process's transaction holding SQLite's write lock until the block ends (committed)."""
    path = world.engine.url.database
    assert path is not None
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")
        yield other
        other.execute("COMMIT")
    finally:
        other.close()


def post(world: World, n: int) -> Any:
    body = body_of(github_push(101, after=f"{n:040x}"))
    return world.app.test_client().post(
        "/api/webhooks/github", data=body, headers=github_headers(SECRET, body, "push", f"group-{n}")
    )


def test_a_failed_group_fails_every_delivery_in_it_and_records_none(small_world: World) -> None:
    with ThreadPoolExecutor(DELIVERIES) as pool:
        with writer_held(small_world) as other:
            answers = [pool.submit(post, small_world, n) for n in range(DELIVERIES)]
            time.sleep(1.0)  # every delivery is waiting: the first for the lock, the others for it
            other.execute("ALTER TABLE webhook_deliveries RENAME TO webhook_deliveries_away")
        statuses = [answer.result(timeout=60) for answer in answers]
    for answer in statuses:
        assert answer.status_code == 503, answer.get_data(as_text=True)
        assert "database" in answer.get_json()["error"]["message"]
    path = small_world.engine.url.database
    assert path is not None
    with sqlite3.connect(path) as conn:
        conn.execute("ALTER TABLE webhook_deliveries_away RENAME TO webhook_deliveries")
    assert small_world.deliveries() == []
    assert small_world.pushes_waiting() == 0
    again = post(small_world, 0)
    assert again.status_code == 202, again.get_json()
    assert [d["delivery_id"] for d in small_world.deliveries()] == ["group-0"]


def test_deliveries_sent_together_are_each_answered_with_their_own_outcome(small_world: World) -> None:
    """Accepted, ignored and duplicate deliveries written in one group keep their own answers."""
    start = threading.Barrier(3 * DELIVERIES)

    def send(n: int) -> Any:
        kind, index = divmod(n, DELIVERIES)
        ref = "refs/heads/feature" if kind == 1 else "refs/heads/main"
        body = body_of(github_push(101, after=f"{index + 1:040x}", ref=ref))
        delivery = f"push-{index}" if kind < 2 else "push-0"
        headers = github_headers(SECRET, body, "push", delivery if kind != 1 else f"other-{index}")
        client = small_world.app.test_client()
        start.wait(timeout=60)
        return client.post("/api/webhooks/github", data=body, headers=headers)

    with ThreadPoolExecutor(3 * DELIVERIES) as pool:
        with writer_held(small_world):
            answers = [pool.submit(send, n) for n in range(3 * DELIVERIES)]
            time.sleep(1.0)  # every delivery is waiting: the first for the lock, the others for it
        results = [answer.result(timeout=60) for answer in answers]
    accepted = [r.get_json() for r in results[:DELIVERIES]]
    ignored = [r.get_json() for r in results[DELIVERIES : 2 * DELIVERIES]]
    repeated = [r.get_json() for r in results[2 * DELIVERIES :]]
    assert [r.status_code for r in results[1 : 2 * DELIVERIES]] == [202] * (2 * DELIVERIES - 1)
    assert all("feature" in answer["ignored"] for answer in ignored)
    # "push-0" was sent DELIVERIES + 1 times: exactly one copy is accepted, every other one a duplicate
    copies = [accepted[0], *repeated]
    assert sum(1 for answer in copies if answer.get("accepted")) == 1
    assert sum(1 for answer in copies if answer == {"duplicate": True}) == DELIVERIES
    assert all(answer.get("accepted") for answer in accepted[1:])
    assert len(small_world.deliveries()) == 2 * DELIVERIES


@contextmanager
def writes_held(world: World) -> Iterator[None]:
    """Every delivery's transaction kept waiting until the block ends, on SQLite (its write lock) or on
    PostgreSQL (a lock on the deliveries' table that their insert waits for)."""
    if world.engine.dialect.name == "sqlite":
        with writer_held(world):
            yield
        return
    with world.engine.begin() as conn:
        conn.exec_driver_sql("LOCK TABLE webhook_deliveries IN SHARE ROW EXCLUSIVE MODE")
        yield


def test_a_group_gives_each_delivery_the_answer_it_would_get_alone_in_its_order(world: World) -> None:
    """Seven deliveries queued behind one transaction are written together: each keeps the answer and
    the effect it would have had alone, in the order they came (the last push's commit is read, the
    first push's time is kept, a repeated id is a duplicate even within the group)."""
    pushes: list[tuple[str, str, dict[str, Any]]] = [
        ("first", "ping", {"zen": "Keep it logically awesome.", "hook_id": 1}),
        ("a", "push", github_push(101, after="a" * 40)),
        ("b", "push", github_push(101, after="b" * 40)),
        ("a", "push", github_push(101, after="c" * 40)),
        ("unknown", "push", github_push(999, after="d" * 40)),
        ("branch", "push", github_push(102, after="e" * 40, ref="refs/heads/feature")),
        ("tag", "push", github_push(102, after="f" * 40, ref="refs/tags/v1")),
    ]

    def send(delivery: str, event: str, document: dict[str, Any]) -> Any:
        body = body_of(document)
        headers = github_headers(SECRET, body, event, delivery)
        return world.app.test_client().post("/api/webhooks/github", data=body, headers=headers)

    with ThreadPoolExecutor(len(pushes)) as pool:
        with writes_held(world):
            answers = []
            for delivery in pushes:
                answers.append(pool.submit(send, *delivery))
                time.sleep(0.3)  # queued in this order, behind the first
            time.sleep(0.5)
        results = [answer.result(timeout=60) for answer in answers]
    pay = world.row(f"github:{GITHUB_API}:101")
    assert [(r.status_code, r.get_json()) for r in results] == [
        (200, {"accepted": True}),
        (202, {"accepted": True, "repositories": [pay["id"]]}),
        (202, {"accepted": True, "repositories": [pay["id"]]}),
        (200, {"duplicate": True}),
        (202, {"ignored": UNKNOWN_REPOSITORY}),
        (202, {"ignored": "the push is to branch 'feature'; the catalog reads main"}),
        (202, {"ignored": "the push is to a ref that is not a branch (a tag, say)"}),
    ]
    stored = {d["delivery_id"]: d for d in world.deliveries()}
    assert sorted(stored) == ["a", "b", "branch", "first", "tag", "unknown"]
    assert pay["pushed_commit"] == "b" * 40
    assert _same_instant(pay["pushed_at"], stored["a"]["received_at"])
    assert world.pushes_waiting() == 1


def _same_instant(one: Any, other: Any) -> bool:
    """Timestamps as the two databases give them back (SQLite without a zone)."""
    return bool(one.replace(tzinfo=None) == other.replace(tzinfo=None))
