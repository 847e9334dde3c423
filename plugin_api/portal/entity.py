"""``/catalog/{kind}/{namespace}/{name}``: one entity, everything the catalog knows about it.

Its envelope (title, description, owner, lifecycle, tier, tags, links, the rest of its spec), its
relations grouped by type, the processing errors of its descriptor with file and line, its result
on every scorecard with each check, and the repository it comes from: what its owners need to see
why it scores as it does and what to fix.
"""

from __future__ import annotations

from typing import Any

from flask import url_for

from catalog_sync.errors import NotFoundError
from catalog_sync.model import KINDS, ORPHAN_ANNOTATION, EntityRef
from catalog_sync.scoring.next_steps import entity_steps
from catalog_sync.store.repo_queries import RepositoryRecord
from plugin_api.portal.blueprint import blp
from plugin_api.portal.common import known_kinds, render
from plugin_api.portal.kpis import capability_kpis, product_kpis
from plugin_api.portal.refs import TEAM_KINDS, existing_refs, prime_refs
from plugin_api.state import connection, state

SHOWN_SPEC_KEYS = (
    "owner",
    "lifecycle",
    "type",
    "tier",
    "support",
    "kpis",
    "runbooks",
    "techDebt",
    "capabilities",
    "outcomes",
    "members",
    "displayName",
    "contact",
)
"""Spec fields the page shows in their own sections; the others are listed under "Specification"."""
HIDDEN_ANNOTATIONS = (ORPHAN_ANNOTATION,)
MAX_STEPS = 10
"""Lines of "what to fix next" on an entity's page."""
SEVERITY_RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1}


@blp.route("/catalog/<string:kind>/<string:namespace>/<string:name>", methods=["GET"])
def entity(kind: str, namespace: str, name: str) -> str:
    """One entity's page."""
    if kind.lower() not in KINDS:
        raise NotFoundError(
            f"there is no kind {kind!r} in the catalog; the kinds are {', '.join(known_kinds())}"
        )
    ref = EntityRef(kind.lower(), namespace, name)
    app_state = state()
    conn = connection()
    stored = app_state.catalog.get_by_ref(ref.key, connection=conn)
    if stored is None:
        raise NotFoundError(f"there is no {ref.kind} named {name!r} in namespace {namespace!r}")
    document = stored.to_entity_dict()
    metadata, spec = document.get("metadata", {}), document.get("spec") or {}
    relations = _grouped(document.get("relations", []))
    prime_refs([target for targets in relations.values() for target in targets])
    owner = relations.get("ownedBy", [None])[0]
    owner_known = bool(owner) and str(owner).lower() in existing_refs([str(owner)])
    results = state().scoring.entity_scorecards(conn, stored.ref_key)
    repository: RepositoryRecord | None = None
    if stored.repository_id is not None:
        try:
            repository = app_state.catalog.get_repository(stored.repository_id, connection=conn)
        except NotFoundError:
            repository = None
    annotations = {
        key: value
        for key, value in (metadata.get("annotations") or {}).items()
        if key not in HIDDEN_ANNOTATIONS
    }
    return render(
        "entity.html",
        ref=str(EntityRef(ref.kind, str(metadata.get("namespace") or namespace), str(metadata["name"]))),
        document=document,
        metadata=metadata,
        spec=spec,
        owner=owner,
        owner_written=spec.get("owner"),
        owner_known=owner_known,
        orphan=stored.orphaned_at is not None,
        relations=relations,
        problems=stored.problems,
        ownable=KINDS[ref.kind].ownable or bool(owner),
        team_page=url_for("portal.team", name=metadata["name"], namespace=_namespace_arg(metadata))
        if ref.kind in TEAM_KINDS
        else None,
        results=[_result(item) for item in results],
        next_steps=entity_steps(app_state.scoring.entity_results(conn, stored.ref_key))[:MAX_STEPS],
        operations=operations(spec),
        initiatives=app_state.scoring.entity_initiatives(conn, stored.ref_key),
        repository=repository,
        descriptor={"path": stored.path, "line": stored.line},
        links=[link for link in metadata.get("links") or [] if isinstance(link, dict)],
        tags=[str(tag) for tag in metadata.get("tags") or []],
        labels=metadata.get("labels") or {},
        annotations=annotations,
        spec_fields=[
            (key, value) for key, value in spec.items() if key not in SHOWN_SPEC_KEYS and key != "kpis"
        ],
        kpis=product_kpis(ref.kind, str(metadata.get("namespace") or namespace), str(metadata["name"]))
        if spec.get("kpis")
        else [],
        capability_kpis=capability_kpis(stored.ref_key) if ref.kind == "capability" else None,
    )


def operations(spec: dict[str, Any]) -> dict[str, Any]:
    """What a product's operators read first: support and on-call, KPIs, runbooks, technical debt."""

    def listed(key: str) -> list[dict[str, Any]]:
        value = spec.get(key)
        return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []

    support = spec.get("support")
    contact = spec.get("contact")
    debt = sorted(
        listed("techDebt"),
        key=lambda item: (
            not isinstance(item.get("since"), str),
            str(item.get("since") or ""),
            -SEVERITY_RANK.get(str(item.get("severity")), 0),
        ),
    )
    return {
        "support": {
            **(contact if isinstance(contact, dict) else {}),
            **(support if isinstance(support, dict) else {}),
        },
        "kpis": listed("kpis"),
        "runbooks": listed("runbooks"),
        "tech_debt": debt,
        "tracks_debt": "techDebt" in spec,
        "outcomes": [str(item) for item in spec.get("outcomes") or [] if isinstance(item, str | int | float)],
    }


def _namespace_arg(metadata: dict[str, Any]) -> str | None:
    namespace = str(metadata.get("namespace") or "default")
    return None if namespace.lower() == "default" else namespace


def _grouped(relations: list[dict[str, str]]) -> dict[str, list[str]]:
    """Relations by type (types and targets sorted), as the page lists them."""
    grouped: dict[str, list[str]] = {}
    for relation in relations:
        grouped.setdefault(relation["type"], []).append(relation["targetRef"])
    return {kind: sorted(targets) for kind, targets in sorted(grouped.items())}


def _result(item: dict[str, Any]) -> dict[str, Any]:
    """A scorecard result with each check's value as text."""
    checks = [{**check, "shown": show_value(check.get("value"))} for check in item["checks"]]
    return {**item, "checks": checks, "passed": sum(1 for check in checks if check["passed"])}


def show_value(value: Any) -> str:
    """What a check measured, in a few words: a number, a list joined with commas, or ``—``."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(show_value(item) for item in value) if value else "none"
    if isinstance(value, dict):
        return ", ".join(f"{key}: {show_value(item)}" for key, item in value.items())
    return str(value)
