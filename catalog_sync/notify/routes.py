"""The configured channels as the outbox's routes: their names, events and parsed filters."""

from __future__ import annotations

from catalog_sync.config import NotificationSettings
from catalog_sync.errors import ConfigError, QueryError
from catalog_sync.store.filters import parse_filters
from catalog_sync.store.outbox import Route

MAX_FILTER_CONDITIONS = 50


def routes_of(settings: NotificationSettings) -> list[Route]:
    """One route per channel; a filter that does not parse is refused at start, naming its key."""
    routes = []
    for index, channel in enumerate(settings.channels):
        entity_filter = None
        if channel.filter:
            try:
                entity_filter = parse_filters([channel.filter], max_conditions=MAX_FILTER_CONDITIONS)
            except QueryError as exc:
                raise ConfigError(f"notifications.channels.{index}.filter", exc.message) from None
        routes.append(Route(channel.name, frozenset(channel.events), entity_filter))
    return routes
