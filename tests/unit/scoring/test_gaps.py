"""The ownership gaps of one entity, judged from its context: each type, and none falsely."""

from __future__ import annotations

from catalog_sync.scoring.gaps import entity_gaps
from catalog_sync.scoring.resolve import Owner, TeamInfo
from tests.unit.scoring.helpers import context, team

ROLES = ("product-owner", "developer", "operations")


def gap_types(ctx: object) -> list[str]:
    return [gap.type for gap in entity_gaps(ctx, "x", ROLES)]  # type: ignore[arg-type]


def test_owner_gaps_exclude_each_other() -> None:
    aligned = ["capability:default/c"]
    assert gap_types(context(owner=Owner("team", "team:default/t"), capabilities=aligned)) == []
    assert gap_types(context(owner=Owner("missing"), capabilities=aligned)) == ["missing_owner"]
    assert gap_types(context(owner=Owner("unknown", "team:default/t"), capabilities=aligned)) == [
        "unknown_owner"
    ]
    individual = context(owner=Owner("individual", "user:default/ada"), capabilities=aligned)
    assert gap_types(individual) == ["individual_owner"]
    assert gap_types(context(owner=Owner("orphaned", "team:default/t"), capabilities=aligned)) == [
        "orphaned_owner"
    ]


def test_products_and_capabilities() -> None:
    owner = Owner("team", "team:default/t")
    assert gap_types(context(owner=owner, capabilities=[])) == ["product_without_capability"]
    assert gap_types(context(kind="api", owner=owner, capabilities=[])) == []  # only products and components
    assert gap_types(context(kind="capability", owner=owner)) == ["capability_without_product"]
    served = context(kind="domain", owner=owner, served_by="component:default/shop")
    assert gap_types(served) == []


def test_team_gaps_only_where_roles_are_known() -> None:
    assert gap_types(context(kind="team", own_team=team("team:default/x", members=0))) == [
        "team_without_members"
    ]
    lacking = context(kind="team", own_team=team("team:default/x", roles={"developer": 2}))
    gaps = entity_gaps(lacking, "team:default/x", ROLES)
    assert [(g.type, g.owner) for g in gaps] == [("team_missing_roles", "team:default/x")]
    assert gaps[0].detail.startswith("no member in the roles product-owner, operations")
    users_only = TeamInfo("team:default/x", "team", frozenset({"user:default/ada"}), {}, False)
    assert gap_types(context(kind="team", own_team=users_only)) == []
    group = TeamInfo("group:default/web", "group", frozenset({"user:default/ada"}), {}, False)
    assert gap_types(context(kind="group", own_team=group)) == []


def test_an_orphan_has_only_the_orphan_gap_and_its_tier() -> None:
    orphan = context({"spec": {"tier": 1}}, owner=Owner("missing"), capabilities=[], orphaned=True)
    gaps = entity_gaps(orphan, "product:default/x", ROLES)
    assert [(g.type, g.tier) for g in gaps] == [("orphaned_entity", "1")]
    assert "catalog-info.yaml" in gaps[0].detail
