"""What every view needs, built once by ``create_app`` and found through the current app.

Views take the settings and the store's protocols from here instead of from module globals, so two
apps (two tests, two databases) can live in one process. A view holds protocols only (``CatalogReads``,
``Administration``, ``MetricsReads``, ``ScoringReads``, ``WebhookIntake``): it cannot reach an engine
or run SQL.
``connection()`` gives a request one read unit for all its reads (opened on first use, closed when the
request ends), so a request that asks several questions checks out one pooled connection, not one per
question.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app, g

from catalog_sync.config import Settings
from catalog_sync.store.base import Transaction
from catalog_sync.store.stores import Stores

log = logging.getLogger(__name__)

STATE_KEY = "catalog_sync"
_UNIT = "catalog_sync_read_unit"


@dataclass(frozen=True)
class AppState(Stores):
    """The app's collaborators: the store's protocols ``open_stores`` built, and what the app adds to
    them. It extends ``Stores`` rather than listing its fields again, so a protocol added there reaches
    the views with no second list to keep in step."""

    settings: Settings
    sync_trigger: Callable[[], None] | None = None
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    @classmethod
    def from_stores(
        cls, settings: Settings, stores: Stores, *, sync_trigger: Callable[[], None] | None = None
    ) -> AppState:
        """The state of an app over these stores."""
        protocols: dict[str, Any] = {field.name: getattr(stores, field.name) for field in fields(Stores)}
        return cls(settings=settings, sync_trigger=sync_trigger, **protocols)


def state() -> AppState:
    """The collaborators of the app answering the current request."""
    found: AppState = current_app.extensions[STATE_KEY]
    return found


def connection() -> Transaction:
    """The current request's read unit, opened on first use (``StoreError`` if it cannot be).

    Only for reads: writes go through ``Administration``, whose operations commit on their own.
    """
    found: Transaction | None = g.get(_UNIT)
    if found is None:
        found = state().units.open_reading()
        setattr(g, _UNIT, found)
    return found


def install_request_connection(app: Flask) -> None:
    """Close each request's read unit when the request ends, whatever happened in it."""

    @app.teardown_appcontext
    def _close_unit(_error: BaseException | None) -> None:
        found: Transaction | None = g.pop(_UNIT, None)
        if found is None:
            return
        try:
            app.extensions[STATE_KEY].units.close(found)
        except Exception:  # a connection that broke mid-request: the pool has discarded it already
            log.warning("closing a request's database connection failed", exc_info=True)
