"""The Backstage-compatible entity API under ``/api/catalog``.

Routes, parameters and shapes are Backstage catalog-backend's, so ``@backstage/catalog-client`` and
Backstage's UI read our catalog unchanged. Entity documents are built by the store's reader and
written out directly (they are documented by ``EntitySchema`` but not re-serialised through it: an
entity is free-form, and a by-query page is the hottest path of the API).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from flask import Response, current_app, json, request

from catalog_sync.errors import NotFoundError, QueryError, RefError
from catalog_sync.model import EntityRef
from catalog_sync.store.filters import (
    EntityFilter,
    OrderField,
    parse_fields,
    parse_full_text,
    parse_order_fields,
)
from catalog_sync.store.records import project_fields
from plugin_api.auth import writes
from plugin_api.paging import page_size, request_filters
from plugin_api.schemas.catalog import (
    ByQueryArgsSchema,
    ByRefsBodySchema,
    ByRefsResultSchema,
    EntitiesArgsSchema,
    EntityPageSchema,
    EntitySchema,
    FacetArgsSchema,
    FacetsSchema,
    FilterArgsSchema,
    RefreshBodySchema,
)
from plugin_api.smorest import api_blueprint
from plugin_api.state import connection, state

blp = api_blueprint("catalog", __name__, "Backstage-compatible catalog: entities, facets, refresh")


def json_response(document: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A compact JSON response, written without a schema pass (entities are free-form)."""
    body = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    response = current_app.response_class(body, status=status, mimetype="application/json")
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def ref_key(text: str) -> str:
    """A full ``kind:namespace/name`` ref's key; the namespace may be left out, the kind may not."""
    try:
        return EntityRef.parse(text).key
    except RefError as exc:
        raise QueryError("entityRef", str(exc)) from exc


@blp.route("/entities/by-query", methods=["GET"])
@blp.arguments(ByQueryArgsSchema, location="query", as_kwargs=True)
@blp.response(200, EntityPageSchema)
def query_entities(**args: Any) -> Response:
    """Page through entities with filters, ordering and full-text search (Backstage's by-query)."""
    app_state = state()
    limit = page_size(args.get("limit"), app_state.settings.api)
    fields = parse_fields(args.get("field_paths") or ())
    cursor = args.get("cursor")
    if cursor:
        page = app_state.catalog.query_entities(
            fields=fields, cursor=cursor, limit=limit, connection=connection()
        )
    else:
        if args.get("offset"):
            raise QueryError(
                "offset", "offset paging is not supported by by-query; follow pageInfo.nextCursor"
            )
        page = app_state.catalog.query_entities(
            request_filters(args.get("filter") or ()),
            fields=fields,
            order=parse_order_fields(args.get("orderField") or ()),
            limit=limit,
            full_text=parse_full_text(args.get("fullTextFilterTerm"), args.get("fullTextFilterFields") or ()),
            connection=connection(),
        )
    page_info: dict[str, str] = {}
    if page.next_cursor:
        page_info["nextCursor"] = page.next_cursor
    if page.prev_cursor:
        page_info["prevCursor"] = page.prev_cursor
    return json_response({"items": page.items, "totalItems": page.total_items, "pageInfo": page_info})


@blp.route("/entities", methods=["GET"])
@blp.arguments(EntitiesArgsSchema, location="query", as_kwargs=True)
@blp.response(
    200,
    EntitySchema(many=True),
    headers={
        "Link": {
            "description": 'the next page, `<url>; rel="next"`, when there is one',
            "schema": {"type": "string"},
        }
    },
)
def list_entities(**args: Any) -> Response:
    """The legacy entity list: a plain array, continued through the ``Link`` header as Backstage does.

    Without ``limit`` at most ``api.max_page_size`` entities are served; the ``Link`` header then
    names the rest, so nothing is lost silently.
    """
    app_state = state()
    api_settings = app_state.settings.api
    requested = args.get("limit")
    limit = (
        min(requested, api_settings.max_page_size) if requested is not None else api_settings.max_page_size
    )
    fields = parse_fields(args.get("field_paths") or ())
    reader = app_state.catalog
    link: dict[str, str] = {}
    if args.get("after"):
        page = reader.query_entities(
            fields=fields, cursor=args["after"], limit=limit, connection=connection()
        )
        items, after = page.items, page.next_cursor
    elif args.get("offset") is not None:
        offset = int(args["offset"])
        entity_filter = request_filters(args.get("filter") or ())
        rows = reader.list_entities(entity_filter, fields, limit + 1, offset, connection=connection())
        items = rows[:limit]
        if len(rows) > limit:
            link = _link_next({"offset": str(offset + limit)}, drop=("after",))
        after = None
    else:
        page = reader.query_entities(
            request_filters(args.get("filter") or ()),
            fields=fields,
            order=_legacy_order(args.get("order") or ()),
            limit=limit,
            connection=connection(),
        )
        items, after = page.items, page.next_cursor
    if after:
        link = _link_next({"after": after}, drop=("offset",))
    return json_response(items, headers=link)


@blp.route("/entities/by-name/<string:kind>/<string:namespace>/<string:name>", methods=["GET"])
@blp.response(200, EntitySchema)
def get_by_name(kind: str, namespace: str, name: str) -> Response:
    """One entity by its ref."""
    found = state().catalog.get_by_ref(f"{kind}:{namespace}/{name}", connection=connection())
    if found is None:
        raise NotFoundError(f"No entity named '{name}' found, with kind '{kind}' in namespace '{namespace}'")
    return json_response(found.to_entity_dict())


@blp.route("/entities/by-uid/<string:uid>", methods=["GET"])
@blp.response(200, EntitySchema)
def get_by_uid(uid: str) -> Response:
    """One entity by its ``metadata.uid``."""
    found = state().catalog.get_by_uid(uid, connection=connection())
    if found is None:
        raise NotFoundError(f"No entity with uid {uid}")
    return json_response(found.to_entity_dict())


@blp.route("/entities/by-uid/<string:uid>", methods=["DELETE"])
@writes
@blp.response(204)
def delete_by_uid(uid: str) -> Response:
    """Remove an orphan; an entity whose descriptor still exists is refused with 409."""
    app_state = state()
    app_state.administration.delete_orphan(uid)
    app_state.catalog.forget_facets()
    return Response(status=204)


@blp.route("/entities/by-refs", methods=["POST"])
@blp.arguments(FilterArgsSchema, location="query", as_kwargs=True)
@blp.arguments(ByRefsBodySchema, location="json", as_kwargs=True)
@blp.response(200, ByRefsResultSchema)
def get_by_refs(**args: Any) -> Response:
    """Entities by ref, in the order asked, null for refs that name nothing (or that the filter drops)."""
    app_state = state()
    if args.get("query") is not None:
        raise QueryError("query", "predicate queries are not supported; use the filter parameter")
    refs: list[str] = args["entityRefs"]
    fields = parse_fields(args.get("field_paths") or ())
    entity_filter = request_filters(args.get("filter") or ())
    keys = [_key_or_none(ref) for ref in refs]
    known = [key for key in keys if key is not None]
    entities = app_state.catalog.get_by_refs(known, connection=connection())
    found = {key: entity for key, entity in zip(known, entities, strict=True)}
    allowed = _allowed(known, entity_filter)
    items: list[dict[str, Any] | None] = []
    for key in keys:
        entity = found.get(key) if key is not None else None
        if entity is None or (allowed is not None and key not in allowed):
            items.append(None)
        else:
            items.append(project_fields(entity.to_entity_dict(), fields))
    return json_response({"items": items})


@blp.route("/entity-facets", methods=["GET"])
@blp.arguments(FacetArgsSchema, location="query", as_kwargs=True)
@blp.response(200, FacetsSchema)
def get_facets(**args: Any) -> Response:
    """Values of some keys with their entity counts, for the portal's filter pickers.

    Answers are reused for ``api.facet_cache_seconds`` (the pickers ask the same few questions on
    every page view), so a picker may lag a sync by that long. A reused answer takes no connection.
    """
    facets = state().catalog.facets(args["facet"], request_filters(args.get("filter") or ()))
    document = {
        key: [{"value": value, "count": count} for value, count in values] for key, values in facets.items()
    }
    return json_response({"facets": document})


@blp.route("/refresh", methods=["POST"])
@writes
@blp.arguments(RefreshBodySchema, location="json", as_kwargs=True)
@blp.response(200)
def refresh(entityRef: str) -> Response:  # noqa: N803 - Backstage's spelling
    """Sync the repository that holds an entity now, even if its tip has not moved."""
    app_state = state()
    app_state.administration.refresh_entity(ref_key(entityRef), app_state.clock())
    return Response(status=200)


def _key_or_none(text: str) -> str | None:
    try:
        return EntityRef.parse(text).key
    except RefError:
        return None


def _allowed(keys: Sequence[str], entity_filter: EntityFilter | None) -> set[str] | None:
    if entity_filter is None or not keys:
        return None
    return state().catalog.refs_matching(keys, entity_filter, connection=connection())


def _legacy_order(params: Sequence[str]) -> list[OrderField]:
    """The legacy ``order=asc:metadata.name`` form, read as by-query's ``orderField``."""
    converted = []
    for text in params:
        direction, colon, field = text.partition(":")
        if not colon or direction not in ("asc", "desc") or not field.strip():
            raise QueryError("order", f"{text!r} is not asc:<field> or desc:<field>")
        converted.append(f"{field.strip()},{direction}")
    return parse_order_fields(converted)


def _link_next(changes: dict[str, str], drop: Sequence[str]) -> dict[str, str]:
    """Backstage's ``Link: <...>; rel="next"`` header: this request's URL with the position changed."""
    params = [
        (key, value)
        for key, value in request.args.items(multi=True)
        if key not in changes and key not in drop
    ]
    params.extend(changes.items())
    return {"Link": f'<{request.path}?{urlencode(params)}>; rel="next"'}
