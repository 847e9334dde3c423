"""What an entity's scorecards and gaps are judged on: its owner, the owner's team, its capabilities.

Judgements made here, once, so that scorecards, gaps, insights and the API agree:

- **Owner.** ``spec.owner`` as the stored ``ownedBy`` relation names it. A bare name was resolved to a
  Team or a Group when the entity was written; if that one does not exist (any more) but its
  counterpart does (``team:x`` missing, ``group:x`` present), the counterpart is the owner. An owner
  written with a kind (``group:x``) is taken as written. The owner is then *a team* (a live Team or
  Group), *an individual* (a User, whether described or not), *orphaned* (a Team or Group whose
  descriptor is gone), or *unknown* (nothing of that name, or a kind that cannot own).
- **Members of a team.** The names in its ``spec.members`` (a Team's ``{name, role}``, a Group's user
  names) and every User whose ``memberOf`` names it, counted once each. Roles come only from a Team's
  ``spec.members``; a Team *declares roles* when at least one member has a role. Backstage's Users and
  Groups carry no roles, so a Group never declares roles.
- **Capabilities of an entity.** Live (not orphaned) Capabilities or Domains it is ``partOf``,
  directly (a Product's ``spec.capabilities``) or through a live System (a Component's, API's or
  Resource's ``spec.system``, whose ``spec.domain`` is the capability); a System's own domain counts
  for the System. Capabilities and Domains themselves are not aligned with anything.
- **A capability is served** when a live Product or Component is aligned with it, or with a
  Capability, Domain or System below it (its ``hasPart`` tree): a parent capability whose children
  are served is served.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from catalog_sync.descriptors.relations import COUNTERPARTS
from catalog_sync.errors import RefError
from catalog_sync.model import KINDS, EntityRef
from catalog_sync.scoring.view import CatalogView, Edge, Meta, Missing, Need, Reads, kind_of

OWNER_KINDS = frozenset({"team", "group"})
CAPABILITY_KINDS = frozenset(key for key, info in KINDS.items() if info.capability_like)
SERVING_KINDS = frozenset(key for key, info in KINDS.items() if info.product_like)
ALIGNABLE_KINDS = SERVING_KINDS | {"api", "resource", "system"}
OWNABLE_KINDS = frozenset(key for key, info in KINDS.items() if info.ownable)
TEAM_KINDS = frozenset(key for key, info in KINDS.items() if info.team_like)

T = TypeVar("T")


@dataclass(frozen=True)
class Owner:
    """Who owns an entity: ``status`` is missing, team, individual, orphaned or unknown."""

    status: str
    key: str | None = None
    written: str | None = None


@dataclass(frozen=True)
class TeamInfo:
    """A team's members (user keys) and how many of them hold each role."""

    key: str
    kind: str
    members: frozenset[str]
    roles: Mapping[str, int]
    declares_roles: bool
    roles_by_member: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass
class Context:
    """Everything the rules and gaps of one entity need, resolved once.

    ``team`` is the owning team (for the ``ownerTeam*`` rules), ``own_team`` the entity itself when
    it is a Team or Group (for the team gaps).
    """

    meta: Meta
    body: dict[str, Any]
    reads: Reads
    edges: dict[str, list[Edge]]
    """The entity's own relations, by type, for the types its rules look at."""
    owner: Owner | None = None
    team: TeamInfo | None = None
    own_team: TeamInfo | None = None
    capabilities: list[str] | None = None
    served_by: str | None = None
    facts: dict[str, Any] | None = None
    kpis: dict[str, tuple[float | None, str | None]] | None = None
    """The entity's stored KPI values by id (the ``kpi`` rule)."""

    @property
    def spec(self) -> dict[str, Any]:
        """The entity's spec (an empty mapping when it has none)."""
        spec = self.body.get("spec")
        return spec if isinstance(spec, dict) else {}


@dataclass(frozen=True)
class Wants:
    """Which parts of a context the rules applying to an entity will look at."""

    owner: bool = False
    team: bool = False
    capabilities: bool = False
    served: bool = False
    facts: bool = False
    kpis: bool = False
    relations: frozenset[str] = frozenset()


def wants_for(kind: str, forms: frozenset[str], relation_types: frozenset[str] = frozenset()) -> Wants:
    """What to resolve for an entity of ``kind`` judged by checks of ``forms`` (and by the gaps)."""
    owner_forms = {"ownerResolves", "ownerTeamHasRoles", "ownerTeamMinMembers", "plugin"}
    owner = kind in OWNABLE_KINDS or bool(forms & owner_forms)
    capabilities = kind in ALIGNABLE_KINDS
    return Wants(
        owner=owner,
        team=bool(forms & {"ownerTeamHasRoles", "ownerTeamMinMembers"}),
        capabilities=capabilities,
        served=kind in CAPABILITY_KINDS,
        facts=bool(forms & {"repoFile", "repoCommitWithinDays", "plugin"}),
        kpis="kpi" in forms,
        relations=relation_types
        | ({"ownedBy"} if owner else set())
        | ({"partOf"} if capabilities else set()),
    )


def resolve_context(view: CatalogView, key: str, wants: Wants) -> Context:
    """Resolve one entity's context; raises ``Missing`` naming everything still to load."""
    reads = Reads()
    meta = view.meta(key, reads)
    body = view.body(key, reads)
    if meta is None or body is None:
        raise LookupError(f"{key} is not in the catalog")
    view.require(edges=[(key, relation_type) for relation_type in wants.relations])
    edges = {relation_type: view.edges_of(key, relation_type, reads) for relation_type in wants.relations}
    context = Context(meta, body, reads, edges)
    need = Need()

    def attempt(step: Callable[[], T]) -> T | None:
        try:
            return step()
        except Missing as missing:
            need.merge(missing.need)
            return None

    if wants.owner:
        context.owner = attempt(lambda: resolve_owner(view, context, prefetch_team=wants.team))
        owner = context.owner
        if wants.team and owner is not None and owner.status == "team" and owner.key:
            owner_key = owner.key
            context.team = attempt(lambda: team_of(view, owner_key, reads))
    if meta.kind in TEAM_KINDS:
        context.own_team = attempt(lambda: team_of(view, key, reads))
    if wants.capabilities:
        context.capabilities = attempt(lambda: aligned_capabilities(view, meta, reads))
    if wants.served:
        context.served_by = attempt(lambda: served_by(view, meta, reads))
    if wants.facts:
        context.facts = attempt(lambda: view.facts(meta.repository_id, reads))
    if wants.kpis:
        context.kpis = attempt(lambda: view.kpis(key, reads))
    if need:
        raise Missing(need)
    return context


def counterpart(key: str) -> str | None:
    """``team:ns/x`` <-> ``group:ns/x``, ``capability:ns/x`` <-> ``domain:ns/x``; None for other kinds."""
    kind, _, rest = key.partition(":")
    other = COUNTERPARTS.get(kind)
    return f"{other}:{rest}" if other else None


def resolve_owner(view: CatalogView, context: Context, *, prefetch_team: bool = False) -> Owner:
    """Who owns the entity (see the module doc for the rules)."""
    written = context.spec.get("owner")
    if not isinstance(written, str) or not written.strip():
        return Owner("missing")
    targets = [edge.target for edge in context.edges.get("ownedBy", [])]
    if not targets:
        return Owner("unknown", None, written)
    key = targets[0]
    explicit = ":" in written
    alias = counterpart(key) if not explicit and kind_of(key) in OWNER_KINDS else None
    candidates = [key] + ([alias] if alias else [])
    teams = [k for k in candidates if kind_of(k) in OWNER_KINDS]
    view.require(
        metas=candidates,
        bodies=teams if prefetch_team else (),
        edges=[(k, "hasMember") for k in teams] if prefetch_team else (),
    )
    found = view.meta(key, context.reads)
    if found is None and alias is not None:
        other = view.meta(alias, context.reads)
        if other is not None:
            key, found = alias, other
    if kind_of(key) == "user":
        return Owner("individual", key, written)
    if found is None or found.kind not in OWNER_KINDS:
        return Owner("unknown", key, written)
    if found.orphaned:
        return Owner("orphaned", key, written)
    return Owner("team", key, written)


def _user_key(name: str, namespace: str) -> str:
    try:
        return EntityRef.parse(name, default_kind="user", default_namespace=namespace).key
    except RefError:
        return f"user:{namespace}/{name}".lower()


def team_of(view: CatalogView, key: str, reads: Reads) -> TeamInfo | None:
    """``team_info``, computed once per team and view."""
    return view.remember("team", key, reads, lambda own: team_info(view, key, own))


def speculate(view: CatalogView, key: str, wants: Wants) -> Need:
    """What resolving ``key`` will most likely ask for next, from what is loaded now.

    Loading it before the first attempt saves rounds: the owner's team, the capabilities and
    systems named by the entity's relations, its repository, its ``hasPart`` summary.
    """
    need = Need()
    meta = view.metas.get(key)
    if meta is None:
        return need
    by_type = view.edges.get(key, {})
    for relation_type in ("ownedBy", "partOf"):
        for edge in by_type.get(relation_type, []):
            candidates = [edge.target, *filter(None, [counterpart(edge.target)])]
            need.metas.update(candidates)
            kind = kind_of(edge.target)
            if relation_type == "ownedBy" and wants.team and kind in OWNER_KINDS:
                need.bodies.update(candidates)
                need.edges.update((c, "hasMember") for c in candidates)
            if relation_type == "partOf" and kind == "system":
                need.edges.add((edge.target, "partOf"))
    if meta.kind in TEAM_KINDS:
        need.bodies.add(key)
        need.edges.add((key, "hasMember"))
    if wants.served:
        need.parts.add(key)
    if wants.facts and meta.repository_id is not None:
        need.repositories.add(meta.repository_id)
    if wants.kpis:
        need.kpis.add(key)
    return need


def team_info(view: CatalogView, key: str, reads: Reads) -> TeamInfo | None:
    """A team's members and roles; None when ``key`` is not a team in the catalog."""
    view.require(bodies=[key], edges=[(key, "hasMember")])
    meta = view.meta(key, reads)
    body = view.body(key, reads)
    if meta is None or body is None or meta.kind not in TEAM_KINDS:
        return None
    raw_spec = body.get("spec")
    spec: dict[str, Any] = raw_spec if isinstance(raw_spec, dict) else {}
    namespace = key.partition(":")[2].partition("/")[0]
    members: set[str] = set()
    roles: Counter[str] = Counter()
    by_member: dict[str, list[str]] = {}
    declares = False
    listed = spec.get("members")
    for item in listed if isinstance(listed, list) else []:
        name = item.get("name") if isinstance(item, dict) else item
        if not isinstance(name, str) or not name.strip():
            continue
        member = _user_key(name.strip(), namespace)
        members.add(member)
        role = item.get("role") if isinstance(item, dict) and meta.kind == "team" else None
        if isinstance(role, str) and role.strip():
            declares = True
            if role not in by_member.setdefault(member, []):
                by_member[member].append(role)
                roles[role] += 1
    members.update(edge.target for edge in view.edges_of(key, "hasMember", reads))
    return TeamInfo(
        key, meta.kind, frozenset(members), dict(roles), declares, {m: tuple(r) for m, r in by_member.items()}
    )


def aligned_capabilities(view: CatalogView, meta: Meta, reads: Reads) -> list[str] | None:
    """The live capabilities the entity serves; None for kinds that are not aligned with capabilities."""
    if meta.kind not in ALIGNABLE_KINDS:
        return None
    targets = [edge.target for edge in view.edges_of(meta.key, "partOf", reads)]
    capabilities = [t for t in targets if kind_of(t) in CAPABILITY_KINDS]
    systems = [t for t in targets if kind_of(t) == "system"] if meta.kind != "system" else []
    aliases = [a for a in map(counterpart, capabilities) if a]
    view.require(metas=[*capabilities, *aliases, *systems], edges=[(s, "partOf") for s in systems])
    for system in systems:
        if view.live(system, reads) is not None:
            capabilities += [
                edge.target
                for edge in view.edges_of(system, "partOf", reads)
                if kind_of(edge.target) in CAPABILITY_KINDS
            ]
    found: list[str] = []
    for capability in dict.fromkeys(capabilities):
        live = _live_or_alias(view, capability, reads)
        if live is not None and live not in found:
            found.append(live)
    return found


def _live_or_alias(view: CatalogView, key: str, reads: Reads) -> str | None:
    """``key`` when it is live; else its counterpart when only that exists (a stale bare ref)."""
    alias = counterpart(key)
    view.require(metas=[key, *([alias] if alias else [])])
    meta = view.meta(key, reads)
    if meta is not None:
        return None if meta.orphaned else key
    if alias is not None and view.live(alias, reads) is not None:
        return alias
    return None


def served_by(view: CatalogView, meta: Meta, reads: Reads) -> str | None:
    """A live Product or Component aligned with this capability or anything below it; None if none."""
    visited = {meta.key}
    frontier = [meta.key]
    while frontier:
        aliases = [a for a in map(counterpart, frontier) if a]
        view.require(metas=aliases)
        lists = list(frontier) + [a for a in aliases if view.meta(a, reads) is None]
        view.require(parts=lists)
        summaries = [view.parts_of(key, reads) for key in lists]
        for summary in summaries:
            if summary.serving is not None:
                return summary.serving
        groups = [g for summary in summaries for g in summary.groups if g not in visited]
        visited.update(groups)
        view.require(metas=groups)
        frontier = [g for g in dict.fromkeys(groups) if view.live(g, reads) is not None]
    return None


__all__ = [
    "ALIGNABLE_KINDS",
    "CAPABILITY_KINDS",
    "OWNABLE_KINDS",
    "SERVING_KINDS",
    "TEAM_KINDS",
    "Context",
    "Owner",
    "TeamInfo",
    "Wants",
    "resolve_context",
    "wants_for",
]
