"""``/api/sources``: the configured sources and how their repositories fare, at a glance.

Operators look here first when entities go missing: a source whose listing failed (an expired token,
a renamed organisation) shows its error and keeps its repositories, and the counts by state tell a
fleet-wide fetch problem from one broken repository.
"""

from __future__ import annotations

from typing import Any

from plugin_api.paging import decode_cursor, encode_cursor, page_document, page_size
from plugin_api.schemas.resources import PageArgsSchema, SourceListSchema
from plugin_api.smorest import api_blueprint
from plugin_api.state import connection, state

blp = api_blueprint("sources", __name__, "Configured sources with repository counts by state")

_CURSOR_KIND = "sources"


@blp.route("", methods=["GET"])
@blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
@blp.response(200, SourceListSchema)
def list_sources(**args: Any) -> dict[str, Any]:
    """Configured sources in configuration order, then ``registered`` when repositories were added."""
    app_state = state()
    limit = page_size(args.get("limit"), app_state.settings.api)
    offset = 0
    if args.get("cursor"):
        offset = decode_cursor(_CURSOR_KIND, args["cursor"], {"offset": int})["offset"]
    summaries = app_state.catalog.list_sources(app_state.settings.sources, connection=connection())
    items = summaries[offset : offset + limit]
    more = offset + limit < len(summaries)
    next_cursor = encode_cursor(_CURSOR_KIND, {"offset": offset + limit}) if more else None
    return page_document(items, len(summaries), next_cursor)
