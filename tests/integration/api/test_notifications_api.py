"""``GET /api/notifications`` and the overview's failed deliveries, on SQLite and PostgreSQL: newest
first, by status, paged by cursor, hostile parameters refused, and no channel URL or secret anywhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine

from catalog_sync.cli import build_app
from catalog_sync.config import NOTIFICATION_EVENTS, parse_settings
from catalog_sync.notify import routes_of
from catalog_sync.store.base import Database, connection_of
from catalog_sync.store.outbox import Event, SqlOutbox, Try
from catalog_sync.store.outbox.enqueue import write_events
from tests.integration.api.test_catalog_query import assert_backstage_error

URL = "https://hooks.example.com/services/T0/B0/secret-path-token"
SECRET = "signing-secret-never-shown-1234"
NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
API = "/api/notifications"


@pytest.fixture
def client(store_engine: Engine, tmp_path: Path) -> FlaskClient:
    """An app over an outbox of seven rows: three delivered, two failed, two pending."""
    config = {
        "database": f"sqlite:///{tmp_path / 'unused.db'}",
        "notifications": {
            "channels": [
                {
                    "name": "ops",
                    "type": "webhook",
                    "url_env": "OPS_URL",
                    "secret_env": "OPS_SECRET",
                    "events": list(NOTIFICATION_EVENTS),
                }
            ]
        },
    }
    settings = parse_settings(config, str(tmp_path), environ={"OPS_URL": URL, "OPS_SECRET": SECRET})
    database = Database(store_engine)
    events = [
        Event("gap_opened", f"missing_owner\x00product:default/p{n}", entity_ref=f"product:default/p{n}",
              summary=f"ownership gap missing_owner opened on product:default/p{n}")
        for n in range(7)
    ]  # fmt: skip
    with database.transaction() as tx:
        write_events(connection_of(tx), routes_of(settings.notifications), events, NOW)
    outbox = SqlOutbox(database)
    claimed = outbox.claim("test", NOW, 10, 60)
    refused = "the receiver answered 410; not tried again"
    later = NOW + timedelta(seconds=30)
    tries = [Try(delivery, "delivered", NOW) for delivery in claimed[:3]]
    tries += [Try(delivery, "failed", NOW, refused) for delivery in claimed[3:5]]
    tries += [Try(delivery, "pending", NOW, "the receiver answered 500", later) for delivery in claimed[5:]]
    outbox.record("test", tries)
    return build_app(settings, store_engine).test_client()


def test_every_delivery_is_listed_newest_first_without_the_channel_url_or_secret(client: FlaskClient) -> None:
    answer = client.get(API)
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["totalItems"] == 7
    refs = [item["entityRef"] for item in body["items"]]
    assert refs == [f"product:default/p{n}" for n in reversed(range(7))]
    text = answer.get_data(as_text=True)
    assert URL not in text
    assert "secret-path-token" not in text
    assert SECRET not in text
    first = body["items"][-1]
    assert first["status"] == "delivered"
    assert first["channel"] == "ops"
    assert first["event"] == "gap_opened"
    assert first["attempts"] == 1
    assert len(first["deliveryId"]) == 36


def test_status_keeps_one_state_and_the_cursor_keeps_it_across_pages(client: FlaskClient) -> None:
    failed = client.get(f"{API}?status=failed").get_json()
    assert failed["totalItems"] == 2
    assert {item["lastError"] for item in failed["items"]} == {"the receiver answered 410; not tried again"}
    pending = client.get(f"{API}?status=pending").get_json()["items"]
    assert [item["nextAttemptAt"] for item in pending] == ["2026-12-02T08:00:30+00:00"] * 2
    seen: list[str] = []
    url = f"{API}?status=delivered&limit=2"
    while url:
        body = client.get(url).get_json()
        assert body["totalItems"] == 3
        seen += [item["entityRef"] for item in body["items"]]
        cursor = body["pageInfo"].get("nextCursor")
        url = f"{API}?cursor={cursor}" if cursor else ""
    assert seen == ["product:default/p2", "product:default/p1", "product:default/p0"]


@pytest.mark.parametrize(
    ("query", "mentions"),
    [
        ("status=lost", "status"),
        ("status=", "status"),
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=" + "A" * 5000, "cursor"),
        ("limit=-1", "limit"),
        ("limit=many", "limit"),
        ("status=failed%00", "nul characters"),
    ],
)
def test_a_hostile_parameter_is_refused_naming_it(client: FlaskClient, query: str, mentions: str) -> None:
    assert_backstage_error(client.get(f"{API}?{query}"), 400, "InputError", mentions=mentions)


def test_a_cursor_of_another_list_is_refused(client: FlaskClient) -> None:
    runs_cursor = "eyJiZWZvcmUiOjMsImsiOiJzeW5jLXJ1bnMifQ"  # {"before":3,"k":"sync-runs"}
    assert_backstage_error(client.get(f"{API}?cursor={runs_cursor}"), 400, "InputError", mentions="cursor")


def test_the_openapi_description_documents_the_list(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").get_json()
    operation = spec["paths"][API]["get"]
    status = next(p for p in operation["parameters"] if p["name"] == "status")
    assert status["schema"]["enum"] == ["pending", "delivered", "failed"]
    assert {p["name"] for p in operation["parameters"]} >= {"status", "cursor", "limit"}


def test_the_overview_shows_the_failed_deliveries(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    assert "<title>Overview · catalog-sync</title>" in page  # the block sits in the page, not its title
    assert page.count("Failed notifications") == 1
    assert "the receiver answered 410; not tried again" in page
    assert "ownership gap missing_owner opened on product:default/p4" in page
    assert "product:default/p0" not in page  # delivered: not a failure
    assert URL not in page
