"""``/``: the catalog at a glance, for a platform team's first look of the day.

Entities by kind, repositories by state, ownership gaps by type, every scorecard's levels and average,
the last sync pass, and the notifications that could not be delivered: a handful of reads of what the
sync and the scorer stored, each linking to the page that lists the details.
"""

from __future__ import annotations

from typing import Any

from catalog_sync.store.repo_queries import REPOSITORY_STATES
from plugin_api.portal.blueprint import blp
from plugin_api.portal.common import level_parts, render
from plugin_api.state import connection, state

MAX_SCORECARDS = 50
"""Scorecards shown on the overview; the scorecards page lists them all."""
MAX_FAILED_NOTIFICATIONS = 5
"""Failed deliveries shown on the overview, newest first; ``/api/notifications?status=failed`` has all."""


@blp.route("/", methods=["GET"])
def overview() -> str:
    """The overview page."""
    app_state = state()
    conn = connection()
    kinds = app_state.catalog.facets(["kind"], connection=conn).get("kind", [])
    repository_states = dict.fromkeys(REPOSITORY_STATES, 0)
    for source in app_state.catalog.list_sources(app_state.settings.sources, connection=conn):
        for name, count in source.states.items():
            repository_states[name] = repository_states.get(name, 0) + count
    runs = app_state.catalog.list_sync_runs(before_id=None, limit=1, connection=conn)
    _, gap_summary = app_state.scoring.gaps(conn, gap_type=None, owner=None, after=None, limit=0)
    cards = app_state.scoring.list_scorecards(conn, None, MAX_SCORECARDS)
    failed = app_state.outbox.list_notifications(
        conn, status="failed", before_id=None, limit=MAX_FAILED_NOTIFICATIONS
    )
    return render(
        "overview.html",
        kinds=kinds,
        entity_total=sum(count for _, count in kinds),
        repository_states=repository_states,
        repository_total=sum(repository_states.values()),
        gap_summary=gap_summary,
        gap_total=sum(gap_summary.values()),
        scorecards=[_card(item) for item in cards.items],
        more_scorecards=cards.total > len(cards.items),
        last_run=runs.items[0] if runs.items else None,
        failed_notifications=failed.items,
        failed_total=failed.total,
        channels=len(app_state.settings.notifications.channels),
    )


def _card(item: dict[str, Any]) -> dict[str, Any]:
    """A scorecard with its levels ready to draw."""
    summary = item["summary"]
    return {**item, "parts": level_parts(summary["levels"], item["levels"])}
