"""Delivering the outbox to real receivers on loopback ports, on SQLite and PostgreSQL: signed
webhooks, Slack messages, and every way a receiver can answer (or not)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from catalog_sync.config import parse_settings
from catalog_sync.notify import Deliverer
from catalog_sync.store.outbox import Event
from tests.fixtures.receivers import Receiver, receiver
from tests.integration.notify.conftest import (
    DROP,
    NOW,
    SECRET,
    Clock,
    deliverer,
    listed,
    notification_settings,
    write,
)
from tests.unit.store.helpers import entity_body, insert_entity


def test_a_webhook_is_signed_and_carries_the_entity_its_owner_and_contact(
    team: Engine, ok_receiver: Receiver, counts: list[Any]
) -> None:
    settings = notification_settings(ok_receiver.url)
    write(team, settings, DROP)
    sender = deliverer(team, settings, Clock(), counts)
    assert sender.run_once() == 1
    (request,) = ok_receiver.requests
    assert request.signature_ok is True
    document = request.document
    assert document["event"] == "level_dropped"
    assert document["entity"] == {"ref": "product:default/payments"}
    assert document["owner"] == {
        "ref": "team:default/payments",
        "title": "Payments",
        "contact": {"email": "payments@example.com", "channel": "#payments"},
    }
    assert document["detail"]["level"] == "bronze"
    (row,) = listed(team)
    assert request.headers["X-Catalog-Delivery"] == row["deliveryId"] == document["deliveryId"]
    assert request.headers["X-Catalog-Event"] == "level_dropped"
    assert (row["status"], row["attempts"], row["lastError"]) == ("delivered", 1, None)
    assert counts == [("ops", "level_dropped", "delivered")]
    assert sender.run_once() == 0  # nothing is sent twice


def test_a_body_changed_on_the_way_fails_the_signature(team: Engine, counts: list[Any]) -> None:
    with receiver([200], secret="another-secret-of-the-receiver") as other:
        settings = notification_settings(other.url)
        write(team, settings, DROP)
        deliverer(team, settings, Clock(), counts).run_once()
    assert other.requests[0].signature_ok is False


def test_a_receiver_answering_500_is_tried_again_after_the_back_off_then_delivered_once(
    team: Engine, counts: list[Any]
) -> None:
    with receiver([500, 200], secret=SECRET) as flaky:
        settings = notification_settings(flaky.url)
        write(team, settings, DROP)
        clock = Clock()
        sender = deliverer(team, settings, clock, counts)
        sender.run_once()
        (row,) = listed(team)
        assert (row["status"], row["attempts"], row["lastError"]) == (
            "pending",
            1,
            "the receiver answered 500",
        )
        assert row["nextAttemptAt"] == NOW + timedelta(seconds=10)
        clock.advance(5)
        assert sender.run_once() == 0  # not before the back-off
        clock.advance(5)
        assert sender.run_once() == 1
        assert sender.run_once() == 0
    assert [r.answered for r in flaky.requests] == [500, 200]
    assert len({r.headers["X-Catalog-Delivery"] for r in flaky.requests}) == 1
    assert listed(team)[0]["status"] == "delivered"
    assert counts == [("ops", "level_dropped", "retried"), ("ops", "level_dropped", "delivered")]


def test_the_back_off_doubles_and_the_last_try_leaves_it_failed(team: Engine, counts: list[Any]) -> None:
    with receiver([503], secret=SECRET) as down:
        settings = notification_settings(down.url, max_attempts=3, backoff_seconds=10)
        write(team, settings, DROP)
        clock = Clock()
        sender = deliverer(team, settings, clock, counts)
        sender.run_once()
        clock.advance(10)
        sender.run_once()
        assert listed(team)[0]["nextAttemptAt"] == clock.now + timedelta(seconds=20)
        clock.advance(19)
        assert sender.run_once() == 0
        clock.advance(1)
        assert sender.run_once() == 1
        clock.advance(3600)
        assert sender.run_once() == 0
    assert len(down.requests) == 3
    (row,) = listed(team, "failed")
    assert row["attempts"] == 3
    assert row["lastError"] == "the receiver answered 503; gave up after 3 tries"
    assert counts[-1] == ("ops", "level_dropped", "failed")


def test_a_receiver_that_hangs_costs_the_timeout_and_no_more(team: Engine, counts: list[Any]) -> None:
    with receiver(["hang", 200], secret=SECRET) as hanging:
        settings = notification_settings(hanging.url, timeout_seconds=0.5)
        write(team, settings, DROP)
        clock = Clock()
        sender = deliverer(team, settings, clock, counts)
        started = time.monotonic()
        sender.run_once()
        waited = time.monotonic() - started
        assert waited < 2.5
        (row,) = listed(team)
        assert (row["status"], row["lastError"]) == ("pending", "the receiver did not answer within 0.5 s")
        clock.advance(10)
        sender.run_once()
    assert listed(team)[0]["status"] == "delivered"
    assert len(hanging.delivered) == 1


def test_a_connection_closed_without_an_answer_is_tried_again(team: Engine, counts: list[Any]) -> None:
    with receiver(["close", 200], secret=SECRET) as closing:
        settings = notification_settings(closing.url)
        write(team, settings, DROP)
        clock = Clock()
        sender = deliverer(team, settings, clock, counts)
        sender.run_once()
        row = listed(team)[0]
        assert (row["status"], row["lastError"]) == (
            "pending",
            "the connection was refused or closed before an answer",
        )
        clock.advance(10)
        sender.run_once()
    assert listed(team)[0]["status"] == "delivered"


def test_a_receiver_that_is_not_there_is_tried_again(team: Engine, counts: list[Any]) -> None:
    with receiver([200]) as gone:
        url = gone.url
    settings = notification_settings(url)
    write(team, settings, DROP)
    deliverer(team, settings, Clock(), counts).run_once()
    assert listed(team)[0]["status"] == "pending"


@pytest.mark.parametrize("status", [400, 401, 404, 410, 422])
def test_a_4xx_is_not_tried_past_the_first(team: Engine, counts: list[Any], status: int) -> None:
    with receiver([status, 200], secret=SECRET) as refusing:
        settings = notification_settings(refusing.url)
        write(team, settings, DROP)
        clock = Clock()
        sender = deliverer(team, settings, clock, counts)
        sender.run_once()
        clock.advance(86400)
        assert sender.run_once() == 0
    assert len(refusing.requests) == 1
    (row,) = listed(team, "failed")
    assert row["attempts"] == 1
    assert row["lastError"].startswith(f"the receiver answered {status}; not tried again")
    assert counts == [("ops", "level_dropped", "failed")]


def test_a_429_is_rate_limiting_and_is_tried_again(team: Engine, counts: list[Any]) -> None:
    with receiver([429, 200], secret=SECRET) as limited:
        settings = notification_settings(limited.url)
        write(team, settings, DROP)
        clock = Clock()
        sender = deliverer(team, settings, clock, counts)
        sender.run_once()
        clock.advance(10)
        sender.run_once()
    assert listed(team)[0]["status"] == "delivered"


def test_a_slack_channel_posts_text_and_blocks_with_what_descriptors_wrote_escaped(
    store_engine: Engine, counts: list[Any]
) -> None:
    insert_entity(
        store_engine,
        entity_body("Team", "payments", spec={"contact": {"channel": "<!channel>", "email": "a@b.c"}}),
    )
    event = Event(
        "gap_opened",
        "missing_owner\x00product:default/pay",
        entity_ref="product:default/pay",
        owner="team:default/payments",
        summary="ownership gap missing_owner opened on <!here> & co",
    )
    with receiver([200]) as slack:
        settings = notification_settings(slack.url, kind="slack", secret=None)
        write(store_engine, settings, event)
        deliverer(store_engine, settings, Clock(), counts).run_once()
    document = slack.requests[0].document
    assert set(document) == {"text", "blocks"}
    assert "<!here>" not in document["text"]
    assert "&lt;!here&gt; &amp; co" in document["text"]
    assert document["blocks"][0] == {"type": "header", "text": {"type": "plain_text", "text": "gap opened"}}
    texts = [field["text"] for block in document["blocks"] for field in block.get("fields", [])]
    assert "*Entity*\nproduct:default/pay" in texts
    assert "*Contact*\n&lt;!channel&gt;, a@b.c" in texts
    assert "X-Catalog-Signature-256" not in slack.requests[0].headers
    assert listed(store_engine)[0]["status"] == "delivered"


def test_two_deliverers_never_send_one_row_together(store_engine: Engine) -> None:
    with receiver([200]) as many:
        settings = notification_settings(many.url, secret=None, batch_size=5, concurrency=2)
        events = [Event("repository_failing", f"repository:{n}", summary=f"r{n}") for n in range(60)]
        write(store_engine, settings, *events)
        senders = [deliverer(store_engine, settings, Clock(), []) for _ in range(3)]

        def drain(sender: Deliverer) -> None:
            while sender.run_once():
                pass

        threads = [threading.Thread(target=drain, args=(sender,)) for sender in senders]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    ids = [r.headers["X-Catalog-Delivery"] for r in many.requests]
    assert len(ids) == len(set(ids)) == 60
    assert {row["status"] for row in listed(store_engine)} == {"delivered"}


def test_a_row_of_a_channel_no_longer_configured_is_kept_as_failed(
    store_engine: Engine, ok_receiver: Receiver, counts: list[Any]
) -> None:
    old = notification_settings(ok_receiver.url)
    write(store_engine, old, DROP)
    renamed = parse_settings(
        {
            "notifications": {
                "channels": [
                    {"name": "platform", "type": "webhook", "url_env": "U", "events": ["gap_opened"]}
                ]
            }
        },
        environ={"U": ok_receiver.url},
    ).notifications
    deliverer(store_engine, renamed, Clock(), counts).run_once()
    (row,) = listed(store_engine, "failed")
    assert row["lastError"] == "channel 'ops' is no longer configured"
    assert ok_receiver.requests == []
