"""``/catalog``: the entity list, narrowed by kind, owner, lifecycle, free text or a catalog filter.

The form's fields become one Backstage filter (``kind=product,spec.lifecycle=production``) and a
full-text term, read by the same ``CatalogReader.query_entities`` as ``/api/catalog/entities/by-query``,
so the page and the API always agree. Paging follows the reader's cursors both ways; a cursor carries
its query, so the form's fields are kept in the links only to show them again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import request

from catalog_sync.errors import QueryError
from catalog_sync.model import KINDS, ORPHAN_ANNOTATION, EntityRef
from catalog_sync.store.filters import EntityFilter, parse_full_text, parse_order_fields
from catalog_sync.store.scoring import owner_keys
from plugin_api.paging import request_filters
from plugin_api.portal.blueprint import blp
from plugin_api.portal.common import known_kinds, limit_arg, make_pager, render, text_arg
from plugin_api.portal.refs import existing_refs
from plugin_api.state import connection, state

ORDER = ("metadata.name,asc",)
FACETS = ("kind", "spec.lifecycle", "relations.ownedBy")
FILTER_FIELDS = ("kind", "owner", "lifecycle", "q", "filter")


@dataclass(frozen=True)
class Row:
    """One entity of the list, as its row shows it."""

    ref: str
    kind: str
    name: str
    title: str | None
    description: str | None
    owner: str | None
    owner_known: bool
    ownable: bool
    lifecycle: str | None
    tier: str | None
    orphan: bool
    errors: int
    warnings: int


def build_filter(
    kind: str | None, owner: str | None, lifecycle: str | None, raw: list[str]
) -> EntityFilter | None:
    """The form's fields ANDed onto each ``filter`` alternative (or on their own when there is none)."""
    statements: list[str] = []
    if kind:
        if kind.lower() not in KINDS:
            raise QueryError("kind", f"{kind!r} is not a kind of the catalog ({', '.join(known_kinds())})")
        statements.append(f"kind={kind}")
    if lifecycle:
        if "," in lifecycle:
            raise QueryError("lifecycle", "a lifecycle has no commas")
        statements.append(f"spec.lifecycle={lifecycle}")
    if owner:
        statements.extend(f"relations.ownedBy={key}" for key in owner_keys(owner))
    alternatives = [text for text in raw if text.strip()]
    if not alternatives:
        return request_filters([",".join(statements)]) if statements else None
    return request_filters([",".join([text, *statements]) for text in alternatives])


@blp.route("/catalog", methods=["GET"])
def catalog() -> str:
    """The entity list."""
    app_state = state()
    conn = connection()
    kind, owner, lifecycle = text_arg("kind"), text_arg("owner"), text_arg("lifecycle")
    term, raw = text_arg("q"), request.args.getlist("filter")
    entity_filter = build_filter(kind, owner, lifecycle, raw)
    full_text = parse_full_text(term)
    limit = limit_arg()
    page = app_state.catalog.query_entities(
        entity_filter,
        order=parse_order_fields(ORDER),
        cursor=text_arg("cursor"),
        limit=limit,
        full_text=full_text,
        connection=conn,
        relation_types=("ownedBy",),
    )
    rows = _rows(page.items)
    facets = app_state.catalog.facets(list(FACETS), connection=conn)
    return render(
        "catalog.html",
        rows=rows,
        pager=make_pager(
            "portal.catalog",
            shown=len(rows),
            total=page.total_items,
            next_cursor=page.next_cursor,
            previous_cursor=page.prev_cursor,
        ),
        form={
            "kind": kind or "",
            "owner": owner or "",
            "lifecycle": lifecycle or "",
            "q": term or "",
            "filter": raw[0] if raw else "",
        },
        filtered=any(request.args.get(name, "").strip() for name in FILTER_FIELDS),
        kinds=facets.get("kind", []),
        lifecycles=facets.get("spec.lifecycle", []),
        owners=facets.get("relations.ownedBy", []),
    )


def _rows(items: list[dict[str, Any]]) -> list[Row]:
    """The page's rows; owners are looked up in one read, so an owner missing from the catalog shows."""
    owners: dict[str, str | None] = {}
    for item in items:
        targets = [r["targetRef"] for r in item.get("relations", []) if r.get("type") == "ownedBy"]
        owners[_ref_of(item)] = targets[0] if targets else None
    existing = existing_refs(sorted({owner for owner in owners.values() if owner}))
    known = {owner for owner in owners.values() if owner and owner.lower() in existing}
    rows = []
    for item in items:
        metadata, spec = item.get("metadata", {}), item.get("spec") or {}
        ref = _ref_of(item)
        owner = owners[ref]
        tier = spec.get("tier")
        levels = [str(status.get("level")) for status in (item.get("status") or {}).get("items", [])]
        info = KINDS.get(str(item.get("kind", "")).lower())
        rows.append(
            Row(
                ref=ref,
                kind=str(item.get("kind", "")),
                name=str(metadata.get("name", "")),
                title=_text(metadata.get("title")),
                description=_text(metadata.get("description")),
                owner=owner,
                owner_known=owner in known,
                ownable=info is not None and info.ownable,
                lifecycle=_text(spec.get("lifecycle")),
                tier=str(tier) if tier is not None and not isinstance(tier, dict | list) else None,
                orphan=(metadata.get("annotations") or {}).get(ORPHAN_ANNOTATION) == "true",
                errors=levels.count("error"),
                warnings=len(levels) - levels.count("error"),
            )
        )
    return rows


def _ref_of(item: dict[str, Any]) -> str:
    metadata = item.get("metadata", {})
    kind, namespace = str(item.get("kind", "")), str(metadata.get("namespace") or "default")
    return str(EntityRef(kind.lower(), namespace, str(metadata.get("name", ""))))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
