"""One typed Settings object, loaded once at start and passed explicitly to every part.

A bad configuration is refused before anything runs, with a message naming the key, because a service
that starts with half its sources silently ignored is worse than one that does not start.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
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

from catalog_sync.credentials import CREDENTIALS_ADVICE, credential_in_url
from catalog_sync.errors import ConfigError

DEFAULT_PATTERNS = (
    "catalog-info.yaml",
    "catalog-info.yml",
    "**/catalog-info.yaml",
    "**/catalog-info.yml",
    ".catalog/*.yaml",
    ".catalog/*.yml",
)
DEFAULT_FACT_PATHS = (
    "README.md",
    "README.rst",
    "README",
    "CODEOWNERS",
    ".github/CODEOWNERS",
    "docs/CODEOWNERS",
    "docs/",
    "mkdocs.yml",
    ".github/workflows/",
    ".gitlab-ci.yml",
    "runbooks/",
    "LICENSE",
    "SECURITY.md",
)
SOURCE_TYPES = ("local", "git")
SOURCE_KEYS = {"local": ("path", "branch"), "git": ("url", "branch")}
"""The keys each kind of source takes besides ``name`` and ``type``: a ``git`` source cannot carry a
``path``, nor a ``local`` one a ``url``, so a key that would do nothing is refused at start."""
NOT_AVAILABLE = {
    "github": "the github source type is not available in this version; list its repositories as "
    "`git` sources, or register them with POST /api/repositories",
    "gitlab": "the gitlab source type is not available in this version; list its repositories as "
    "`git` sources, or register them with POST /api/repositories",
}
PROTOCOLS = ("https", "http", "ssh", "git", "file")
WEBHOOKS_NOT_AVAILABLE = (
    "push webhooks are not available in this version; the sync loop reads every repository each "
    "sync.interval_seconds, and POST /api/repositories/{id}/refresh reads one now"
)
CONFIG_ENV = "CATALOG_SYNC_CONFIG"
_MIB = 1024 * 1024
_GIB = 1024 * _MIB
_HOUR = 3600
_DAY = 24 * _HOUR
_YEAR = 365 * _DAY
DEFAULT_CONFIG_FILE = "catalog-sync.yaml"
REGISTERED_SOURCE = "registered"
"""The name of the source that holds the repositories registered through ``POST /api/repositories``
(``catalog_sync.sources.registered``); ``scorecards.trusted_sources`` may name it."""


@dataclass(frozen=True)
class SourceSettings:
    """One entry of ``sources``: where repositories come from."""

    name: str
    type: str
    path: str | None = None
    url: str | None = None
    branch: str | None = None


@dataclass(frozen=True)
class DescriptorSettings:
    """Which files are descriptors, and how large one may be."""

    patterns: tuple[str, ...] = DEFAULT_PATTERNS
    max_file_bytes: int = 1024 * 1024
    max_tree_entries: int = 200_000
    """Tree entries one scan may visit: a repository whose tree lists more fails alone (a tree bomb)."""
    max_read_bytes: int = 64 * 1024 * 1024
    """Bytes of descriptors and trees one scan may read before that repository fails alone."""


@dataclass(frozen=True)
class SyncSettings:
    """How often and how carefully repositories are synced."""

    interval_seconds: int = 300
    concurrency: int = 8
    cache_dir: str = ".catalog-sync/repos"
    orphan_policy: str = "keep"
    orphan_grace_seconds: int = 604800
    max_removal_fraction: float = 0.5
    allowed_protocols: tuple[str, ...] = ("https", "ssh", "file")
    lease_seconds: int = 600
    fact_paths: tuple[str, ...] = DEFAULT_FACT_PATHS
    scan_timeout_seconds: float = 60.0
    """Seconds one repository's scan may take before it fails alone and the pass goes on."""
    tip_timeout_seconds: float = 30.0
    """Seconds a remote may take to name its tip (``git ls-remote``)."""
    fetch_timeout_seconds: float = 300.0
    """Seconds a fetch may take before that repository fails alone."""
    max_repository_bytes: int = 1024 * 1024 * 1024
    """Bytes a fetch may bring into the cache for one repository."""
    max_registered_repositories: int = 1000
    """Repositories ``POST /api/repositories`` may register in all."""
    allowed_private_networks: tuple[str, ...] = ()
    """Networks (CIDR) or host names that registered URLs may name although they are loopback,
    link-local or private; none by default, so the API cannot be pointed at internal services."""


@dataclass(frozen=True)
class ScorecardSettings:
    """Which scorecards are evaluated besides those found in repositories."""

    builtin: bool = True
    paths: tuple[str, ...] = ()
    trusted_sources: tuple[str, ...] = ()
    """Sources whose repositories may define scorecards; any other repository's ``kind: Scorecard``
    is refused, so no repository can replace an organisation-wide scorecard. Each is the name of a
    configured source or ``registered``; see ``catalog_sync.descriptors.trust``."""


@dataclass(frozen=True)
class OwnershipSettings:
    """What makes a team a complete cross-functional team."""

    required_team_roles: tuple[str, ...] = ("product-owner", "developer", "operations")


@dataclass(frozen=True)
class ApiSettings:
    """Who may read and write through the HTTP API."""

    read_requires_token: bool = False
    tokens: tuple[str, ...] = ()
    cors_origins: tuple[str, ...] = ()
    max_page_size: int = 500
    default_page_size: int = 100
    max_body_bytes: int = 1024 * 1024
    facet_cache_seconds: float = 5.0
    """How long an entity-facets answer is reused (0: never); facets may lag a sync by that long."""
    max_filter_conditions: int = 200
    """Filter conditions one request may carry in all (every ``filter`` parameter together)."""
    statement_timeout_seconds: float = 10.0
    """Seconds one API read may run in the database before it is cancelled with a clear error."""


@dataclass(frozen=True)
class Settings:
    """Everything configurable, typed; built only by ``load_settings`` so it is always valid."""

    database: str = "sqlite:///catalog.db"
    sources: tuple[SourceSettings, ...] = ()
    descriptors: DescriptorSettings = field(default_factory=DescriptorSettings)
    sync: SyncSettings = field(default_factory=SyncSettings)
    scorecards: ScorecardSettings = field(default_factory=ScorecardSettings)
    ownership: OwnershipSettings = field(default_factory=OwnershipSettings)
    api: ApiSettings = field(default_factory=ApiSettings)
    base_dir: str = "."


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
    name = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9][-A-Za-z0-9_.]{0,62}$"))
    type = fields.String(required=True)
    path = fields.String()
    url = fields.String()
    branch = fields.String(validate=validate.Regexp(r"^[^\s~^:?*\[\\]+$"))

    @pre_load
    def _check_type(self, data: Any, **_: Any) -> Any:
        """Refuse a kind this version cannot read, and keys its kind does not take, before loading."""
        if not isinstance(data, Mapping):
            return data
        kind = data.get("type")
        if kind in NOT_AVAILABLE:
            raise ValidationError(NOT_AVAILABLE[str(kind)], "type")
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
        raise ValidationError(WEBHOOKS_NOT_AVAILABLE)

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


class _SettingsSchema(_Strict):
    database = fields.String(validate=validate.Length(min=1))
    sources = fields.List(fields.Nested(_SourceSchema))
    descriptors = fields.Nested(_DescriptorSchema)
    sync = fields.Nested(_SyncSchema)
    scorecards = fields.Nested(_ScorecardSchema)
    ownership = fields.Nested(_OwnershipSchema)
    api = fields.Nested(_ApiSchema)

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


def _first_error(messages: Any, prefix: str = "") -> tuple[str, str]:
    """Flatten marshmallow's nested error dict to the first ``key.path`` and its message."""
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            name = str(key)
            path = prefix if name == "_schema" else (f"{prefix}.{name}" if prefix else name)
            return _first_error(value, path)
    if isinstance(messages, list) and messages:
        if all(isinstance(m, str) for m in messages):
            text = "; ".join(messages)
            return prefix, text.replace("Unknown field.", "unknown key")
        return _first_error(messages[0], prefix)
    return prefix, str(messages)


def parse_settings(raw: Any, base_dir: str = ".", environ: Mapping[str, str] | None = None) -> Settings:
    """Turn a parsed YAML mapping (and the environment's overrides) into Settings, or refuse it."""
    env = os.environ if environ is None else environ
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError("", "the configuration must be a mapping of keys to values")
    try:
        loaded: dict[str, Any] = _SettingsSchema().load(dict(raw))
    except ValidationError as exc:
        key, message = _first_error(exc.messages)
        raise ConfigError(key, message) from None
    api: ApiSettings = loaded.get("api", ApiSettings())
    if env.get("CATALOG_SYNC_API_TOKENS"):
        tokens = tuple(t.strip() for t in env["CATALOG_SYNC_API_TOKENS"].split(",") if t.strip())
        if any(len(t) < 16 for t in tokens):
            raise ConfigError("CATALOG_SYNC_API_TOKENS", "every token must be at least 16 characters")
        api = _replace(api, tokens=tokens)
    if env.get("CATALOG_SYNC_WEBHOOK_SECRET"):
        raise ConfigError("CATALOG_SYNC_WEBHOOK_SECRET", WEBHOOKS_NOT_AVAILABLE)
    database = env.get("CATALOG_SYNC_DATABASE_URL") or loaded.get("database", Settings.database)
    return Settings(
        database=database,
        sources=tuple(loaded.get("sources", ())),
        descriptors=loaded.get("descriptors", DescriptorSettings()),
        sync=loaded.get("sync", SyncSettings()),
        scorecards=loaded.get("scorecards", ScorecardSettings()),
        ownership=loaded.get("ownership", OwnershipSettings()),
        api=api,
        base_dir=base_dir,
    )


def _replace(api: ApiSettings, **changes: Any) -> ApiSettings:
    from dataclasses import replace

    return replace(api, **changes)


def find_config_file(explicit: str | None, environ: Mapping[str, str] | None = None) -> Path | None:
    """The file named by ``--config``, else ``$CATALOG_SYNC_CONFIG``, else ``./catalog-sync.yaml``."""
    env = os.environ if environ is None else environ
    if explicit:
        return Path(explicit)
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    default = Path(DEFAULT_CONFIG_FILE)
    return default if default.exists() else None


def load_settings(explicit: str | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Load and check the configuration once, at start; with no file, the demo defaults."""
    path = find_config_file(explicit, environ)
    if path is None:
        return parse_settings({}, ".", environ)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError("--config", f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError("--config", f"{path} is not UTF-8 text") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError("--config", f"{path} is not valid YAML: {exc}") from None
    return parse_settings(raw, str(path.parent), environ)


__all__ = [
    "ApiSettings",
    "DescriptorSettings",
    "OwnershipSettings",
    "ScorecardSettings",
    "Settings",
    "SourceSettings",
    "SyncSettings",
    "load_settings",
    "parse_settings",
]
