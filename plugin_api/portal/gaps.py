"""``/gaps``: every ownership gap, what each means and who should act, narrowed by type or owner.

The counts by type and the list come from one read of the scorer's gaps (the API's
``ScoringReads.gaps``), under the same filters, so following the list to its end shows exactly as
many gaps of each type as the summary says. The list sorts on the server by type, subject, owner or
tier (``plugin_api.portal.sorting``), and its pages follow that order.
"""

from __future__ import annotations

from catalog_sync.errors import QueryError
from catalog_sync.scoring.gaps import GAP_TYPES
from catalog_sync.store.scoring import GAP_SORTS, gap_position
from plugin_api.paging import decode_cursor, encode_cursor
from plugin_api.portal.blueprint import blp
from plugin_api.portal.common import limit_arg, make_pager, render, text_arg
from plugin_api.portal.sorting import sort_arg
from plugin_api.state import connection, state

_CURSOR = "portal-gaps"

GAP_MEANINGS = {
    "missing_owner": "no spec.owner: nobody answers for it",
    "unknown_owner": "the owner named is not a Team or Group of the catalog",
    "individual_owner": "owned by a person, not a team",
    "orphaned_owner": "owned by a team whose descriptor was deleted",
    "team_without_members": "a team that lists nobody",
    "team_missing_roles": "a team without a required role (ownership.required_team_roles)",
    "product_without_capability": "a product aligned with no business capability",
    "capability_without_product": "a capability that no product serves",
    "orphaned_entity": "its descriptor was deleted",
    "repository_without_descriptor": "a repository the catalog knows nothing about",
}
"""One line per gap type, for the summary; the full rules are in the README."""


@blp.route("/gaps", methods=["GET"])
def gaps() -> str:
    """The ownership gaps page."""
    gap_type, owner = text_arg("type"), text_arg("owner")
    sort = sort_arg(tuple(GAP_SORTS), "type")
    order = f"{sort.key},{sort.order}"
    after = None
    cursor = text_arg("cursor")
    if cursor:
        position = decode_cursor(_CURSOR, cursor, {"after": list, "order": str})
        if position["order"] != order:
            raise QueryError("cursor", "this cursor belongs to the list in another order")
        after = gap_position(position["after"])
    page, summary = state().scoring.gaps(
        connection(),
        gap_type=gap_type,
        owner=owner,
        after=after,
        limit=limit_arg(),
        sort=sort.key,
        descending=sort.descending,
    )
    next_cursor = None
    if page.after is not None:
        next_cursor = encode_cursor(_CURSOR, {"after": list(page.after), "order": order})
    return render(
        "gaps.html",
        items=page.items,
        summary=[
            {"type": name, "count": summary.get(name, 0), "meaning": GAP_MEANINGS.get(name, "")}
            for name in GAP_TYPES
        ],
        total=sum(summary.values()),
        gap_types=GAP_TYPES,
        form={"type": gap_type or "", "owner": owner or ""},
        sort=sort,
        pager=make_pager("portal.gaps", shown=len(page.items), total=page.total, next_cursor=next_cursor),
    )
