"""Entity facets are reused for ``api.facet_cache_seconds`` (5 by default, 0 turns it off).

The portal asks for the same pickers on every page view while the catalog only moves when a sync
writes, so a facet answer may lag a sync by that long; writes through the API itself do not lag.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete

from catalog_sync.config import parse_settings
from catalog_sync.errors import ConfigError
from catalog_sync.store.engine import open_engine
from catalog_sync.store.tables import entities
from plugin_api.state import STATE_KEY
from tests.integration.api.conftest import AUTH

BASE = "/api/catalog"


def kinds(client: FlaskClient) -> dict[str, int]:
    body = client.get(f"{BASE}/entity-facets?facet=kind").get_json()
    return {item["value"]: item["count"] for item in body["facets"]["kind"]}


def delete_behind_the_api(app: Flask, ref_key: str) -> None:
    """Remove an entity the way a sync pass in another process would: straight in the database."""
    engine = open_engine(app.extensions[STATE_KEY].settings.database)
    try:
        with engine.begin() as connection:
            assert connection.execute(delete(entities).where(entities.c.ref_key == ref_key)).rowcount == 1
    finally:
        engine.dispose()


def test_by_default_facets_lag_a_write_by_a_few_seconds_while_entities_do_not(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app()
    client = app.test_client()
    before = kinds(client)
    delete_behind_the_api(app, "component:default/legacy-batch")
    assert kinds(client) == before
    components = client.get(f"{BASE}/entities/by-query?filter=kind=component").get_json()
    assert components["totalItems"] == before["Component"] - 1


def test_a_cached_answer_expires_after_the_configured_seconds(make_app: Callable[..., Flask]) -> None:
    app = make_app(facet_cache_seconds=0.3)
    client = app.test_client()
    before = kinds(client)
    delete_behind_the_api(app, "component:default/legacy-batch")
    assert kinds(client) == before
    time.sleep(0.4)
    assert kinds(client)["Component"] == before["Component"] - 1


def test_zero_seconds_answers_every_request_afresh(make_app: Callable[..., Flask]) -> None:
    app = make_app(facet_cache_seconds=0)
    client = app.test_client()
    before = kinds(client)
    delete_behind_the_api(app, "component:default/legacy-batch")
    assert kinds(client)["Component"] == before["Component"] - 1


def test_deleting_an_orphan_through_the_api_shows_in_facets_at_once(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    before = kinds(client)
    orphan = client.get(f"{BASE}/entities/by-name/component/default/old-thing").get_json()
    assert (
        client.delete(f"{BASE}/entities/by-uid/{orphan['metadata']['uid']}", headers=AUTH).status_code == 204
    )
    assert kinds(client)["Component"] == before["Component"] - 1


def test_the_setting_defaults_to_five_seconds_and_refuses_bad_values() -> None:
    assert parse_settings({}).api.facet_cache_seconds == 5
    assert parse_settings({"api": {"facet_cache_seconds": 0.5}}).api.facet_cache_seconds == 0.5
    for bad in (-1, "soon", True):
        with pytest.raises(ConfigError, match=r"api\.facet_cache_seconds"):
            parse_settings({"api": {"facet_cache_seconds": bad}})
