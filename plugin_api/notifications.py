"""``/api/notifications``: the outbox's deliveries, newest first, ``failed`` ones kept to be seen.

A delivery names its channel, never the channel's URL or secret (those live in the environment of
the processes that deliver). ``cursor`` carries the position and the ``status`` of the first page.
"""

from __future__ import annotations

from typing import Any

from catalog_sync.errors import QueryError
from catalog_sync.store.outbox import STATUSES
from plugin_api.paging import decode_cursor, encode_cursor, page_document, page_size
from plugin_api.schemas.notifications import NotificationListArgsSchema, NotificationListSchema
from plugin_api.smorest import api_blueprint
from plugin_api.state import connection, state

blp = api_blueprint("notifications", __name__, "Notifications: deliveries of the outbox and their state")

_CURSOR = "notifications"


@blp.route("", methods=["GET"])
@blp.arguments(NotificationListArgsSchema, location="query", as_kwargs=True)
@blp.response(200, NotificationListSchema)
def list_notifications(**args: Any) -> dict[str, Any]:
    """Deliveries newest first; ``status`` keeps one state (``failed`` to see what never arrived)."""
    app_state = state()
    limit = page_size(args.get("limit"), app_state.settings.api)
    status: str | None = args.get("status")
    before = None
    if args.get("cursor"):
        position = decode_cursor(_CURSOR, args["cursor"], {"before": int, "status": (str, type(None))})
        if position["status"] is not None and position["status"] not in STATUSES:
            raise QueryError("cursor", "malformed cursor")
        before, status = position["before"], position["status"]
    page = app_state.outbox.list_notifications(connection(), status=status, before_id=before, limit=limit)
    cursor = None
    if page.has_more and page.last_id is not None:
        cursor = encode_cursor(_CURSOR, {"before": page.last_id, "status": status})
    return page_document(page.items, page.total, cursor)
