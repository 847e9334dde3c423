"""One catalog entity as the Backstage entity a Backstage catalog accepts.

Backstage's validators are stricter than a catalog that counts gaps instead of refusing them: every
Component, API, Resource, System and Domain needs an owner, links need absolute URLs, annotation
values must be strings, and only Backstage's kinds exist. These functions turn one envelope into
that shape; what needs the whole catalog (teams, their members, the placeholder owner) is in
``catalog_sync.export``.
"""

from __future__ import annotations

import json
import re
import unicodedata
import zlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeGuard
from urllib.parse import urljoin, urlsplit

from catalog_sync.errors import RefError
from catalog_sync.model import DEFAULT_NAMESPACE, MANAGED_BY_LOCATION, EntityRef, is_valid_name

API_VERSION = "backstage.io/v1alpha1"
ANNOTATION_PREFIX = "catalog-sync.io/"
KIND_ANNOTATION = ANNOTATION_PREFIX + "kind"
PLACEHOLDER_OWNER = "group:default/unowned"

EXPORTED_KIND = {"product": "component", "team": "group", "capability": "domain"}
"""Our kinds as the Backstage kind that replaces them, for entities and for refs that name them."""

BACKSTAGE_SPELLING = {
    "component": "Component",
    "api": "API",
    "resource": "Resource",
    "system": "System",
    "domain": "Domain",
    "group": "Group",
    "user": "User",
}
"""The Backstage kinds an export holds; Location is left out (it points at files, it is not content)."""

OWNED_KINDS = ("component", "api", "resource", "system", "domain")
"""Kinds whose Backstage schema requires ``spec.owner``."""

# field -> (default kind, holds a list); the defaults are those of the descriptor schemas.
REF_FIELDS: dict[str, dict[str, tuple[str | None, bool]]] = {
    "product": {"owner": ("team", False), "dependsOn": ("product", True)},
    "team": {"parent": ("team", False)},
    "capability": {"owner": ("team", False), "parent": ("capability", False)},
    "component": {
        "owner": ("group", False),
        "system": ("system", False),
        "subcomponentOf": ("component", False),
        "providesApis": ("api", True),
        "consumesApis": ("api", True),
        "dependsOn": ("component", True),
        "dependencyOf": ("component", True),
    },
    "api": {"owner": ("group", False), "system": ("system", False)},
    "resource": {
        "owner": ("group", False),
        "system": ("system", False),
        "dependsOn": ("resource", True),
        "dependencyOf": ("component", True),
    },
    "system": {"owner": ("group", False), "domain": ("domain", False)},
    "domain": {"owner": ("group", False), "subdomainOf": ("domain", False)},
    "group": {"parent": ("group", False), "children": ("group", True), "members": ("user", True)},
    "user": {"memberOf": ("group", True)},
}

_DNS_LABEL = re.compile(r"^[a-z0-9]+(?:-+[a-z0-9]+)*$")
_TAG = re.compile(r"^[a-z0-9:+#]+(-[a-z0-9:+#]+)*$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*$")
_NOT_NAME_CHAR = re.compile(r"[^a-z0-9._-]+")
_SPECIAL_SCHEMES = ("http", "https", "ftp", "ws", "wss", "file")
PLACEHOLDERS = ("$text", "$json", "$yaml")


def export_ref(text: Any, default_kind: str | None, namespace: str) -> str | None:
    """A ref written out in full (``kind:namespace/name``) with our kinds named as their Backstage kind.

    A bare ``cart`` in a Product means ``product:<its namespace>/cart``; in the export it must name
    the Component that Product becomes, so the kind is always spelt out. None when the text is not a
    ref at all, so the caller can keep what was written.
    """
    if not isinstance(text, str):
        return None
    try:
        ref = EntityRef.parse(text, default_kind=default_kind, default_namespace=namespace)
    except RefError:
        return None
    kind = EXPORTED_KIND.get(ref.kind, ref.kind)
    return f"{kind}:{ref.namespace.lower()}/{ref.name}"


def export_refs(values: Any, default_kind: str | None, namespace: str) -> list[str]:
    """Every ref of a list field, in full; a value that is not a ref is kept as written."""
    if not isinstance(values, list):
        return []
    out: list[str] = []
    for value in values:
        ref = export_ref(value, default_kind, namespace)
        item = ref if ref is not None else value
        if isinstance(item, str) and item and item not in out:
            out.append(item)
    return out


def rewrite_refs(kind: str, spec: dict[str, Any], namespace: str) -> None:
    """Rewrite, in place, every ref field a kind has, so the export's graph is the catalog's graph."""
    for field, (default_kind, many) in REF_FIELDS.get(kind, {}).items():
        if field not in spec:
            continue
        if many:
            spec[field] = export_refs(spec[field], default_kind, namespace)
        else:
            ref = export_ref(spec[field], default_kind, namespace)
            if ref is not None:
                spec[field] = ref


def is_valid_key(key: Any) -> bool:
    """Backstage's rule for label and annotation keys: ``[dns-subdomain/]name``."""
    if not isinstance(key, str):
        return False
    parts = key.split("/")
    if len(parts) == 1:
        return is_valid_name(parts[0])
    if len(parts) != 2:
        return False
    prefix, name = parts
    labels = prefix.split(".")
    return (
        1 <= len(prefix) <= 253
        and all(len(label) <= 63 and _DNS_LABEL.match(label) for label in labels)
        and is_valid_name(name)
    )


def is_valid_namespace(namespace: Any) -> bool:
    """Backstage's rule for namespaces: a DNS label."""
    return isinstance(namespace, str) and len(namespace) <= 63 and bool(_DNS_LABEL.match(namespace))


def is_valid_tag(tag: Any) -> bool:
    """Backstage's rule for tags: words of ``a-z0-9:+#`` joined by ``-``, at most 63 characters."""
    return isinstance(tag, str) and 1 <= len(tag) <= 63 and bool(_TAG.match(tag))


def is_absolute_url(url: Any) -> bool:
    """Whether a browser's URL parser (what Backstage checks links with) accepts the string.

    Deliberately a little stricter than WHATWG: no whitespace, and http(s), ftp, ws(s) need a host.
    """
    if not isinstance(url, str) or not url or url != url.strip() or any(c.isspace() for c in url):
        return False
    scheme, _, rest = url.partition(":")
    if not rest or not _SCHEME.match(scheme):
        return False
    if scheme.lower() in _SPECIAL_SCHEMES and scheme.lower() != "file":
        try:
            return bool(urlsplit(url).hostname)
        except ValueError:
            return False
    return True


def _non_empty(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and bool(value.strip())


def clean_link(link: Any) -> dict[str, str] | None:
    """A link Backstage accepts (absolute URL, no empty strings), or None for one it would refuse."""
    if not isinstance(link, Mapping) or not is_absolute_url(link.get("url")):
        return None
    out = {"url": str(link["url"])}
    for key in ("title", "icon", "type"):
        if _non_empty(link.get(key)):
            out[key] = str(link[key])
    return out


def clean_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The metadata Backstage accepts: what it would refuse, or a server sets (uid, etag), is left out.

    The descriptor schemas already enforce Backstage's rules; this guards the export against a stored
    entity that predates a rule, because one bad field makes Backstage refuse the whole entity.
    """
    out: dict[str, Any] = {"name": metadata["name"]}
    namespace = metadata.get("namespace")
    out["namespace"] = namespace if is_valid_namespace(namespace) else DEFAULT_NAMESPACE
    for key, value in metadata.items():
        if key in ("name", "namespace", "uid", "etag", "generation"):
            continue
        if key == "title":
            if _non_empty(value):
                out[key] = value
        elif key == "description":
            if isinstance(value, str):
                out[key] = value
        elif key == "labels":
            labels = {
                k: v
                for k, v in (value or {}).items()
                if is_valid_key(k) and isinstance(v, str) and (v == "" or is_valid_name(v))
            }
            if labels:
                out[key] = labels
        elif key == "annotations":
            annotations = {
                k: v if isinstance(v, str) else _encode(v)
                for k, v in (value or {}).items()
                if is_valid_key(k) and v is not None
            }
            if annotations:
                out[key] = annotations
        elif key == "tags":
            tags = [tag for tag in (value or []) if is_valid_tag(tag)]
            if tags:
                out[key] = tags
        elif key == "links":
            links = [link for link in (clean_link(item) for item in (value or [])) if link]
            if links:
                out[key] = links
        else:
            out[key] = value
    return out


def _encode(value: Any) -> str:
    """A structured value as an annotation value (annotation values must be strings)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def annotate(metadata: dict[str, Any], values: Mapping[str, Any]) -> None:
    """Add ``catalog-sync.io/<key>`` annotations for the values that are set; ours win over the file's."""
    annotations = dict(metadata.get("annotations") or {})
    for key, value in values.items():
        if value is None or value == [] or value == {}:
            continue
        annotations[ANNOTATION_PREFIX + key] = _encode(value)
    if annotations:
        metadata["annotations"] = annotations


def add_links(metadata: dict[str, Any], links: Iterable[Mapping[str, Any]]) -> None:
    """Append links that are valid and not already there (same URL and type)."""
    current = list(metadata.get("links") or [])
    seen = {(link["url"], link.get("type")) for link in current}
    for link in links:
        cleaned = clean_link(link)
        if cleaned and (cleaned["url"], cleaned.get("type")) not in seen:
            current.append(cleaned)
            seen.add((cleaned["url"], cleaned.get("type")))
    if current:
        metadata["links"] = current


def contact_links(contact: Any, *, title: str) -> list[dict[str, str]]:
    """Links for a support or contact block: the address as ``mailto:``, a channel given as a URL."""
    if not isinstance(contact, Mapping):
        return []
    links: list[dict[str, str]] = []
    email = contact.get("email")
    if _non_empty(email) and "@" in email and not any(c.isspace() for c in email):
        links.append({"url": f"mailto:{email}", "title": f"Email {title}", "type": "email", "icon": "email"})
    channel = contact.get("channel")
    if isinstance(channel, str) and is_absolute_url(channel):
        links.append({"url": channel, "title": f"Chat with {title}", "type": "chat", "icon": "chat"})
    return links


def envelope(kind: str, metadata: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """A Backstage entity in the order people read it."""
    return {"apiVersion": API_VERSION, "kind": BACKSTAGE_SPELLING[kind], "metadata": metadata, "spec": spec}


def product_to_component(body: Mapping[str, Any], owner: Callable[[Any], str]) -> dict[str, Any]:
    """A Product as a Component; what Backstage has no field for is kept in annotations and links."""
    spec = dict(body.get("spec") or {})
    metadata = clean_metadata(body["metadata"])
    namespace = metadata["namespace"]
    capabilities = export_refs(spec.get("capabilities"), "capability", namespace)
    runbooks = spec.get("runbooks") or []
    annotate(
        metadata,
        {
            "kind": "Product",
            "tier": str(spec["tier"]) if spec.get("tier") is not None else None,
            "capabilities": ",".join(capabilities) or None,
            "outcomes": spec.get("outcomes"),
            "kpis": spec.get("kpis"),
            "runbooks": runbooks,
            "support": spec.get("support"),
            "tech-debt": spec.get("techDebt"),
        },
    )
    links: list[Mapping[str, Any]] = [
        {"url": item.get("url"), "title": item.get("title"), "type": "runbook", "icon": "docs"}
        for item in runbooks
        if isinstance(item, Mapping)
    ]
    add_links(metadata, [*links, *contact_links(spec.get("support"), title="the owners")])
    out_spec: dict[str, Any] = {
        "type": str(spec.get("type") or "service"),
        "lifecycle": str(spec.get("lifecycle") or "production"),
        "owner": owner(export_ref(spec.get("owner"), "team", namespace)),
    }
    depends_on = export_refs(spec.get("dependsOn"), "product", namespace)
    if depends_on:
        out_spec["dependsOn"] = depends_on
    return envelope("component", metadata, out_spec)


def capability_to_domain(body: Mapping[str, Any], owner: Callable[[Any], str]) -> dict[str, Any]:
    """A Capability as a Domain: its parent as ``subdomainOf``, its outcomes as an annotation."""
    spec = dict(body.get("spec") or {})
    metadata = clean_metadata(body["metadata"])
    annotate(metadata, {"kind": "Capability", "outcomes": spec.get("outcomes")})
    namespace = metadata["namespace"]
    out_spec: dict[str, Any] = {
        "owner": owner(export_ref(spec.get("owner"), "team", namespace)),
        "type": "capability",
    }
    parent = export_ref(spec.get("parent"), "capability", namespace)
    if parent is not None:
        out_spec["subdomainOf"] = parent
    return envelope("domain", metadata, out_spec)


def backstage_passthrough(body: Mapping[str, Any], owner: Callable[[Any], str]) -> dict[str, Any]:
    """A Backstage entity as written, but with full refs, an owner where Backstage requires one, no uid."""
    kind = str(body["kind"]).lower()
    spec = dict(body.get("spec") or {})
    metadata = clean_metadata(body["metadata"])
    namespace = metadata["namespace"]
    rewrite_refs(kind, spec, namespace)
    location = ((body["metadata"].get("annotations") or {}).get(MANAGED_BY_LOCATION) or "").removeprefix(
        "url:"
    )
    if is_absolute_url(location):
        spec = absolute_placeholders(spec, location)
    if kind in OWNED_KINDS:
        spec["owner"] = owner(spec.get("owner"))
    if kind == "group":
        spec["children"] = export_refs(spec.get("children"), "group", namespace)
        spec.setdefault("type", "team")
    if kind == "user":
        spec["memberOf"] = export_refs(spec.get("memberOf"), "group", namespace)
    return envelope(kind, metadata, spec)


def absolute_placeholders(value: Any, base: str) -> Any:
    """A copy with relative ``{$text: ./openapi.yaml}`` placeholders made absolute against ``base``.

    Backstage reads a placeholder relative to the file that holds the entity; in an export that file
    is the export, so a relative target would point nowhere. Relative to the descriptor's own
    location (``backstage.io/managed-by-location``) it still names the file the developer meant.
    """
    if isinstance(value, list):
        return [absolute_placeholders(item, base) for item in value]
    if not isinstance(value, Mapping):
        return value
    if len(value) == 1:
        key, target = next(iter(value.items()))
        if key in PLACEHOLDERS and isinstance(target, str) and target and not is_absolute_url(target):
            return {key: urljoin(base, target)}
    return {key: absolute_placeholders(item, base) for key, item in value.items()}


def member_user(member: str, namespace: str) -> tuple[str, str]:
    """The namespace and name of the User a team member is.

    A member written as a user name or ref (``lena.fischer``, ``user:people/lena``) is that User, as
    the catalog's ``hasMember`` relation says; any other spelling gets a name made by ``user_name``.
    """
    try:
        ref = EntityRef.parse(member, default_kind="user", default_namespace=namespace)
    except RefError:
        return namespace, user_name(member)
    if ref.kind == "user" and is_valid_name(ref.name) and is_valid_namespace(ref.namespace.lower()):
        return ref.namespace.lower(), ref.name
    return namespace, user_name(member)


def user_name(member: str) -> str:
    """A member's name as a valid entity name: accents dropped, other characters turned into ``-``.

    Backstage refuses any other name, and people's names in team descriptors are often written as
    spoken: ``Ana María`` becomes ``ana-maria`` (names that fold to the same result are one User); a
    name with nothing left (``李雷``) becomes ``user-`` and a digest of the original.
    """
    folded = unicodedata.normalize("NFKD", member)
    ascii_only = "".join(c for c in folded if not unicodedata.combining(c)).encode("ascii", "ignore").decode()
    name = _NOT_NAME_CHAR.sub("-", ascii_only.lower())
    name = re.sub(r"^[^a-z0-9]+|[^a-z0-9]+$", "", name)
    name = re.sub(r"[^a-z0-9]+$", "", name[:63])
    if name and is_valid_name(name):
        return name
    return f"user-{zlib.crc32(member.encode()):08x}"
