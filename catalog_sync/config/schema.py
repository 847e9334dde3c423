"""The configuration file's schema: every key, its type and its range, refused with the key named.

Each section's schema builds its frozen settings dataclass, lists turned into tuples; ``first_error``
flattens marshmallow's nested messages to the one ``key.path`` a person must fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates,
    validates_schema,
)

from catalog_sync.config.hosts import HOST_SCHEMAS, SOURCE_NAME, check_branch
from catalog_sync.config.notify_schema import NotificationSchema
from catalog_sync.config.settings import (
    _DAY,
    _GIB,
    _HOUR,
    _MIB,
    _YEAR,
    PROTOCOLS,
    REGISTERED_SOURCE,
    SOURCE_KEYS,
    SOURCE_TYPES,
    WEBHOOK_KEYS_IN_FILE,
    AnySourceSettings,
    ApiSettings,
    DescriptorSettings,
    GitHubSourceSettings,
    GitLabSourceSettings,
    KpiSettings,
    OwnershipSettings,
    ScorecardSettings,
    SourceSettings,
    SyncSettings,
)
from catalog_sync.config.webhooks import WebhooksSchema
from catalog_sync.credentials import CREDENTIALS_ADVICE, credential_in_url


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class _Number(fields.Float):
    """A float that must be written as a number: ``"5"`` and ``true`` are refused, as for integers."""

    def _validated(self, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        return float(super()._validated(value))


def _tuple(inner: fields.Field[Any]) -> fields.List[Any]:
    return fields.List(inner)


T = TypeVar("T")


def _frozen(cls: type[T], data: dict[str, Any]) -> T:
    """Build a settings dataclass, lists turned into tuples so the settings stay immutable."""
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    return cls(**values)


class _SourceSchema(_Strict):
    name = fields.String(required=True, validate=SOURCE_NAME)
    type = fields.String(required=True)
    path = fields.String()
    url = fields.String()
    branch = fields.String(validate=check_branch)

    @pre_load
    def _check_type(self, data: Any, **_: Any) -> Any:
        """Refuse a kind this version cannot read, and keys its kind does not take, before loading."""
        if not isinstance(data, Mapping):
            return data
        kind = data.get("type")
        if kind not in SOURCE_TYPES:
            raise ValidationError(f"Must be one of: {', '.join(SOURCE_TYPES)}.", "type")
        taken = {"name", "type", *SOURCE_KEYS[str(kind)]}
        for key in data:
            if key not in taken:
                raise ValidationError(
                    f"unknown key for a {kind} source (it takes {', '.join(SOURCE_KEYS[str(kind)])})",
                    str(key),
                )
        return data

    @validates("url")
    def _refuse_credentials(self, value: str, **_: Any) -> None:
        """A URL with a password or a token would be stored and shown; git gets them elsewhere."""
        found = credential_in_url(value)
        if found is not None:
            raise ValidationError(f"the URL carries {found}; {CREDENTIALS_ADVICE}")

    @validates_schema
    def _check_type_fields(self, data: dict[str, Any], **_: Any) -> None:
        needed = SOURCE_KEYS[data["type"]][0]
        if not data.get(needed):
            raise ValidationError(f"a {data['type']} source needs '{needed}'", needed)

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> SourceSettings:
        return SourceSettings(**data)


class _SourceField(fields.Field[AnySourceSettings]):
    """One entry of ``sources``, loaded by the schema of its ``type``: each kind takes its own keys."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> AnySourceSettings:
        if not isinstance(value, Mapping):
            raise ValidationError("Invalid input type.")
        kind = value.get("type")
        schema = HOST_SCHEMAS.get(kind) if isinstance(kind, str) else None
        if schema is None:
            loaded: SourceSettings = _SourceSchema().load(value)
            return loaded
        taken = {"name", "type", *SOURCE_KEYS[str(kind)]}
        for key in value:
            if key not in taken:
                raise ValidationError(
                    {
                        str(key): [
                            f"unknown key for a {kind} source (it takes {', '.join(SOURCE_KEYS[str(kind)])})"
                        ]
                    }
                )
        host: GitHubSourceSettings | GitLabSourceSettings = schema().load(value)
        return host


class _DescriptorSchema(_Strict):
    patterns = _tuple(fields.String(validate=validate.Length(min=1)))
    max_file_bytes = fields.Integer(strict=True, validate=validate.Range(min=1, max=64 * _MIB))
    max_tree_entries = fields.Integer(strict=True, validate=validate.Range(min=100, max=100_000_000))
    max_read_bytes = fields.Integer(strict=True, validate=validate.Range(min=64 * 1024, max=16 * _GIB))

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> DescriptorSettings:
        return _frozen(DescriptorSettings, data)


class _SyncSchema(_Strict):
    interval_seconds = fields.Integer(strict=True, validate=validate.Range(min=1, max=_YEAR))
    concurrency = fields.Integer(strict=True, validate=validate.Range(min=1, max=256))
    cache_dir = fields.String(validate=validate.Length(min=1))
    orphan_policy = fields.String(validate=validate.OneOf(("keep", "delete")))
    orphan_grace_seconds = fields.Integer(strict=True, validate=validate.Range(min=0, max=10 * _YEAR))
    max_removal_fraction = _Number(validate=validate.Range(min=0, max=1))
    allowed_protocols = _tuple(fields.String(validate=validate.OneOf(PROTOCOLS)))
    lease_seconds = fields.Integer(strict=True, validate=validate.Range(min=10, max=_DAY))
    fact_paths = _tuple(fields.String(validate=validate.Length(min=1)))
    scan_timeout_seconds = _Number(validate=validate.Range(min=0.1, max=_DAY))
    tip_timeout_seconds = _Number(validate=validate.Range(min=0.1, max=_HOUR))
    fetch_timeout_seconds = _Number(validate=validate.Range(min=0.1, max=_DAY))
    max_repository_bytes = fields.Integer(strict=True, validate=validate.Range(min=_MIB, max=1024 * _GIB))
    max_registered_repositories = fields.Integer(strict=True, validate=validate.Range(min=0, max=1_000_000))
    allowed_private_networks = _tuple(fields.String(validate=validate.Length(min=1, max=255)))
    rate_limit_max_wait_seconds = _Number(validate=validate.Range(min=0, max=_HOUR))

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> SyncSettings:
        return _frozen(SyncSettings, data)


class _ScorecardSchema(_Strict):
    builtin = fields.Boolean(truthy={True}, falsy={False})
    paths = _tuple(fields.String())
    trusted_sources = _tuple(fields.String(validate=validate.Length(min=1)))

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> ScorecardSettings:
        return _frozen(ScorecardSettings, data)


class _OwnershipSchema(_Strict):
    required_team_roles = _tuple(fields.String(validate=validate.Length(min=1)))

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> OwnershipSettings:
        return _frozen(OwnershipSettings, data)


class _ApiSchema(_Strict):
    read_requires_token = fields.Boolean(truthy={True}, falsy={False})
    tokens = _tuple(fields.String(validate=validate.Length(min=16)))
    webhook_secret = fields.String()

    @validates("webhook_secret")
    def _refuse_webhook_secret(self, _value: str, **_: Any) -> None:
        """A secret in the file would be shared with everyone who reads the file; the message points
        at the variable that holds it instead (and never repeats the value)."""
        raise ValidationError(WEBHOOK_KEYS_IN_FILE)

    cors_origins = _tuple(fields.String())
    max_page_size = fields.Integer(strict=True, validate=validate.Range(min=1, max=10000))
    default_page_size = fields.Integer(strict=True, validate=validate.Range(min=1, max=10000))
    max_body_bytes = fields.Integer(strict=True, validate=validate.Range(min=1024, max=256 * _MIB))
    facet_cache_seconds = _Number(validate=validate.Range(min=0, max=_HOUR))
    max_filter_conditions = fields.Integer(strict=True, validate=validate.Range(min=1, max=10_000))
    statement_timeout_seconds = _Number(validate=validate.Range(min=0.1, max=_HOUR))

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> ApiSettings:
        return _frozen(ApiSettings, data)


class _KpiSchema(_Strict):
    interval_seconds = fields.Integer(strict=True, validate=validate.Range(min=10, max=_DAY))
    prometheus_url = fields.String(
        allow_none=True,
        validate=[
            validate.Length(min=1, max=2048),
            validate.URL(schemes={"http", "https"}, require_tld=False, error="must be an http or https URL"),
        ],
    )
    timeout_seconds = _Number(validate=validate.Range(min=0.1, max=300))
    concurrency = fields.Integer(strict=True, validate=validate.Range(min=1, max=64))
    release_tag_pattern = fields.String(
        validate=[
            validate.Length(min=1, max=100),
            validate.Regexp(
                r"^[A-Za-z0-9._+/-]*\*?[A-Za-z0-9._+/-]*$",
                error="must be a tag name glob with at most one *, e.g. v* or release-*",
            ),
        ]
    )

    @validates("prometheus_url")
    def _refuse_credentials(self, value: str | None, **_: Any) -> None:
        if value and credential_in_url(value):
            raise ValidationError(f"must not carry a credential; {CREDENTIALS_ADVICE}")

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> KpiSettings:
        return _frozen(KpiSettings, data)


class SettingsSchema(_Strict):
    """The whole file: its sections, and the checks that span them (unique and trusted source names)."""

    database = fields.String(validate=validate.Length(min=1))
    sources = fields.List(_SourceField())
    descriptors = fields.Nested(_DescriptorSchema)
    sync = fields.Nested(_SyncSchema)
    scorecards = fields.Nested(_ScorecardSchema)
    ownership = fields.Nested(_OwnershipSchema)
    api = fields.Nested(_ApiSchema)
    kpis = fields.Nested(_KpiSchema)
    webhooks = fields.Nested(WebhooksSchema)
    notifications = fields.Nested(NotificationSchema)

    @validates_schema
    def _check_unique_sources(self, data: dict[str, Any], **_: Any) -> None:
        """Two sources of one name would share their repositories; ``registered`` is taken by the
        repositories registered through the API, which a configured source would merge with (and,
        named in ``scorecards.trusted_sources``, hand them its trust)."""
        seen: set[str] = set()
        for index, source in enumerate(data.get("sources", [])):
            if source.name == REGISTERED_SOURCE:
                message = f"the name {REGISTERED_SOURCE!r} is taken by the repositories registered through "
                message += "POST /api/repositories; give this source another name"
                raise ValidationError({str(index): {"name": [message]}}, "sources")
            if source.name in seen:
                raise ValidationError(
                    {str(index): {"name": [f"source name {source.name!r} is used twice"]}}, "sources"
                )
            seen.add(source.name)

    @validates_schema
    def _check_api_protocols(self, data: dict[str, Any], **_: Any) -> None:
        """A hosting source talks to its API, and fetches with git, over ``api_url``'s scheme (clone
        URLs are kept to the API's origin): refused at start when ``sync.allowed_protocols`` leaves it
        out, rather than read over a protocol the operator did not allow."""
        sync: SyncSettings = data.get("sync", SyncSettings())
        for index, source in enumerate(data.get("sources", [])):
            if isinstance(source, GitHubSourceSettings | GitLabSourceSettings):
                message = api_protocol_refusal(source.api_url, sync.allowed_protocols)
                if message is not None:
                    raise ValidationError({str(index): {"api_url": [message]}}, "sources")

    @validates_schema
    def _check_trusted_sources(self, data: dict[str, Any], **_: Any) -> None:
        """A trusted source that is not configured trusts nothing today and, worse, whatever source
        is given that name later: refuse it at start."""
        names = {source.name for source in data.get("sources", [])} | {REGISTERED_SOURCE}
        scorecards: ScorecardSettings = data.get("scorecards", ScorecardSettings())
        for name in scorecards.trusted_sources:
            if name not in names:
                known = ", ".join(sorted(names))
                message = f"{name!r} is not a source; name a source of `sources` or {REGISTERED_SOURCE!r} "
                message += f"(the repositories registered through the API); known: {known}"
                raise ValidationError({"trusted_sources": [message]}, "scorecards")


def api_protocol_refusal(api_url: str, allowed: tuple[str, ...]) -> str | None:
    """Why a hosting API may not be read over its URL's scheme, or None when it may. Plain http sends
    the token in clear, so it is named with the advice to use https (an Enterprise host inside a
    network, a local test host, may list http); https left out must be added, since the default
    ``api_url`` of both kinds is https."""
    scheme = urlsplit(api_url).scheme.lower()
    if scheme in allowed:
        return None
    if scheme == "http":
        return "an http API URL is refused unless sync.allowed_protocols lists http; use https"
    listed = ", ".join(allowed) or "nothing"
    return (
        f"the API URL {api_url} is read over {scheme}, which sync.allowed_protocols ({listed}) does not "
        f"list; add {scheme} to sync.allowed_protocols"
    )


def first_error(messages: Any, prefix: str = "") -> tuple[str, str]:
    """Flatten marshmallow's nested error dict to the first ``key.path`` and its message."""
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            name = str(key)
            path = prefix if name == "_schema" else (f"{prefix}.{name}" if prefix else name)
            return first_error(value, path)
    if isinstance(messages, list) and messages:
        if all(isinstance(m, str) for m in messages):
            text = "; ".join(messages)
            return prefix, text.replace("Unknown field.", "unknown key")
        return first_error(messages[0], prefix)
    return prefix, str(messages)
