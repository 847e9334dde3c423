"""One typed Settings object, loaded once at start and passed explicitly to every part.

A bad configuration is refused before anything runs, with a message naming the key, because a service
that starts with half its sources silently ignored is worse than one that does not start. The
dataclasses are in ``settings``, the file's schema in ``schema``; this module finds, reads and checks
the file and applies the environment's overrides.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml
from marshmallow import ValidationError

from catalog_sync.config.notify_schema import resolve_channels
from catalog_sync.config.schema import SettingsSchema, first_error
from catalog_sync.config.settings import (
    CHANNEL_TYPES,
    DEFAULT_API_URLS,
    DEFAULT_FACT_PATHS,
    DEFAULT_PATTERNS,
    NOTIFICATION_EVENTS,
    PROTOCOLS,
    REGISTERED_SOURCE,
    AnySourceSettings,
    ApiSettings,
    AppAuth,
    ChannelSettings,
    DescriptorSettings,
    GitHubSourceSettings,
    GitLabSourceSettings,
    HostNetwork,
    HostSourceSettings,
    KpiSettings,
    NotificationSettings,
    OwnershipSettings,
    RepositoryFilters,
    ScorecardSettings,
    Settings,
    SourceSettings,
    SyncSettings,
    TokenAuth,
    WebhookSettings,
)
from catalog_sync.config.webhooks import webhook_settings
from catalog_sync.config.yamlkeys import duplicate_key
from catalog_sync.errors import ConfigError

CONFIG_ENV = "CATALOG_SYNC_CONFIG"
DEFAULT_CONFIG_FILE = "catalog-sync.yaml"


def parse_settings(
    raw: Any, base_dir: str = ".", environ: Mapping[str, str] | None = None, *, file: Path | None = None
) -> Settings:
    """Turn a parsed YAML mapping (and the environment's overrides) into Settings, or refuse it; a
    refused key of the mapping is said to be in ``file``, the one it was read from."""
    env = os.environ if environ is None else environ
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError("", "the configuration must be a mapping of keys to values")
    try:
        loaded: dict[str, Any] = SettingsSchema().load(dict(raw))
    except ValidationError as exc:
        key, message = first_error(exc.messages)
        raise ConfigError(key, f"{message} (in {file})" if file is not None else message) from None
    api: ApiSettings = loaded.get("api", ApiSettings())
    if env.get("CATALOG_SYNC_API_TOKENS"):
        tokens = tuple(t.strip() for t in env["CATALOG_SYNC_API_TOKENS"].split(",") if t.strip())
        if any(len(t) < 16 for t in tokens):
            raise ConfigError("CATALOG_SYNC_API_TOKENS", "every token must be at least 16 characters")
        api = replace(api, tokens=tokens)
    webhooks = webhook_settings(loaded.get("webhooks", WebhookSettings()), env)
    database = env.get("CATALOG_SYNC_DATABASE_URL") or loaded.get("database", Settings.database)
    return Settings(
        database=database,
        sources=tuple(loaded.get("sources", ())),
        descriptors=loaded.get("descriptors", DescriptorSettings()),
        sync=loaded.get("sync", SyncSettings()),
        scorecards=loaded.get("scorecards", ScorecardSettings()),
        ownership=loaded.get("ownership", OwnershipSettings()),
        api=api,
        kpis=loaded.get("kpis", KpiSettings()),
        webhooks=webhooks,
        notifications=resolve_channels(loaded.get("notifications", NotificationSettings()), env),
        base_dir=base_dir,
    )


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
    twice = duplicate_key(text)
    if twice is not None:
        raise ConfigError(
            twice.path,
            f"given twice (lines {twice.first_line} and {twice.second_line}); YAML would keep the second "
            f"alone and drop the first without a word: keep one (in {path})",
        )
    return parse_settings(raw, str(path.parent), environ, file=path)


__all__ = [
    "CHANNEL_TYPES",
    "DEFAULT_API_URLS",
    "DEFAULT_FACT_PATHS",
    "DEFAULT_PATTERNS",
    "NOTIFICATION_EVENTS",
    "PROTOCOLS",
    "REGISTERED_SOURCE",
    "AnySourceSettings",
    "ApiSettings",
    "AppAuth",
    "ChannelSettings",
    "DescriptorSettings",
    "GitHubSourceSettings",
    "GitLabSourceSettings",
    "HostNetwork",
    "HostSourceSettings",
    "KpiSettings",
    "NotificationSettings",
    "OwnershipSettings",
    "RepositoryFilters",
    "ScorecardSettings",
    "Settings",
    "SourceSettings",
    "SyncSettings",
    "TokenAuth",
    "WebhookSettings",
    "load_settings",
    "parse_settings",
]
