"""The catalog's vocabulary: kinds, entity references, the entity envelope and relations.

Kept free of I/O and of validation so every stage (descriptors, reconcile, scoring, store, API) can
share it without pulling in the others.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from catalog_sync.errors import RefError

OUR_API_VERSION = "catalog/v1"
BACKSTAGE_API_VERSIONS = ("backstage.io/v1alpha1", "backstage.io/v1beta1")
DEFAULT_NAMESPACE = "default"


@dataclass(frozen=True)
class KindInfo:
    """What the engine must know about a kind: its spelling, its apiVersions and its role."""

    name: str
    api_versions: tuple[str, ...]
    ownable: bool = False
    team_like: bool = False
    capability_like: bool = False
    product_like: bool = False


KINDS: dict[str, KindInfo] = {
    info.name.lower(): info
    for info in (
        KindInfo("Product", (OUR_API_VERSION,), ownable=True, product_like=True),
        KindInfo("Team", (OUR_API_VERSION,), team_like=True),
        KindInfo("Capability", (OUR_API_VERSION,), ownable=True, capability_like=True),
        KindInfo("Scorecard", (OUR_API_VERSION,)),
        KindInfo("Initiative", (OUR_API_VERSION,)),
        KindInfo("Component", BACKSTAGE_API_VERSIONS, ownable=True, product_like=True),
        KindInfo("API", BACKSTAGE_API_VERSIONS, ownable=True),
        KindInfo("Resource", BACKSTAGE_API_VERSIONS, ownable=True),
        KindInfo("System", BACKSTAGE_API_VERSIONS, ownable=True),
        KindInfo("Domain", BACKSTAGE_API_VERSIONS, ownable=True, capability_like=True),
        KindInfo("Group", BACKSTAGE_API_VERSIONS, team_like=True),
        KindInfo("User", BACKSTAGE_API_VERSIONS),
        KindInfo("Location", BACKSTAGE_API_VERSIONS),
    )
}

OWNER_KINDS = ("team", "group")
"""Kinds an owner ref may name; a bare ``owner: x`` means ``team:x``, or ``group:x`` if only that exists."""

# Backstage's well-known relation pairs: each relation is stored on both ends.
RELATION_PAIRS: dict[str, str] = {
    "ownedBy": "ownerOf",
    "dependsOn": "dependencyOf",
    "partOf": "hasPart",
    "childOf": "parentOf",
    "memberOf": "hasMember",
    "providesApi": "apiProvidedBy",
    "consumesApi": "apiConsumedBy",
}
RELATION_PAIRS.update({inverse: forward for forward, inverse in list(RELATION_PAIRS.items())})

ORPHAN_ANNOTATION = "backstage.io/orphan"
MANAGED_BY_LOCATION = "backstage.io/managed-by-location"
MANAGED_BY_ORIGIN_LOCATION = "backstage.io/managed-by-origin-location"


GITLAB_COM = "gitlab.com"
"""GitLab's own site: a repository there named by its URL (a ``git`` source, a registration) is a GitLab
project, linked as one."""


def _on_gitlab_com(url: str) -> bool:
    """Whether an http(s) URL names gitlab.com, whatever user name or port it spells: a registration
    keeps the user name (``https://alice@gitlab.com/...``), which a prefix of the URL would miss."""
    try:
        parts = urlsplit(url)
        return parts.scheme.lower() in ("http", "https") and parts.hostname == GITLAB_COM
    except ValueError:
        return False


def files_root(url: str, key: str) -> str:
    """The URL below which a repository's host shows its files as ``blob/<branch>/<path>``, the form of
    ``backstage.io/managed-by-location``: the repository's own for GitHub and most hosts, ``<project>/-``
    for a GitLab project (keys ``gitlab:...``, and any repository on gitlab.com), whose routes without
    ``/-/`` answer 404 since GitLab 16.0, so a link in the portal or Backstage would lead nowhere. A
    repository named by its clone URL (a ``git`` source, a registered repository:
    ``https://github.com/acme/pay.git``) is linked without the ``.git``, as the host names its pages."""
    root = url.rstrip("/")
    lowered = root.lower()
    if lowered.endswith(".git") and lowered.startswith(("https://", "http://")):
        root = root[:-4]
    return f"{root}/-" if key.startswith("gitlab:") or _on_gitlab_com(root) else root


_NAME_RE = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")


def canonical_kind(kind: str) -> str:
    """Spell a kind the way users wrote it in docs (``api`` -> ``API``), so output looks familiar."""
    info = KINDS.get(kind.lower())
    return info.name if info else kind


@dataclass(frozen=True)
class EntityRef:
    """The identity of an entity, ``kind:namespace/name``, compared case-insensitively.

    The original spelling is kept for display; equality and hashing use the lower-cased key, because
    Backstage treats ``Component:default/Pay`` and ``component:default/pay`` as the same entity.
    """

    kind: str
    namespace: str
    name: str
    key: str = field(init=False, repr=False, compare=True)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", f"{self.kind}:{self.namespace}/{self.name}".lower())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EntityRef) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __lt__(self, other: EntityRef) -> bool:
        return self.key < other.key

    def __str__(self) -> str:
        return f"{self.kind.lower()}:{self.namespace.lower()}/{self.name}"

    @classmethod
    def parse(
        cls,
        text: str,
        *,
        default_kind: str | None = None,
        default_namespace: str = DEFAULT_NAMESPACE,
    ) -> EntityRef:
        """Read a ref as written in a spec, filling in the kind and namespace the field implies."""
        if not isinstance(text, str) or not text.strip():
            raise RefError("an entity reference must be a non-empty string")
        raw = text.strip()
        kind: str | None
        if ":" in raw:
            kind, _, rest = raw.partition(":")
            if not kind:
                raise RefError(f"{text!r}: the kind before ':' is empty")
        else:
            kind, rest = default_kind, raw
        if kind is None:
            raise RefError(f"{text!r}: the kind is missing (write kind:namespace/name)")
        if "/" in rest:
            namespace, _, name = rest.partition("/")
            if not namespace:
                raise RefError(f"{text!r}: the namespace before '/' is empty")
        else:
            namespace, name = default_namespace, rest
        if not name:
            raise RefError(f"{text!r}: the name is empty")
        if "/" in name or ":" in name:
            raise RefError(f"{text!r}: a reference has at most one ':' and one '/'")
        return cls(kind.lower(), namespace, name)

    @classmethod
    def of(cls, kind: str, name: str, namespace: str = DEFAULT_NAMESPACE) -> EntityRef:
        """Build a ref from its parts; the convenient spelling for code and tests."""
        return cls(kind.lower(), namespace, name)


def is_valid_name(name: str) -> bool:
    """Backstage's rule for metadata.name: 1-63 characters, alphanumeric ends, ``-_.`` inside."""
    return 1 <= len(name) <= 63 and bool(_NAME_RE.match(name))


@dataclass
class Entity:
    """The envelope of one catalog entity, as Backstage defines it.

    ``metadata`` and ``spec`` stay plain mappings so that a Backstage descriptor round-trips
    unchanged; typed access is given by the small properties below.
    """

    api_version: str
    kind: str
    metadata: dict[str, Any]
    spec: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The entity's metadata.name."""
        return str(self.metadata["name"])

    @property
    def namespace(self) -> str:
        """The entity's namespace, ``default`` when left out."""
        return str(self.metadata.get("namespace") or DEFAULT_NAMESPACE)

    @property
    def ref(self) -> EntityRef:
        """The entity's own identity."""
        return EntityRef(self.kind.lower(), self.namespace, self.name)

    @property
    def info(self) -> KindInfo | None:
        """What the engine knows of this entity's kind (None for a kind it does not know)."""
        return KINDS.get(self.kind.lower())

    def to_dict(self) -> dict[str, Any]:
        """The envelope as Backstage serialises it (apiVersion, kind, metadata, spec)."""
        body: dict[str, Any] = {"apiVersion": self.api_version, "kind": self.kind, "metadata": self.metadata}
        if self.spec or self.kind.lower() != "user":
            body["spec"] = self.spec
        return body

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> Entity:
        """Rebuild an entity from its envelope (the store keeps entities as JSON)."""
        return cls(
            api_version=str(body["apiVersion"]),
            kind=str(body["kind"]),
            metadata=dict(body["metadata"]),
            spec=dict(body.get("spec") or {}),
        )

    def content_hash(self) -> str:
        """A stable digest of the envelope, so an unchanged entity is never rewritten."""
        encoded = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(encoded.encode()).hexdigest()


@dataclass(frozen=True)
class Relation:
    """One directed edge between two entities, e.g. ``product:default/pay ownedBy team:default/pay``."""

    type: str
    source: EntityRef
    target: EntityRef

    def inverse(self) -> Relation:
        """The same edge seen from the other end, so every relation appears on both entities."""
        return Relation(RELATION_PAIRS[self.type], self.target, self.source)
