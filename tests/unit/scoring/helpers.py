"""Contexts built by hand, so rules, levels and gaps can be tested without a database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from catalog_sync.scoring.resolve import Context, Owner, TeamInfo
from catalog_sync.scoring.view import Edge, Meta, Reads

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def context(
    body: dict[str, Any] | None = None,
    *,
    kind: str = "product",
    owner: Owner | None = None,
    team: TeamInfo | None = None,
    own_team: TeamInfo | None = None,
    capabilities: list[str] | None = None,
    served_by: str | None = None,
    facts: dict[str, Any] | None = None,
    edges: dict[str, list[Edge]] | None = None,
    orphaned: bool = False,
    changed: datetime | None = None,
) -> Context:
    """A resolved context of an entity ``kind:default/x``."""
    meta = Meta(1, f"{kind}:default/x", kind, "etag", orphaned, 7, "catalog-info.yaml", changed)
    envelope = {"apiVersion": "catalog/v1", "kind": kind.title(), "metadata": {"name": "x"}, "spec": {}}
    envelope.update(body or {})
    return Context(
        meta,
        envelope,
        Reads(),
        edges or {},
        owner=owner,
        team=team,
        own_team=own_team,
        capabilities=capabilities,
        served_by=served_by,
        facts=facts,
    )


def team(key: str = "team:default/pay", roles: dict[str, int] | None = None, members: int = 3) -> TeamInfo:
    """A team with ``members`` people and the given role counts."""
    people = frozenset(f"user:default/p{i}" for i in range(members))
    declared = roles if roles is not None else {"product-owner": 1, "developer": 1, "operations": 1}
    return TeamInfo(key, key.partition(":")[0], people, declared, bool(declared))
