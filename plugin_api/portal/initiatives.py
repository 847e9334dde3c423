"""``/initiatives`` and ``/initiatives/{name}``: the work platform teams asked for, and whether it will
be done in time.

The list shows every initiative soonest due first, with its progress and whether it is at risk; one
initiative's page adds its progress per owning team, its burn-up drawn on the server, and the entities
still to do. All of it is what the scorer kept, read through ``ScoringReads`` as the API reads it.
"""

from __future__ import annotations

from catalog_sync.errors import QueryError
from plugin_api.paging import decode_cursor, encode_cursor
from plugin_api.portal.blueprint import blp
from plugin_api.portal.burnup import burn_up
from plugin_api.portal.common import limit_arg, make_pager, render, text_arg
from plugin_api.state import connection, state

HISTORY_DAYS = 400
_LIST_CURSOR = "portal-initiatives"
_ENTITIES_CURSOR = "portal-initiative-entities"


@blp.route("/initiatives", methods=["GET"])
def initiatives() -> str:
    """Every initiative with its progress, soonest due first."""
    after = None
    cursor = text_arg("cursor")
    if cursor:
        after = decode_cursor(_LIST_CURSOR, cursor, {"after": str})["after"]
    page = state().scoring.list_initiatives(connection(), after, limit_arg(), None)
    next_cursor = encode_cursor(_LIST_CURSOR, {"after": page.after}) if page.after is not None else None
    return render(
        "initiatives.html",
        initiatives=page.items,
        pager=make_pager(
            "portal.initiatives", shown=len(page.items), total=page.total, next_cursor=next_cursor
        ),
    )


@blp.route("/initiatives/<string:name>", methods=["GET"])
def initiative(name: str) -> str:
    """One initiative: progress per team, the burn-up, the entities not done first."""
    reader, tx = state().scoring, connection()
    item = reader.get_initiative(tx, name)
    after = None
    cursor = text_arg("cursor")
    if cursor:
        position = decode_cursor(_ENTITIES_CURSOR, cursor, {"after": str, "initiative": str})
        if position["initiative"] != name:
            raise QueryError("cursor", "this cursor belongs to another initiative's entities")
        after = position["after"]
    page = reader.initiative_entities(tx, name, None, after, limit_arg())
    next_cursor = None
    if page.after is not None:
        next_cursor = encode_cursor(_ENTITIES_CURSOR, {"after": page.after, "initiative": name})
    history = reader.initiative_history(tx, name, HISTORY_DAYS, state().clock().date())
    return render(
        "initiative.html",
        initiative=item,
        chart=burn_up(history, item["startsOn"], item["dueOn"]),
        history=history,
        entities=page.items,
        pager=make_pager(
            "portal.initiative", shown=len(page.items), total=page.total, next_cursor=next_cursor, name=name
        ),
    )
