"""The spec of Backstage's kinds, checked by Backstage's rules so existing files are read as they are.

Lenient like Backstage: known keys are checked, unknown keys are kept. One deliberate difference: a
missing owner is not refused here but reported as a warning (an ownership gap), see ``validate.py``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from marshmallow import ValidationError, fields, validates_schema

from catalog_sync.descriptors.exemptions import exemptions_field
from catalog_sync.descriptors.fields import (
    Convert,
    JsonSchema,
    Lenient,
    Ref,
    Text,
    free_text,
    nested,
    one_of,
    refs,
    text,
    words,
)

PLACEHOLDERS = ("$text", "$json", "$yaml")


class Definition(fields.Field[Any]):
    """An API definition: the text itself, or a Backstage placeholder such as ``{$text: ./openapi.yaml}``."""

    default_error_messages = {
        "required": "missing required field",
        "null": "must not be null",
        "invalid": "must be the definition's text or one of {{$text: ...}}, {{$json: ...}}, {{$yaml: ...}}",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str) and value:
            return value
        if (
            isinstance(value, dict)
            and len(value) == 1
            and all(key in PLACEHOLDERS and isinstance(item, str) and item for key, item in value.items())
        ):
            return value
        raise self.make_error("invalid")

    def json_schema(self, convert: Convert) -> JsonSchema:
        """The text, or a mapping with exactly one placeholder key."""
        return {
            "anyOf": [
                {"type": "string", "minLength": 1},
                {
                    "type": "object",
                    "minProperties": 1,
                    "maxProperties": 1,
                    "propertyNames": {"enum": list(PLACEHOLDERS)},
                    "additionalProperties": {"type": "string", "minLength": 1},
                },
            ]
        }


class ComponentSpec(Lenient):
    """A piece of software: a service, a website, a library (Backstage's Component)."""

    type = text(required=True, description="service, website, library, ...")
    lifecycle = text(required=True, description="experimental, production, deprecated, ...")
    owner = Ref("group", metadata={"description": "the owning group or team"})
    system = Ref("system")
    subcomponent_of = Ref("component", data_key="subcomponentOf")
    provides_apis = refs("api", data_key="providesApis")
    consumes_apis = refs("api", data_key="consumesApis")
    depends_on = refs(
        None, data_key="dependsOn", description="what it needs (kind:name, e.g. resource:orders-db)"
    )
    dependency_of = refs(None, data_key="dependencyOf", description="what needs it (kind:name)")
    exemptions = exemptions_field()


class ApiSpec(Lenient):
    """An interface a component provides (Backstage's API)."""

    type = text(required=True, description="openapi, asyncapi, graphql, grpc, ...")
    lifecycle = text(required=True, description="experimental, production, deprecated, ...")
    owner = Ref("group", metadata={"description": "the owning group or team"})
    definition = Definition(required=True, metadata={"description": "the API's definition"})
    system = Ref("system")
    exemptions = exemptions_field()


class ResourceSpec(Lenient):
    """Infrastructure a component needs: a database, a bucket, a queue (Backstage's Resource)."""

    type = text(required=True, description="database, s3-bucket, cluster, ...")
    owner = Ref("group", metadata={"description": "the owning group or team"})
    system = Ref("system")
    depends_on = refs(None, data_key="dependsOn", description="what it needs (kind:name)")
    dependency_of = refs(None, data_key="dependencyOf", description="what needs it (kind:name)")
    exemptions = exemptions_field()


class SystemSpec(Lenient):
    """A set of components and APIs that together make one capability (Backstage's System)."""

    owner = Ref("group", metadata={"description": "the owning group or team"})
    domain = Ref("domain")
    type = text()
    exemptions = exemptions_field()


class DomainSpec(Lenient):
    """A business area grouping systems; a capability in the product model (Backstage's Domain)."""

    owner = Ref("group", metadata={"description": "the owning group or team"})
    subdomain_of = Ref("domain", data_key="subdomainOf")
    type = text()
    exemptions = exemptions_field()


class Profile(Lenient):
    """How a group or user is shown."""

    display_name = free_text(data_key="displayName")
    email = free_text()
    picture = free_text()


class GroupSpec(Lenient):
    """An organisational group; a team in the product model (Backstage's Group)."""

    type = text(required=True, description="team, business-unit, ...")
    profile = nested(Profile)
    parent = Ref("group")
    children = refs("group", required=True, description="child groups (may be empty)")
    members = refs("user")
    exemptions = exemptions_field()


class UserSpec(Lenient):
    """A person (Backstage's User)."""

    profile = nested(Profile)
    member_of = refs("group", data_key="memberOf", description="the groups the user belongs to")
    exemptions = exemptions_field()


class LocationSpec(Lenient):
    """Points at more descriptor files; relative paths are read from the same repository."""

    JSON_EXTRA: ClassVar[JsonSchema] = {"anyOf": [{"required": ["target"]}, {"required": ["targets"]}]}

    type = text(description="url (the default) or file")
    target = text(description="one descriptor file, relative to this one")
    targets = words(description="several descriptor files, relative to this one")
    presence = Text(validate=[one_of(("required", "optional"))])

    @validates_schema
    def _check_target(self, data: dict[str, Any], **_: Any) -> None:
        if "target" not in data and "targets" not in data:
            raise ValidationError("needs target or targets")
