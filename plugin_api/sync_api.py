"""``/api/sync``: asking for a pass now, and the record of recent passes.

``POST /api/sync`` only makes every repository due; the sync loop does the work (in ``serve``, the
``sync_trigger`` wakes it at once), so an HTTP request never waits for git.
"""

from __future__ import annotations

from typing import Any

from plugin_api.auth import writes
from plugin_api.paging import decode_cursor, encode_cursor, page_document, page_size
from plugin_api.schemas.resources import PageArgsSchema, ScheduledSchema, SyncRunListSchema
from plugin_api.smorest import api_blueprint
from plugin_api.state import connection, state

blp = api_blueprint("sync", __name__, "Sync passes: schedule one, list recent ones")

_CURSOR_KIND = "sync-runs"


@blp.route("", methods=["POST"])
@writes
@blp.response(202, ScheduledSchema)
def sync_now() -> dict[str, int]:
    """Make every repository due now, then wake the sync loop when this process runs one."""
    app_state = state()
    scheduled = app_state.administration.schedule_all(app_state.clock())
    if app_state.sync_trigger is not None:
        app_state.sync_trigger()
    return {"scheduled": scheduled}


@blp.route("/runs", methods=["GET"])
@blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
@blp.response(200, SyncRunListSchema)
def list_runs(**args: Any) -> dict[str, Any]:
    """Recent passes, newest first, with what each did."""
    app_state = state()
    limit = page_size(args.get("limit"), app_state.settings.api)
    before = None
    if args.get("cursor"):
        before = decode_cursor(_CURSOR_KIND, args["cursor"], {"before": int})["before"]
    page = app_state.catalog.list_sync_runs(before_id=before, limit=limit, connection=connection())
    next_cursor = None
    if page.has_more and page.last_key is not None:
        next_cursor = encode_cursor(_CURSOR_KIND, {"before": page.last_key})
    return page_document(page.items, page.total_items, next_cursor)
