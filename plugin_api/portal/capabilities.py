"""``/capabilities``: the business capabilities as a tree, with the products serving each node.

The product model's first questions: which products serve each capability, which capabilities
nobody serves (a gap in what IT supports), and which are served by products of more than one team
(possible duplication, or teams that must agree who leads). ``show`` narrows the tree to the
capabilities that are ``unserved`` or ``duplicated`` (with the path down to each kept, so the tree
still reads). The data is the scorer's (``ScoringReads.capability_tree``), the same that the
``capability_without_product`` gap and ``GET /api/insights/capability-overlap`` come from.
"""

from __future__ import annotations

from typing import Any

from catalog_sync.errors import QueryError
from plugin_api.portal.blueprint import blp
from plugin_api.portal.common import render, text_arg
from plugin_api.portal.refs import prime_refs
from plugin_api.state import connection, state

VIEWS = ("all", "unserved", "duplicated")


@blp.route("/capabilities", methods=["GET"])
def capabilities() -> str:
    """The capability tree."""
    show = text_arg("show") or "all"
    if show not in VIEWS:
        raise QueryError("show", f"{show[:60]!r} is not a view of the capabilities ({', '.join(VIEWS)})")
    nodes = state().scoring.capability_tree(connection())
    prime_refs(
        [node["entityRef"] for node in nodes]
        + [item["entityRef"] for node in nodes for item in node["products"]]
        + [team for node in nodes for team in node["teams"]]
    )
    kept = _kept(nodes, show)
    return render(
        "capabilities.html",
        roots=_tree([node for node in nodes if node["entityRef"] in kept]),
        show=show,
        views=VIEWS,
        total=len(nodes),
        unserved=sum(1 for node in nodes if node["unserved"]),
        duplicated=sum(1 for node in nodes if node["duplicated"]),
        shown=sum(1 for node in nodes if _matches(node, show)),
    )


def _matches(node: dict[str, Any], show: str) -> bool:
    return show == "all" or bool(node[show])


def _kept(nodes: list[dict[str, Any]], show: str) -> set[str]:
    """The capabilities to draw: those that match, and their ancestors so the tree holds together."""
    parents = {node["entityRef"]: node["parent"] for node in nodes}
    kept: set[str] = set()
    for node in nodes:
        if _matches(node, show):
            at: str | None = node["entityRef"]
            while at is not None and at not in kept:
                kept.add(at)
                at = parents.get(at)
    return kept


def _tree(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Nested ``children`` from the flat list, which comes parents first."""
    by_ref = {node["entityRef"]: {**node, "children": []} for node in nodes}
    roots = []
    for node in nodes:
        parent = node["parent"]
        if parent in by_ref and node["depth"] > 0:
            by_ref[parent]["children"].append(by_ref[node["entityRef"]])
        else:
            roots.append(by_ref[node["entityRef"]])
    return roots
