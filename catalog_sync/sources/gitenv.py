"""What every git process of a source may do (``GitLimits``: transports, deadlines, size, hosts) and
the environment that locks it down (``git_environment``): the URL and the rules reach git through
``GIT_CONFIG_*``, never the command line, so credentials show in no process list."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from catalog_sync.config import SyncSettings

_ENVIRONMENT_OVERRIDES = {"http.sslCAInfo": "GIT_SSL_CAINFO", "http.proxySSLCAInfo": "GIT_PROXY_SSL_CAINFO"}
"""Settings git takes from a variable of the environment before its configuration: a source that
sets one sets the variable too, or a ``GIT_SSL_CAINFO`` set for other uses would win."""
REMOTE = "catalog-sync-source"
"""The remote every cache clone fetches from; its URL is set in the environment, never stored."""


@dataclass(frozen=True)
class GitLimits:
    """What git may do for one repository: transports, deadlines, size, and which hosts it may reach.

    ``private_networks`` is ``None`` for configured sources (an operator chose the URL) and the
    allowed networks for registered repositories (anyone with a write token chose it).
    """

    allowed_protocols: tuple[str, ...] = ("https", "ssh", "file")
    tip_timeout: float = 30.0
    fetch_timeout: float = 300.0
    max_bytes: int | None = None
    private_networks: tuple[str, ...] | None = None
    release_tags: str | None = None
    """A glob of tag names fetched with the branch (``kpis.release_tag_pattern``), for ``git`` KPIs."""

    @classmethod
    def of(cls, sync: SyncSettings, *, registered: bool = False) -> GitLimits:
        """The limits the settings give a configured (or, when ``registered``, a registered) repository."""
        return cls(
            allowed_protocols=tuple(sync.allowed_protocols),
            tip_timeout=sync.tip_timeout_seconds,
            fetch_timeout=sync.fetch_timeout_seconds,
            max_bytes=sync.max_repository_bytes,
            private_networks=tuple(sync.allowed_private_networks) if registered else None,
        )


def git_environment(
    url: str, allowed_protocols: Sequence[str], extra: Sequence[tuple[str, str]] = ()
) -> dict[str, str]:
    """The environment every git process of a source runs with: the locks described above."""
    config = [
        (f"remote.{REMOTE}.url", url),
        ("protocol.allow", "never"),
        *((f"protocol.{name}.allow", "always") for name in sorted(set(allowed_protocols))),
        ("core.hooksPath", os.devnull),
        ("credential.interactive", "never"),
        ("http.followRedirects", "initial"),
        # Everything fetched arrives as a pack, whose growth the size limit watches.
        ("fetch.unpackLimit", "1"),
        *extra,
    ]
    start = int(os.environ.get("GIT_CONFIG_COUNT", "0") or 0)
    env = {
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ASKPASS": "echo",
        "SSH_ASKPASS": "echo",
        "GIT_PROTOCOL_FROM_USER": "0",
        "GIT_CONFIG_COUNT": str(start + len(config)),
    }
    if "GIT_SSH_COMMAND" not in os.environ and "GIT_SSH" not in os.environ:
        env["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes"
    for key, value in extra:
        if key in _ENVIRONMENT_OVERRIDES:
            env[_ENVIRONMENT_OVERRIDES[key]] = value
    if any(key == "http.proxy" for key, _ in extra):
        # A source that names its way (a hosted source's proxy, or none) takes it for every host: the
        # exceptions of ``no_proxy``, set for other tools, would send its fetches around the proxy.
        env["no_proxy"] = env["NO_PROXY"] = ""
    for offset, (key, value) in enumerate(config):
        env[f"GIT_CONFIG_KEY_{start + offset}"] = key
        env[f"GIT_CONFIG_VALUE_{start + offset}"] = value
    return env
