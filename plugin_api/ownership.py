"""``/api/ownership/gaps``: every ownership gap of SPEC section 5, with the count of each type.

The gaps are found by the scorer after each sync pass and stored, so this is one indexed read. The
``summary`` counts every type under the same filters as ``items``, so paging to the end collects
exactly ``summary[type]`` items of each type.
"""

from __future__ import annotations

from typing import Any

from catalog_sync.store.scoring import gap_position
from plugin_api.paging import decode_cursor, encode_cursor, page_document, page_size
from plugin_api.schemas.scoring import GapArgsSchema, GapListSchema
from plugin_api.smorest import Blueprint
from plugin_api.state import connection, state

blp = Blueprint(
    "ownership", __name__, url_prefix="/api/ownership", description="Ownership gaps: who answers for what"
)

_CURSOR = "ownership-gaps"
_FIELDS: dict[str, type | tuple[type, ...]] = {
    "after": list,
    "type": (str, type(None)),
    "owner": (str, type(None)),
}


@blp.route("/gaps", methods=["GET"])
@blp.arguments(GapArgsSchema, location="query", as_kwargs=True)
@blp.response(200, GapListSchema)
def list_gaps(**args: Any) -> dict[str, Any]:
    """Gaps by type then subject; ``type`` and ``owner`` narrow the list and its summary alike."""
    limit = page_size(args.get("limit"), state().settings.api)
    gap_type, owner, after = args.get("type"), args.get("owner"), None
    if args.get("cursor"):
        position = decode_cursor(_CURSOR, args["cursor"], _FIELDS)
        after = gap_position(position["after"])
        gap_type, owner = position["type"], position["owner"]
    page, summary = state().scoring.gaps(
        connection(), gap_type=gap_type, owner=owner, after=after, limit=limit
    )
    cursor = None
    if page.after is not None:
        cursor = encode_cursor(_CURSOR, {"after": list(page.after), "type": gap_type, "owner": owner})
    return {**page_document(page.items, page.total, cursor), "summary": summary}
