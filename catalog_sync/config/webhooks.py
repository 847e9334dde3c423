"""The ``webhooks`` section: which environment variables hold the push webhooks' secrets and tokens.

The file names variables, never values: a secret in a file ends up in a repository, a ConfigMap or a
support ticket. The values are read from the environment once, at start (``webhook_settings``);
``CATALOG_SYNC_WEBHOOK_SECRET`` keeps working as one more GitHub secret. A variable that holds an
empty list leaves that provider's endpoint refusing every delivery (401), which is what an endpoint
nobody configured should do; one the file names is recorded (``WebhookSettings.unset``), so the app
warns of it at start instead of leaving the operator to find the host's failed deliveries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from marshmallow import RAISE, Schema, fields, post_load, validate

from catalog_sync.config.settings import _DAY, _MIB, _YEAR, WebhookSettings
from catalog_sync.errors import ConfigError

LEGACY_SECRET_ENV = "CATALOG_SYNC_WEBHOOK_SECRET"  # noqa: S105 (a variable's name)
"""The single GitHub secret of earlier configurations; still honoured beside ``secrets_env``."""
MIN_SECRET_LENGTH = 16
"""Shorter secrets can be guessed offline from one signed delivery; GitHub suggests 32+ characters."""
MAX_SECRET_LENGTH = 1024
_ENV_NAME = validate.Regexp(r"^[A-Za-z_][A-Za-z0-9_]{0,127}\Z", error="must be an environment variable name")


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class _GithubSchema(_Strict):
    secrets_env = fields.String(required=True, validate=_ENV_NAME)


class _GitlabSchema(_Strict):
    tokens_env = fields.String(required=True, validate=_ENV_NAME)


class WebhooksSchema(_Strict):
    """``webhooks:``: the variables' names, the body limit and how long delivery ids are kept."""

    github = fields.Nested(_GithubSchema)
    gitlab = fields.Nested(_GitlabSchema)
    max_body_bytes = fields.Integer(strict=True, validate=validate.Range(min=1024, max=32 * _MIB))
    keep_deliveries_seconds = fields.Integer(strict=True, validate=validate.Range(min=_DAY // 24, max=_YEAR))

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> WebhookSettings:
        values: dict[str, Any] = {"named": tuple(p for p in ("github", "gitlab") if p in data)}
        if "github" in data:
            values["github_secrets_env"] = data["github"]["secrets_env"]
        if "gitlab" in data:
            values["gitlab_tokens_env"] = data["gitlab"]["tokens_env"]
        for key in ("max_body_bytes", "keep_deliveries_seconds"):
            if key in data:
                values[key] = data[key]
        return WebhookSettings(**values)


def split_secrets(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """The comma-separated values of one variable, each checked for length and for control characters
    (the value never shown)."""
    return _checked(name, tuple(v.strip() for v in env.get(name, "").split(",") if v.strip()))


def legacy_secret(env: Mapping[str, str]) -> tuple[str, ...]:
    """``CATALOG_SYNC_WEBHOOK_SECRET``'s one secret, whole: it never was a list, and a secret holding a
    comma (GitHub takes any text) must go on verifying deliveries as it did."""
    value = env.get(LEGACY_SECRET_ENV, "").strip()
    return _checked(LEGACY_SECRET_ENV, (value,) if value else ())


def _checked(name: str, values: tuple[str, ...]) -> tuple[str, ...]:
    """``values`` of the variable ``name``, refused when one is too short, too long or not one line."""
    for position, value in enumerate(values, start=1):
        if not value.isprintable():  # one a line, they would be one secret no delivery is signed with
            raise ConfigError(
                name,
                f"value {position} of {len(values)} holds a line break or another control character; "
                "secrets are separated by commas (two while rotating), each on one line",
            )
        if not MIN_SECRET_LENGTH <= len(value) <= MAX_SECRET_LENGTH:
            raise ConfigError(
                name,
                f"value {position} of {len(values)} is {len(value)} characters; each must have "
                f"{MIN_SECRET_LENGTH} to {MAX_SECRET_LENGTH} (comma-separated, two while rotating)",
            )
    return values


def webhook_settings(loaded: WebhookSettings, env: Mapping[str, str]) -> WebhookSettings:
    """The section with its secrets and tokens read from the environment it names, and which of the
    variables the file names held nothing (``WebhookSettings.unset``)."""
    named = split_secrets(env, loaded.github_secrets_env)
    secrets = named
    if loaded.github_secrets_env != LEGACY_SECRET_ENV:
        secrets += tuple(s for s in legacy_secret(env) if s not in secrets)
    tokens = split_secrets(env, loaded.gitlab_tokens_env)
    empty = {"github": not named, "gitlab": not tokens}
    unset = tuple(provider for provider in loaded.named if empty[provider])
    return replace(loaded, github_secrets=secrets, gitlab_tokens=tokens, unset=unset)
