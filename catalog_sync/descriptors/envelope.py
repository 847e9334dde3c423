"""Backstage's envelope (apiVersion, kind, metadata, spec) and the registry of every kind's schema.

Metadata follows Backstage's rules for every kind, so a name that Backstage would refuse is refused
here too; our own kinds additionally refuse unknown metadata keys, because a typo there is silently
lost otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

from marshmallow import Schema, validate

from catalog_sync.descriptors.fields import (
    KEY_PATTERN,
    LABEL_VALUE_PATTERN,
    NAME_PATTERN,
    NAMESPACE_PATTERN,
    TAG_PATTERN,
    Items,
    KeyedMap,
    Lenient,
    Object,
    Strict,
    Text,
    free_text,
    matching,
    max_chars,
    nested,
    one_of,
    text,
)
from catalog_sync.descriptors.initiative import InitiativeSpec
from catalog_sync.descriptors.kinds_backstage import (
    ApiSpec,
    ComponentSpec,
    DomainSpec,
    GroupSpec,
    LocationSpec,
    ResourceSpec,
    SystemSpec,
    UserSpec,
)
from catalog_sync.descriptors.kinds_ours import CapabilitySpec, ProductSpec, TeamSpec
from catalog_sync.descriptors.scorecard import ScorecardSpec
from catalog_sync.model import KINDS, OUR_API_VERSION, KindInfo

NAME_RULE = "must start and end with a letter or digit and hold only letters, digits, '-', '_' and '.'"
KEY_RULE = (
    "not a valid key: [prefix/]name, the prefix a lower-case DNS subdomain of at most 253 characters, "
    "the name 1-63 letters, digits, '-', '_' or '.' starting and ending with a letter or digit"
)


class Link(Strict):
    """A link shown on the entity's page (dashboards, runbooks, chat)."""

    url = text(required=True, description="where the link goes")
    title = free_text(description="the text shown for the link")
    icon = free_text(description="a Backstage icon name")
    type = free_text(description="what kind of link, e.g. dashboard")


def _metadata_fields() -> dict[str, object]:
    return {
        "name": Text(
            required=True,
            validate=[max_chars(63), matching(NAME_PATTERN, NAME_RULE)],
            metadata={"description": "the entity's name, unique within its kind and namespace"},
        ),
        "namespace": Text(
            validate=[
                matching(NAMESPACE_PATTERN, "must be a DNS label: 1-63 lower-case letters, digits and '-'")
            ],
            metadata={"description": "the entity's namespace; default when left out"},
        ),
        "title": free_text(description="a display name"),
        "description": free_text(description="what the entity is, in a sentence or two"),
        "tags": Items(
            Text(
                validate=[
                    max_chars(63),
                    matching(TAG_PATTERN, "must be words of a-z, 0-9, ':', '+' or '#' joined by '-'"),
                ]
            ),
            metadata={"description": "classifying words, e.g. payments, pci"},
        ),
        "labels": KeyedMap(
            KEY_PATTERN,
            KEY_RULE,
            Text(
                validate=[
                    validate.Length(max=63, error="must be at most 63 characters"),
                    matching(LABEL_VALUE_PATTERN, NAME_RULE + ", or be empty"),
                ]
            ),
            metadata={"description": "short key/value pairs used for selection"},
        ),
        "annotations": KeyedMap(
            KEY_PATTERN, KEY_RULE, Text(), metadata={"description": "key/value pairs read by tools"}
        ),
        "links": nested(Link, many=True, description="links shown on the entity's page"),
    }


OurMetadata = Strict.from_dict(_metadata_fields(), name="Metadata")  # type: ignore[arg-type]
BackstageMetadata = Lenient.from_dict(_metadata_fields(), name="BackstageMetadata")  # type: ignore[arg-type]


@dataclass(frozen=True)
class KindSchema:
    """One kind's validation: its envelope schema (built once and reused: building is the slow part)."""

    info: KindInfo
    description: str
    spec: type[Schema]
    envelope: Schema


def _kind(name: str, spec: type[Schema], spec_required: bool) -> KindSchema:
    info = KINDS[name.lower()]
    ours = info.api_versions == (OUR_API_VERSION,)
    metadata = OurMetadata if ours else BackstageMetadata
    envelope = Strict.from_dict(
        {
            "apiVersion": Text(required=True, validate=[one_of(info.api_versions)]),
            "kind": Text(required=True, validate=[one_of([info.name])]),
            "metadata": Object(metadata, required=True),
            "spec": Object(spec, required=spec_required),
        },
        name=f"{info.name}Entity",
    )
    description = (spec.__doc__ or info.name).strip().splitlines()[0]
    return KindSchema(info=info, description=description, spec=spec, envelope=envelope())


KIND_SCHEMAS: dict[str, KindSchema] = {
    entry.info.name: entry
    for entry in (
        _kind("Product", ProductSpec, True),
        _kind("Team", TeamSpec, False),
        _kind("Capability", CapabilitySpec, False),
        _kind("Scorecard", ScorecardSpec, True),
        _kind("Initiative", InitiativeSpec, True),
        _kind("Component", ComponentSpec, True),
        _kind("API", ApiSpec, True),
        _kind("Resource", ResourceSpec, True),
        _kind("System", SystemSpec, False),
        _kind("Domain", DomainSpec, False),
        _kind("Group", GroupSpec, True),
        _kind("User", UserSpec, False),
        _kind("Location", LocationSpec, True),
    )
}
"""Every kind the catalog accepts, by its canonical spelling (kinds are case-sensitive, as in Backstage)."""
