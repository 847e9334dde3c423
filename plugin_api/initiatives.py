"""``/api/initiatives``: each initiative's progress (in scope, done, per team, at risk), its daily
burn-up and the entities it covers, as the last re-score kept them (nothing is evaluated per request)."""

from __future__ import annotations

from typing import Any

from catalog_sync.store.scoring import owner_keys
from plugin_api.paging import decode_cursor, encode_cursor, page_document, page_size
from plugin_api.schemas.initiatives import (
    BurnUpArgsSchema,
    BurnUpSchema,
    CoveredArgsSchema,
    CoveredListSchema,
    InitiativeListArgsSchema,
    InitiativeListSchema,
    InitiativeSchema,
)
from plugin_api.smorest import Blueprint
from plugin_api.state import connection, state

blp = Blueprint(
    "initiatives",
    __name__,
    url_prefix="/api/initiatives",
    description="Initiatives: checks of a scorecard asked of chosen entities by a due day (SPEC section 10)",
)

_LIST_CURSOR = "initiatives"
_ENTITIES_CURSOR = "initiative-entities"


@blp.route("", methods=["GET"])
@blp.arguments(InitiativeListArgsSchema, location="query", as_kwargs=True)
@blp.response(200, InitiativeListSchema)
def list_initiatives(**args: Any) -> dict[str, Any]:
    """Every initiative, soonest due first; ``owner`` keeps those a team runs or has entities in."""
    limit = page_size(args.get("limit"), state().settings.api)
    owner: str | None = args.get("owner")
    after = None
    if args.get("cursor"):
        position = decode_cursor(_LIST_CURSOR, args["cursor"], {"after": str, "owner": (str, type(None))})
        after, owner = position["after"], position["owner"]
    owners = owner_keys(owner) if owner is not None else None
    page = state().scoring.list_initiatives(connection(), after, limit, owners)
    cursor = None
    if page.after is not None:
        cursor = encode_cursor(_LIST_CURSOR, {"after": page.after, "owner": owner})
    return page_document(page.items, page.total, cursor)


@blp.route("/<string:name>", methods=["GET"])
@blp.response(200, InitiativeSchema)
def get_initiative(name: str) -> dict[str, Any]:
    """One initiative with its progress, per owning team."""
    return state().scoring.get_initiative(connection(), name)


@blp.route("/<string:name>/history", methods=["GET"])
@blp.arguments(BurnUpArgsSchema, location="query", as_kwargs=True)
@blp.response(200, BurnUpSchema)
def get_history(name: str, days: int, **_: Any) -> dict[str, Any]:
    """The daily burn-up over the last ``days`` days, oldest first: in scope and done per day.

    Days without a re-score have no point; bounded by ``days`` (at most 400, the retention), so it is
    answered whole.
    """
    points = state().scoring.initiative_history(connection(), name, days, state().clock().date())
    return page_document(points, len(points), None)


@blp.route("/<string:name>/entities", methods=["GET"])
@blp.arguments(CoveredArgsSchema, location="query", as_kwargs=True)
@blp.response(200, CoveredListSchema)
def list_entities(name: str, **args: Any) -> dict[str, Any]:
    """The entities the initiative covers, those not done first; ``done`` keeps one side."""
    limit = page_size(args.get("limit"), state().settings.api)
    done: bool | None = args.get("done")
    after = None
    if args.get("cursor"):
        position = decode_cursor(_ENTITIES_CURSOR, args["cursor"], {"after": str, "done": (bool, type(None))})
        after, done = position["after"], position["done"]
    page = state().scoring.initiative_entities(connection(), name, done, after, limit)
    cursor = None
    if page.after is not None:
        cursor = encode_cursor(_ENTITIES_CURSOR, {"after": page.after, "done": done})
    return page_document(page.items, page.total, cursor)
