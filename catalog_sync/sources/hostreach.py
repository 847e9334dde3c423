"""How one hosted source reaches its host (``HostNetwork`` made ready): the proxy with its credentials
read from the environment, and the authorities trusted, for libcurl (the API) and git (the fetches).

Both of a source's ways to its host go the same way: a source configured with a proxy sends its API
requests and its git fetches through it, and trusts its ``ca_file`` for both. Nothing is taken from
the environment but what the configuration names (``proxy_auth_env``): ``https_proxy`` and its kin,
set for other tools, never see a source's API requests, and git is told the proxy explicitly. An
https host is reached through a proxy by a tunnel (``CONNECT``), so the proxy sees the host's name
and never a token; an http one, which ``sync.allowed_protocols`` must allow, is sent to the proxy
whole, token included.

What the environment and the file hold is checked when the source is built, so a wrong one fails the
source at once naming the key, never a secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from requests.utils import DEFAULT_CA_BUNDLE_PATH

from catalog_sync.config import HostNetwork
from catalog_sync.config.network import check_ca_bundle, proxy_credentials, proxy_with_credentials
from catalog_sync.errors import SourceError


@dataclass(frozen=True)
class Reach:
    """The proxy (None: direct), its ``user:password`` (None: none asked) and the CA bundle."""

    proxy: str | None = None
    proxy_credentials: str | None = field(default=None, repr=False)
    ca_file: str | None = None
    """The configured bundle; None trusts the bundled authorities (API) and git's own (fetches)."""

    @property
    def api_ca_file(self) -> str:
        """The bundle libcurl checks the host's (and an https proxy's) certificate against."""
        return self.ca_file or DEFAULT_CA_BUNDLE_PATH

    def git_config(self, origin: str) -> list[tuple[str, str]]:
        """The settings that send a source's git fetches to ``origin`` (its host, ``scheme://host[:port]``)
        the same way (through ``GIT_CONFIG_*``, never the command line): ``http.proxy`` with its
        credentials, or empty (which git reads as "no proxy", whatever ``https_proxy`` says), also
        scoped to the origin, since git prefers an ``http.<url>.proxy`` the machine's configuration
        names for the host to any ``http.proxy``; and ``http.sslCAInfo``. The credential helpers the
        machine configures are emptied for the proxy alone: git hands them the proxy's password once
        it was accepted, and ``store`` (or a keychain) would keep it."""
        proxy = proxy_with_credentials(self.proxy, self.proxy_credentials) if self.proxy else ""
        config = [("http.proxy", proxy), (f"http.{origin}/.proxy", proxy)]
        if self.proxy is not None and self.proxy_credentials is not None:
            config.append((f"credential.{self.proxy}.helper", ""))
        if self.proxy is not None and self.ca_file is not None:
            config.append(("http.proxySSLCAInfo", self.ca_file))
        if self.ca_file is not None:
            config.append(("http.sslCAInfo", self.ca_file))
        return config

    def secrets(self) -> tuple[str, ...]:
        """What errors must never show: the proxy's password."""
        if self.proxy_credentials is None:
            return ()
        return (self.proxy_credentials, self.proxy_credentials.partition(":")[2])


DIRECT = Reach()
"""No proxy, the bundled authorities: how a source without network keys reaches its host."""


def reach_of(source: str, network: HostNetwork, environ: Mapping[str, str]) -> Reach:
    """The source's ``Reach``, its secret read from the environment now; ``SourceError`` names the key
    (``proxy_auth_env``, ``ca_file``) of whatever is missing or wrong, never a value."""
    credentials = None
    if network.proxy_auth_env is not None:
        credentials = _proxy_credentials(source, network.proxy_auth_env, environ)
    if network.ca_file is not None:
        _check_ca_file(source, network.ca_file)
    return Reach(network.proxy, credentials, network.ca_file)


def _proxy_credentials(source: str, variable: str, environ: Mapping[str, str]) -> str:
    try:
        return proxy_credentials(variable, environ)
    except ValueError as exc:
        raise SourceError(f"source {source!r}: {exc}") from None


def _check_ca_file(source: str, path: str) -> None:
    try:
        check_ca_bundle(path)
    except ValueError as exc:
        raise SourceError(f"source {source!r}: {exc}") from None


__all__ = ["DIRECT", "Reach", "reach_of"]
