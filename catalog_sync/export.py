"""The whole catalog as Backstage entities, for ``GET /api/export/backstage`` and ``catalog-sync export``.

An organisation moving to (or mirroring into) a Backstage catalog should not have to rewrite its
descriptors: the export is multi-document YAML that Backstage's own validators accept, entity by
entity. Our kinds become Backstage's (Product -> Component, Team -> Group plus one User per member,
Capability -> Domain); what Backstage has no field for is kept in ``catalog-sync.io/*`` annotations;
an entity without an owner is owned by a placeholder Group ``unowned`` so the gap stays visible
instead of making Backstage refuse the entity. ``descriptors/EXPORT.md`` documents every rule.

Products, Components and the rest are streamed from the store (``CatalogReads.iter_documents``) in
chunks, so memory grows with the size of the organisation (teams, groups, users), not with the number
of entities. This module holds the mapping only; it runs no SQL.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import yaml

from catalog_sync.export_mapping import (
    PLACEHOLDER_OWNER,
    add_links,
    annotate,
    backstage_passthrough,
    capability_to_domain,
    clean_metadata,
    contact_links,
    envelope,
    export_ref,
    member_user,
    product_to_component,
)
from catalog_sync.store.base import Transaction
from catalog_sync.store.catalog_store import CatalogReads

ORG_KINDS = ("team", "group", "user")
"""Kinds read in full before anything else: groups need their children, users their memberships."""

SKIPPED_KINDS = ("location", "scorecard")
"""Kinds left out: a Location points at files (it is input, not content); Backstage has no Scorecard."""


def _key(entity: Mapping[str, Any]) -> str:
    """The exported entity's ref key, lower-cased as the catalog compares refs."""
    metadata = entity["metadata"]
    return f"{entity['kind']}:{metadata.get('namespace') or 'default'}/{metadata['name']}".lower()


def _ref(entity: Mapping[str, Any]) -> str:
    """The exported entity's ref as written in another entity's spec."""
    metadata = entity["metadata"]
    return f"{str(entity['kind']).lower()}:{metadata['namespace']}/{metadata['name']}"


class BackstageExporter:
    """Converts entities one at a time, knowing the organisation they refer to.

    Built from the catalog's Teams, Groups and Users (and the keys of its Backstage Components and
    Domains, which win over a Product or Capability of the same name); then ``convert`` takes every
    other entity, in any order and any number, and ``placeholder`` tells whether ``unowned`` was used.
    """

    def __init__(self, org: Iterable[Mapping[str, Any]], backstage_keys: Iterable[str] = ()) -> None:
        self.backstage_keys = {key.lower() for key in backstage_keys}
        self.skipped: Counter[str] = Counter()
        self._placeholder_used = False
        self._groups: dict[str, dict[str, Any]] = {}
        self._users: dict[str, dict[str, Any]] = {}
        self._from_teams: set[str] = set()
        self._build(list(org))

    def owner(self, ref: Any) -> str:
        """The owner ref to export: as given, or the placeholder when the entity names none."""
        if isinstance(ref, str) and ref.strip():
            return ref
        self._placeholder_used = True
        return PLACEHOLDER_OWNER

    def organisation(self) -> list[dict[str, Any]]:
        """Every Group (from Teams and Groups) and every User (stored, or made from team members)."""
        return [*self._groups.values(), *self._users.values()]

    def convert(self, body: Mapping[str, Any]) -> dict[str, Any] | None:
        """One entity that is not a Team, Group or User as its Backstage entity; None when left out."""
        kind = str(body.get("kind", "")).lower()
        if kind in SKIPPED_KINDS or kind in ORG_KINDS:
            return None
        if kind == "product":
            entity = product_to_component(body, self.owner)
        elif kind == "capability":
            entity = capability_to_domain(body, self.owner)
        elif kind in ("component", "api", "resource", "system", "domain"):
            return backstage_passthrough(body, self.owner)
        else:
            self.skipped[f"unknown kind {body.get('kind')}"] += 1
            return None
        if _key(entity) in self.backstage_keys:
            self.skipped[f"{kind} named like a Backstage {entity['kind']}"] += 1
            return None
        return entity

    def placeholder(self) -> dict[str, Any] | None:
        """The ``unowned`` Group, when some entity needed it and the catalog has no group of that name."""
        if not self._placeholder_used or PLACEHOLDER_OWNER in self._groups:
            return None
        metadata = {
            "name": "unowned",
            "namespace": "default",
            "title": "Unowned",
            "description": (
                "Not a real team: the owner given to every entity whose descriptor names no owner, because "
                "Backstage requires one. Each entity it owns is an ownership gap to fix in its descriptor."
            ),
            "annotations": {"catalog-sync.io/placeholder": "true"},
        }
        return envelope("group", metadata, {"type": "placeholder", "children": []})

    def _build(self, org: list[Mapping[str, Any]]) -> None:
        by_kind: dict[str, list[Mapping[str, Any]]] = {"team": [], "group": [], "user": []}
        for body in org:
            by_kind.setdefault(str(body.get("kind", "")).lower(), []).append(body)
        for body in by_kind["group"]:
            group = backstage_passthrough(body, self.owner)
            self._groups[_key(group)] = group
        teams: list[tuple[Mapping[str, Any], dict[str, Any]]] = []
        for body in by_kind["team"]:
            group = _team_to_group(body)
            key = _key(group)
            if key in self._groups:
                self.skipped["team named like a Backstage Group"] += 1
                continue
            self._groups[key] = group
            self._from_teams.add(key)
            teams.append((body, group))
        for body in by_kind["user"]:
            user = backstage_passthrough(body, self.owner)
            self._users[_key(user)] = user
        for body, group in teams:
            self._add_members(body, group)
        for group in self._groups.values():
            parent = group["spec"].get("parent")
            target = self._groups.get(parent.lower()) if isinstance(parent, str) else None
            if target is not None and _key(target) in self._from_teams:
                target["spec"]["children"].append(_ref(group))

    def _add_members(self, team: Mapping[str, Any], group: dict[str, Any]) -> None:
        """Users for a team's members, the group's ``spec.members`` and its roles annotation."""
        namespace = group["metadata"]["namespace"]
        group_ref = _ref(group)
        members: list[str] = []
        roles: dict[str, list[str]] = {}
        for member in (team.get("spec") or {}).get("members") or []:
            name = member.get("name") if isinstance(member, Mapping) else None
            if not isinstance(name, str) or not name.strip():
                continue
            user_namespace, user_name = member_user(name, namespace)
            key = f"user:{user_namespace}/{user_name}".lower()
            user = self._users.get(key)
            if user is None:
                user = _new_user(user_namespace, user_name, name)
                self._users[key] = user
            member_of = user["spec"].setdefault("memberOf", [])
            if group_ref.lower() not in {ref.lower() for ref in member_of}:
                member_of.append(group_ref)
            ref = _ref(user)
            if ref not in members:
                members.append(ref)
            role = member.get("role")
            if isinstance(role, str) and role:
                holders = roles.setdefault(role, [])
                if user["metadata"]["name"] not in holders:
                    holders.append(user["metadata"]["name"])
        if members:
            group["spec"]["members"] = members
        annotate(group["metadata"], {"roles": roles})


def _team_to_group(body: Mapping[str, Any]) -> dict[str, Any]:
    """A Team as a Group of type ``team``; members and children are filled in once all teams are known."""
    spec = dict(body.get("spec") or {})
    metadata = clean_metadata(body["metadata"])
    contact: Mapping[str, Any] = spec["contact"] if isinstance(spec.get("contact"), Mapping) else {}
    annotate(metadata, {"kind": "Team", "contact": contact or None})
    add_links(metadata, contact_links(contact, title="the team"))
    profile: dict[str, str] = {}
    display_name = spec.get("displayName") or metadata.get("title")
    if isinstance(display_name, str) and display_name.strip():
        profile["displayName"] = display_name
    email = contact.get("email")
    if isinstance(email, str) and email.strip():
        profile["email"] = email
    out_spec: dict[str, Any] = {"type": "team"}
    if profile:
        out_spec["profile"] = profile
    parent = export_ref(spec.get("parent"), "team", metadata["namespace"])
    if parent is not None:
        out_spec["parent"] = parent
    out_spec["children"] = []
    return envelope("group", metadata, out_spec)


def _new_user(namespace: str, name: str, member: str) -> dict[str, Any]:
    """A User for a team member who has no User entity of that name in the catalog."""
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    annotate(metadata, {"member-name": member if member != name else None})
    return envelope("user", metadata, {"profile": {"displayName": member}, "memberOf": []})


def to_backstage(entities: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The Backstage entities of a set of catalog envelopes: groups and users first, then the rest.

    Pure, for tests and small catalogs; ``iter_backstage`` does the same from the database in chunks.
    """
    bodies = list(entities)
    org = [body for body in bodies if str(body.get("kind", "")).lower() in ORG_KINDS]
    backstage_keys = [
        _key({"kind": body["kind"], "metadata": body["metadata"]})
        for body in bodies
        if str(body.get("kind", "")).lower() in ("component", "domain")
    ]
    exporter = BackstageExporter(org, backstage_keys)
    out = exporter.organisation()
    out.extend(entity for entity in map(exporter.convert, bodies) if entity is not None)
    placeholder = exporter.placeholder()
    if placeholder is not None:
        out.append(placeholder)
    return out


def iter_backstage(catalog: CatalogReads, tx: Transaction) -> Iterator[dict[str, Any]]:
    """The catalog's Backstage entities, streamed from the store through one read unit."""
    org = list(catalog.iter_documents(kinds=ORG_KINDS, connection=tx))
    exporter = BackstageExporter(org, catalog.ref_keys_of_kinds(("component", "domain"), connection=tx))
    del org
    yield from exporter.organisation()
    for document in catalog.iter_documents(excluded=ORG_KINDS + SKIPPED_KINDS, connection=tx):
        entity = exporter.convert(document)
        if entity is not None:
            yield entity
    placeholder = exporter.placeholder()
    if placeholder is not None:
        yield placeholder


class _Dumper(yaml.SafeDumper):
    """PyYAML's safe dumper, also quoting strings that YAML 1.2 (Backstage's parser) reads as numbers.

    PyYAML writes YAML 1.1, where ``1e3`` and ``0o17`` are strings and need no quotes; Backstage reads
    YAML 1.2, where they are numbers, and a number where a name or an annotation value belongs makes
    it refuse the entity.
    """


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    """Multi-line text (an API definition) as a ``|`` block, readable as the developer wrote it."""
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|" if "\n" in text else None)


_Dumper.add_representer(str, _represent_text)
_Dumper.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$|^[-+]?\.(inf|Inf|INF)$|^\.(nan|NaN|NAN)$"
    ),
    list("-+.0123456789"),
)
_Dumper.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?[0-9]+$|^0o[0-7]+$|^0x[0-9a-fA-F]+$"), list("-+0123456789")
)


def iter_yaml(documents: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """Multi-document YAML, one document at a time, so a large export can be streamed."""
    for index, document in enumerate(documents):
        yield yaml.dump(
            dict(document),
            Dumper=_Dumper,
            sort_keys=False,
            allow_unicode=True,
            explicit_start=index > 0,
            width=10_000,
        )


def dump_yaml(documents: Iterable[Mapping[str, Any]]) -> str:
    """Entities as one multi-document YAML text (documents separated by ``---``)."""
    return "".join(iter_yaml(documents))


def iter_backstage_yaml(catalog: CatalogReads, tx: Transaction) -> Iterator[str]:
    """The export as YAML text in pieces, for an HTTP response or a terminal that should not wait."""
    return iter_yaml(iter_backstage(catalog, tx))


def export_backstage(catalog: CatalogReads, tx: Transaction) -> str:
    """The whole catalog as Backstage entities, multi-document YAML (``GET /api/export/backstage``)."""
    return dump_yaml(iter_backstage(catalog, tx))
