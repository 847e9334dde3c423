"""The ``notifications`` section: channels, their events, and how deliveries are tried.

A channel names the environment variables that hold its URL, secret and proxy credentials, never the
values: the file is kept in a repository and rendered into Helm values, where a secret must not be.
The values are read when the settings load (``resolve_channels``) and refused there with the key
named, and the message never quotes them (a URL that is not one may still be a secret). A channel's
``proxy``, ``proxy_auth_env`` and ``ca_file`` follow a hosted source's rules (``config.network``),
checked by the same code with the same messages; the bundle's content is checked at load too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate, validates_schema

from catalog_sync.config.network import (
    check_ca_bundle,
    check_ca_file,
    check_proxy,
    network_of,
    proxy_credentials,
)
from catalog_sync.config.settings import (
    _DAY,
    _HOUR,
    CHANNEL_TYPES,
    NOTIFICATION_EVENTS,
    ChannelSettings,
    NotificationSettings,
)
from catalog_sync.errors import ConfigError

MAX_CHANNELS = 20
"""Channels one catalog may configure; the delivery counter has one series per channel and event."""
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


class _Number(fields.Float):
    def _validated(self, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        return float(super()._validated(value))


class _ChannelSchema(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9][-A-Za-z0-9_.]{0,62}$"))
    type = fields.String(required=True, validate=validate.OneOf(CHANNEL_TYPES))
    url_env = fields.String(
        required=True, validate=validate.Regexp(ENV_NAME, error="must be the name of an environment variable")
    )
    secret_env = fields.String(
        validate=validate.Regexp(ENV_NAME, error="must be the name of an environment variable")
    )
    events = fields.List(
        fields.String(validate=validate.OneOf(NOTIFICATION_EVENTS)),
        required=True,
        validate=validate.Length(min=1, error="name at least one event"),
    )
    filter = fields.String(validate=validate.Length(min=1, max=1000))
    proxy = fields.String(validate=check_proxy)
    ca_file = fields.String(validate=check_ca_file)
    proxy_auth_env = fields.String(
        validate=validate.Regexp(ENV_NAME, error="must be the name of an environment variable")
    )

    @validates_schema
    def _check_network(self, data: dict[str, Any], **_: Any) -> None:
        network_of(data)

    @validates_schema
    def _check_secret(self, data: dict[str, Any], **_: Any) -> None:
        """Slack's incoming webhooks take no signature: a secret for one would protect nothing."""
        if data.get("type") == "slack" and data.get("secret_env"):
            raise ValidationError("a slack channel takes no secret (its URL is the secret)", "secret_env")

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> ChannelSettings:
        data["events"] = tuple(dict.fromkeys(data["events"]))
        if data.get("proxy"):
            data["proxy"] = network_of(data).proxy
        return ChannelSettings(**data)


class NotificationSchema(Schema):
    """``notifications``: the channels, and the tries, back-off and timeout of every delivery."""

    class Meta:
        unknown = RAISE

    channels = fields.List(
        fields.Nested(_ChannelSchema),
        validate=validate.Length(max=MAX_CHANNELS, error=f"at most {MAX_CHANNELS} channels"),
    )
    max_attempts = fields.Integer(strict=True, validate=validate.Range(min=1, max=50))
    backoff_seconds = _Number(validate=validate.Range(min=0.01, max=_HOUR))
    max_backoff_seconds = _Number(validate=validate.Range(min=0.01, max=_DAY))
    timeout_seconds = _Number(validate=validate.Range(min=0.1, max=120))
    poll_seconds = _Number(validate=validate.Range(min=0.05, max=_HOUR))
    batch_size = fields.Integer(strict=True, validate=validate.Range(min=1, max=1000))
    concurrency = fields.Integer(strict=True, validate=validate.Range(min=1, max=64))

    @validates_schema
    def _check_unique(self, data: dict[str, Any], **_: Any) -> None:
        """Deliveries and counters are kept by channel name: two channels of one name would merge."""
        seen: set[str] = set()
        for index, channel in enumerate(data.get("channels", [])):
            if channel.name in seen:
                raise ValidationError(
                    {str(index): {"name": [f"channel name {channel.name!r} is used twice"]}}, "channels"
                )
            seen.add(channel.name)

    @validates_schema
    def _check_backoff(self, data: dict[str, Any], **_: Any) -> None:
        first = data.get("backoff_seconds", NotificationSettings.backoff_seconds)
        if data.get("max_backoff_seconds", NotificationSettings.max_backoff_seconds) < first:
            raise ValidationError("must not be less than backoff_seconds", "max_backoff_seconds")

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> NotificationSettings:
        data["channels"] = tuple(data.get("channels", ()))
        return NotificationSettings(**data)


def resolve_channels(settings: NotificationSettings, environ: Mapping[str, str]) -> NotificationSettings:
    """Read each channel's URL and secret from the environment, or refuse the channel naming its key.

    A message says which variable is missing or wrong and never quotes its value."""
    resolved = []
    for index, channel in enumerate(settings.channels):
        key = f"notifications.channels.{index}"
        url = environ.get(channel.url_env, "").strip()
        if not url:
            raise ConfigError(f"{key}.url_env", f"the environment variable {channel.url_env} is not set")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"{key}.url_env",
                f"the environment variable {channel.url_env} does not hold an http or https URL",
            )
        secret = None
        if channel.secret_env:
            secret = environ.get(channel.secret_env, "")
            if len(secret) < 16:
                raise ConfigError(
                    f"{key}.secret_env",
                    f"the environment variable {channel.secret_env} must hold a secret of at least 16 "
                    "characters",
                )
        credentials = _proxy_credentials(channel, key, environ)
        if channel.ca_file is not None:
            try:
                check_ca_bundle(channel.ca_file)
            except ValueError as exc:
                raise ConfigError(f"{key}.ca_file", str(exc)) from None
        resolved.append(replace(channel, url=url, secret=secret, proxy_credentials=credentials))
    return replace(settings, channels=tuple(resolved))


def _proxy_credentials(channel: ChannelSettings, key: str, environ: Mapping[str, str]) -> str | None:
    """The proxy's ``user:password``, checked as a hosted source's are; None when the channel names none."""
    if channel.proxy_auth_env is None:
        return None
    try:
        return proxy_credentials(channel.proxy_auth_env, environ)
    except ValueError as exc:
        raise ConfigError(f"{key}.proxy_auth_env", str(exc)) from None
