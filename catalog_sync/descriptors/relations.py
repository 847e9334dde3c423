"""The relations an entity's own spec produces, so nobody ever writes a relation by hand.

Only the *forward* edge is derived here (``product:pay ownedBy team:pay``); the store adds each
inverse with ``Relation.inverse()``, so every relation appears on both ends as Backstage shows them.

Which kind a bare name means: a ref field has a default kind (``owner`` means team for our kinds,
group for Backstage's; ``capabilities`` means capability; ...). The product model and Backstage name
the same ideas twice (a Group is a team, a Domain is a capability), so when ``resolve`` is given and
no entity of the default kind has that name but one of its counterpart kind does, the counterpart is
used: ``owner: payments`` is ``team:payments``, or ``group:payments`` when only that Group exists.
A ref that names its kind (``group:payments``) is always taken as written. Refs default to the
entity's own namespace, as in Backstage.

A Team's ``spec.members`` are user names with a role; each name makes a ``hasMember`` edge to
``user:<namespace>/<name>`` (so a User entity of that name shows ``memberOf`` the team). A member
name that is not a valid entity name (a display name such as "Ann Lee") makes no edge.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable
from typing import Any

from catalog_sync.errors import RefError
from catalog_sync.model import Entity, EntityRef, Relation, is_valid_name

Resolve = Callable[[EntityRef], bool]

COUNTERPARTS = {"team": "group", "group": "team", "capability": "domain", "domain": "capability"}
"""Kinds that stand for the same idea in the product model and in Backstage."""

_OWNER_DEFAULT = {"product": "team", "capability": "team", "initiative": "team"}
# kind -> (relation type, spec field, default kind of the refs in that field)
_RULES: dict[str, tuple[tuple[str, str, str | None], ...]] = {
    "product": (("partOf", "capabilities", "capability"), ("dependsOn", "dependsOn", "product")),
    "capability": (("partOf", "parent", "capability"),),
    "team": (("childOf", "parent", "team"),),
    "component": (
        ("partOf", "system", "system"),
        ("partOf", "subcomponentOf", "component"),
        ("providesApi", "providesApis", "api"),
        ("consumesApi", "consumesApis", "api"),
        ("dependsOn", "dependsOn", None),
        ("dependencyOf", "dependencyOf", None),
    ),
    "api": (("partOf", "system", "system"),),
    "resource": (
        ("partOf", "system", "system"),
        ("dependsOn", "dependsOn", None),
        ("dependencyOf", "dependencyOf", None),
    ),
    "system": (("partOf", "domain", "domain"),),
    "domain": (("partOf", "subdomainOf", "domain"),),
    "group": (
        ("childOf", "parent", "group"),
        ("parentOf", "children", "group"),
        ("hasMember", "members", "user"),
    ),
    "user": (("memberOf", "memberOf", "group"),),
}
_OWNABLE = ("product", "capability", "initiative", "component", "api", "resource", "system", "domain")
_ABSOLUTE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*:|/)")


def resolve_ref(
    text: str, default_kind: str | None, namespace: str, resolve: Resolve | None = None
) -> EntityRef:
    """One ref as written in a spec, its kind and namespace filled in (raises RefError if malformed)."""
    ref = EntityRef.parse(text, default_kind=default_kind, default_namespace=namespace)
    if resolve is None or ":" in text or default_kind is None or default_kind not in COUNTERPARTS:
        return ref
    if resolve(ref):
        return ref
    other = EntityRef(COUNTERPARTS[default_kind], ref.namespace, ref.name)
    return other if resolve(other) else ref


def _values(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return (item for item in value if isinstance(item, str))
    return ()


def derive_relations(entity: Entity, resolve: Resolve | None = None) -> list[Relation]:
    """The forward relations of one entity, in spec order, without duplicates."""
    kind = entity.kind.lower()
    spec = entity.spec if isinstance(entity.spec, dict) else {}
    source, namespace = entity.ref, entity.namespace
    out: dict[Relation, None] = {}

    def add(relation_type: str, texts: Iterable[str], default_kind: str | None) -> None:
        for text in texts:
            try:
                target = resolve_ref(text, default_kind, namespace, resolve)
            except RefError:
                continue
            out.setdefault(Relation(relation_type, source, target))

    if kind in _OWNABLE:
        add("ownedBy", _values(spec.get("owner")), _OWNER_DEFAULT.get(kind, "group"))
    for relation_type, field, default_kind in _RULES.get(kind, ()):
        add(relation_type, _values(spec.get(field)), default_kind)
    if kind == "team":
        members = spec.get("members")
        for member in members if isinstance(members, list) else []:
            name = member.get("name") if isinstance(member, dict) else None
            try:
                target = resolve_ref(name, "user", namespace) if isinstance(name, str) else None
            except RefError:
                continue
            if target is not None and is_valid_name(target.name):
                out.setdefault(Relation("hasMember", source, target))
    return list(out)


def spec_ref_fields(entity: Entity) -> list[tuple[tuple[str | int, ...], str, str | None]]:
    """Every ref the entity's spec writes, as ``(field path, text, default kind)``, in spec order: the
    same fields ``derive_relations`` reads, so a check of the refs against a catalog sees what the
    relations will point at. A Team's member names are people, not refs, and are left out."""
    kind = entity.kind.lower()
    spec = entity.spec if isinstance(entity.spec, dict) else {}
    fields: list[tuple[str, str | None]] = []
    if kind in _OWNABLE:
        fields.append(("owner", _OWNER_DEFAULT.get(kind, "group")))
    fields.extend((field, default_kind) for _, field, default_kind in _RULES.get(kind, ()))
    found: list[tuple[tuple[str | int, ...], str, str | None]] = []
    for field, default_kind in fields:
        value = spec.get(field)
        if isinstance(value, str):
            found.append((("spec", field), value, default_kind))
        elif isinstance(value, list):
            found.extend(
                (("spec", field, index), item, default_kind)
                for index, item in enumerate(value)
                if isinstance(item, str)
            )
    return found


def location_targets(entity: Entity) -> list[str]:
    """The relative targets of a Location, as written; absolute URLs and paths are never fetched.

    The caller resolves each against the Location file's folder and refuses one that leaves the
    repository.
    """
    if entity.kind.lower() != "location":
        return []
    spec = entity.spec if isinstance(entity.spec, dict) else {}
    targets = [*_values(spec.get("target")), *_values(spec.get("targets"))]
    return [target for target in dict.fromkeys(targets) if target.strip() and not _ABSOLUTE.match(target)]


def resolve_location_target(origin: str, target: str) -> str | None:
    """The repository path (or glob) a Location's ``target`` names, resolved against the folder of the
    Location's file ``origin``; None for a URL, an absolute path or a path leaving the repository,
    which are never read. One rule for every reader of a repository (the scan, the github API read,
    the history check), so none reads a file another refuses."""
    text = target.strip()
    if _ABSOLUTE.match(text):
        return None
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(origin), text))
    if resolved == ".." or resolved.startswith("../"):
        return None
    return resolved
