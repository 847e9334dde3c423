"""What every view needs, built once by ``create_app`` and found through the current app.

Views take the settings, the engine and the readers from here instead of from module globals, so two
apps (two tests, two databases) can live in one process. ``connection()`` gives a request one read
connection for all its queries (opened on first use, closed when the request ends), so a request that
asks several questions checks out one pooled connection, not one per question.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Flask, current_app, g
from sqlalchemy import Connection, Engine

from catalog_sync.config import Settings
from catalog_sync.store.base import Transaction
from catalog_sync.store.engine import read_connection
from catalog_sync.store.queries import CatalogReader
from catalog_sync.store.repo_queries import RepositoryReader
from catalog_sync.store.scoring import ScoringReads

log = logging.getLogger(__name__)

STATE_KEY = "catalog_sync"
_CONNECTION = "catalog_sync_connection"


@dataclass(frozen=True)
class AppState:
    """The app's collaborators."""

    settings: Settings
    engine: Engine
    catalog: CatalogReader
    repositories: RepositoryReader
    scoring: ScoringReads
    sync_trigger: Callable[[], None] | None = None
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)


def state() -> AppState:
    """The collaborators of the app answering the current request."""
    found: AppState = current_app.extensions[STATE_KEY]
    return found


def connection() -> Connection:
    """The current request's read connection, opened on first use (``StoreError`` if it cannot be).

    Only for reads: writes take a transaction of their own (``engine.begin()``).
    """
    found: Connection | None = g.get(_CONNECTION)
    if found is None:
        found = read_connection(state().engine)
        setattr(g, _CONNECTION, found)
    return found


def reading() -> Transaction:
    """The current request's read unit, for the store's protocols: its one connection, opened on first use."""
    return Transaction(connection())


def install_request_connection(app: Flask) -> None:
    """Close each request's read connection when the request ends, whatever happened in it."""

    @app.teardown_appcontext
    def _close_connection(_error: BaseException | None) -> None:
        found: Connection | None = g.pop(_CONNECTION, None)
        if found is None:
            return
        try:
            found.close()
        except Exception:  # a connection that broke mid-request: the pool has discarded it already
            log.warning("closing a request's database connection failed", exc_info=True)
