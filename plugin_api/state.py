"""What every view needs, built once by ``create_app`` and found through the current app.

Views take the settings, the engine and the readers from here instead of from module globals, so two
apps (two tests, two databases) can live in one process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import Engine

from catalog_sync.config import Settings
from catalog_sync.store.queries import CatalogReader
from catalog_sync.store.repo_queries import RepositoryReader

STATE_KEY = "catalog_sync"


@dataclass(frozen=True)
class AppState:
    """The app's collaborators."""

    settings: Settings
    engine: Engine
    catalog: CatalogReader
    repositories: RepositoryReader
    sync_trigger: Callable[[], None] | None = None
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)


def state() -> AppState:
    """The collaborators of the app answering the current request."""
    found: AppState = current_app.extensions[STATE_KEY]
    return found
