"""Ownership gaps (SPEC section 5): what an entity or a repository lacks for someone to answer for it.

Judged from an entity's resolved context (see ``resolve`` for owners, members and capabilities).
Decisions beyond the table of the SPEC, each made so that no gap is reported twice or falsely:

- An **orphan** (its descriptor is gone, the entity kept) has the one gap ``orphaned_entity``; the
  other gaps of something nobody describes any more are noise. The entities an orphaned team owns
  have ``orphaned_owner``.
- The owner gaps exclude each other: ``missing_owner`` (no ``spec.owner``), else ``individual_owner``
  (a ``user:`` owner, described or not), else ``unknown_owner`` (no live Team or Group of that ref,
  nor of its counterpart kind for a bare name), else ``orphaned_owner``.
- ``team_without_members``: a Team or Group with no member at all (neither listed in ``spec.members``
  nor a User whose ``memberOf`` names it). Such a team has no ``team_missing_roles`` gap too.
- ``team_missing_roles`` is judged only for a team that *declares roles*: a Team with at least one
  member whose ``role`` is given. Backstage Groups, and Teams whose members are only Users with
  ``memberOf``, carry no role information; saying they lack every role would be false.
- ``product_without_capability``: a Product or Component with no *live* capability (an orphaned or
  missing capability does not count; a Component's is the domain of its system).
- ``capability_without_product``: a Capability or Domain that no live Product or Component serves,
  directly or through a capability, domain or system below it.
- ``repository_without_descriptor``: a repository read successfully at least once in which no file
  matches ``descriptors.patterns``; removed repositories are not counted.

Each gap carries ``owner`` (the ref of whoever should act: the entity's owner, or the team itself
for team gaps) and ``tier`` (the entity's ``spec.tier``, ``none`` when unset) for filtering and for
the ``catalog_ownership_gaps{type, tier}`` metric.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from catalog_sync.scoring.resolve import CAPABILITY_KINDS, OWNABLE_KINDS, SERVING_KINDS, TEAM_KINDS, Context
from catalog_sync.store.scoring.types import GAP_TYPES as GAP_TYPES
from catalog_sync.store.scoring.types import Gap as Gap


def tier_of(context: Context) -> str:
    """``spec.tier`` as a label value, ``none`` when unset or not 1-4."""
    tier = context.spec.get("tier")
    if isinstance(tier, int) and not isinstance(tier, bool) and 1 <= tier <= 4:
        return str(tier)
    return "none"


def entity_gaps(context: Context, ref: str, required_roles: Sequence[str]) -> list[Gap]:
    """Every gap of one entity."""
    meta = context.meta
    kind = meta.kind
    tier = tier_of(context)
    owner = context.owner
    owner_key = owner.key if owner is not None else None
    own_team = meta.key if kind in TEAM_KINDS else None

    def gap(gap_type: str, detail: str, who: str | None = owner_key) -> Gap:
        return Gap(gap_type, ref, kind, who, tier, detail)

    if meta.orphaned:
        where = f" ({meta.path})" if meta.path else ""
        detail = (
            f"its descriptor{where} is gone from its repository; it is kept until it is deleted "
            "or the descriptor is restored"
        )
        return [gap("orphaned_entity", detail, owner_key or own_team)]
    found: list[Gap] = []
    if kind in OWNABLE_KINDS and owner is not None:
        found += _owner_gaps(owner.status, owner_key, owner.written, gap)
    if kind in TEAM_KINDS and context.own_team is not None:
        team = context.own_team
        if not team.members:
            found.append(gap("team_without_members", _NO_MEMBERS, own_team))
        elif team.declares_roles:
            missing = [role for role in required_roles if team.roles.get(role, 0) == 0]
            if missing:
                detail = (
                    f"no member in the role{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                    "(ownership.required_team_roles): staff the role or change the required roles"
                )
                found.append(gap("team_missing_roles", detail, own_team))
    if kind in SERVING_KINDS and not context.capabilities:
        hint = (
            "add spec.capabilities naming a Capability of the catalog"
            if kind == "product"
            else "set spec.system to a System whose spec.domain is a Domain of the catalog"
        )
        found.append(gap("product_without_capability", f"aligned with no capability: {hint}"))
    if kind in CAPABILITY_KINDS and context.served_by is None:
        detail = (
            "no Product or Component is aligned with it, nor with anything below it: "
            "align a product or retire the capability"
        )
        found.append(gap("capability_without_product", detail))
    return found


_NO_MEMBERS = "lists no members and no User is a member of it: list the people in spec.members"


def _owner_gaps(status: str, key: str | None, written: str | None, gap: Callable[..., Gap]) -> list[Gap]:
    if status == "missing":
        return [gap("missing_owner", "no spec.owner: name the team responsible end to end", None)]
    if status == "individual":
        return [gap("individual_owner", f"owned by {key}, a person rather than a team: hand it to a team")]
    if status == "unknown":
        named = key or written
        return [gap("unknown_owner", f"owner {named} is not a Team or Group in the catalog")]
    if status == "orphaned":
        detail = f"owner {key} is an orphan (its descriptor is gone): restore the team or choose a new owner"
        return [gap("orphaned_owner", detail)]
    return []


def repository_gap(name: str, url: str) -> Gap:
    """The gap of a scanned repository that holds no descriptor."""
    detail = f"no descriptor in {url}: add a catalog-info.yaml at its root (catalog-sync init writes one)"
    return Gap("repository_without_descriptor", None, None, None, "none", detail)
