"""How a hosted source or a notification channel reaches its host (``proxy``, ``proxy_auth_env``,
``ca_file``), each key checked alone, the proxy's credentials read from the environment
(``proxy_credentials``), and the host-and-port rule every URL of the configuration shares
(``names_a_host``).

The proxy is written without credentials, as ``api_url`` is: a file that is shared and committed
names the environment variable that holds them (``proxy_auth_env``), never the secret.
"""

from __future__ import annotations

import ipaddress
import re
import ssl
from collections.abc import Mapping
from typing import Any
from urllib.parse import SplitResult, quote, urlsplit, urlunsplit

from marshmallow import ValidationError

from catalog_sync.config.settings import HostNetwork
from catalog_sync.credentials import credential_in_url, env_value

_AUTHORITY = re.compile(r"(?:\[(?P<ipv6>[^\]]*)\]|[\w.-]+)(?::[0-9]*)?\Z")
"""``host[:port]``, the host a name (letters, digits, '.', '-', '_') or a bracketed IPv6 address."""
MAX_CA_FILE_BYTES = 16 * 1024 * 1024
"""A bundle larger than this is no bundle of authorities (every public one is under 300 KiB)."""
MAX_URL = 2000
MAX_PATH = 4096
"""The longest ``ca_file`` taken: longer is no path a file system opens."""


def names_a_host(netloc: str) -> bool:
    """Whether the authority is a host and a port alone. ``urlsplit`` reads ``[v1.x]`` as the name
    ``v1.x`` and drops what follows a ``]``, and a name holding ``<``, ``%`` or ``\\`` names no host:
    taken, the source would call another host than the one written, or fail at every pass."""
    found = _AUTHORITY.match(netloc)
    if found is None:
        return False
    if found["ipv6"] is None:
        return True
    try:
        ipaddress.IPv6Address(found["ipv6"])
    except ValueError:
        return False
    return True


def split_url(value: str) -> tuple[SplitResult, int | None]:
    """A URL of the configuration in its parts and its port; refused when it holds a space (a no-break
    or zero-width one pasted with it too) or a control character, when it is not ASCII (libcurl takes
    URLs in ASCII alone: any other character stopped the whole sync), or when it cannot be read."""
    if " " in value or not value.isprintable():
        raise ValidationError("the URL contains spaces or control characters")
    if not value.isascii():
        raise ValidationError("write the URL in ASCII (an international host name in its xn-- form)")
    try:
        parts = urlsplit(value)
        return parts, parts.port
    except ValueError as exc:
        raise ValidationError(f"not a URL: {exc}") from None


def check_proxy(value: str) -> None:
    """A proxy is ``http(s)://HOST:PORT``: no credentials (``proxy_auth_env`` names them), no path, no
    query; libcurl and git would each read anything more in their own way. The port is required:
    without one, both use 1080, which is seldom what a person writing ``http://proxy`` meant."""
    if not value or len(value) > MAX_URL:
        raise ValidationError(
            f"must be a URL of 1 to {MAX_URL} characters, such as http://proxy.example.com:3128"
        )
    if credential_in_url(value) is not None or "@" in value:
        raise ValidationError(
            "the proxy URL carries credentials; write http://HOST:PORT and name the environment variable "
            "that holds user:password in proxy_auth_env"
        )
    parts, port = split_url(value)
    if parts.scheme.lower() not in ("http", "https"):
        raise ValidationError("must be an http or https proxy URL, such as http://proxy.example.com:3128")
    if not parts.hostname or not names_a_host(parts.netloc):
        raise ValidationError("the URL names no host; give http://HOST:PORT")
    if port is None or port == 0:
        raise ValidationError(
            "give the proxy's port (http://HOST:PORT): clients disagree on a proxy's default (libcurl and "
            "git use 1080)"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment or "?" in value or "#" in value:
        raise ValidationError("a proxy URL is http(s)://HOST:PORT alone: no path, query or fragment")


def check_ca_file(value: str) -> None:
    """An absolute path: the configuration is read by processes started from anywhere (a pod, a
    service), and a relative path would name another file in each. What the file holds is checked by
    ``check_ca_bundle``: for a channel when the settings load, for a source when it is built."""
    if not value or len(value) > MAX_PATH or not value.isprintable():
        raise ValidationError(f"must be a path of 1 to {MAX_PATH} printable characters")
    if not value.startswith("/"):
        raise ValidationError(
            "give the absolute path of a PEM file of certificates (such as /etc/ssl/acme.pem)"
        )


def _canonical_proxy(proxy: str) -> str:
    """The scheme in lower case and no final '/': git tells an https proxy from an http one by a
    case-sensitive ``https`` prefix, where libcurl reads any case, so ``HTTPS://`` would send the API
    requests over TLS to the proxy and the fetches in plain HTTP."""
    scheme, _, rest = proxy.partition("://")
    return f"{scheme.lower()}://{rest.rstrip('/')}"


def network_of(data: dict[str, Any]) -> HostNetwork:
    """The keys read into settings; ``proxy_auth_env`` without ``proxy`` is refused, as it does nothing."""
    if data.get("proxy_auth_env") and not data.get("proxy"):
        raise ValidationError("proxy_auth_env is set but proxy is not; name the proxy", "proxy_auth_env")
    proxy = data.get("proxy")
    return HostNetwork(
        proxy=_canonical_proxy(proxy) if proxy else None,
        proxy_auth_env=data.get("proxy_auth_env"),
        ca_file=data.get("ca_file"),
    )


def proxy_credentials(variable: str, environ: Mapping[str, str]) -> str:
    """The ``user:password`` that ``variable`` holds, or ``ValueError`` saying what is wrong with it
    (``proxy_auth_env names VARIABLE, which ...``), never quoting it. Sources and notification channels
    read it alike, each naming its own key around the message."""
    named = f"proxy_auth_env names {variable}"
    value = env_value(environ, variable)
    if not value:
        raise ValueError(f"{named}, which is not set in the environment; set it to the proxy's user:password")
    user, colon, _password = value.partition(":")
    if not colon or not user:
        raise ValueError(f"{named}, which does not hold user:password (a user, a colon, the password)")
    if not value.isprintable():  # sent base64-encoded: only a control character could break anything
        raise ValueError(f"{named}, which holds a line break or another control character")
    if "%" in value:
        # git reads the credentials of ``http.proxy`` percent-decoded, and some versions decode them
        # twice: a '%' would reach the proxy as one character or as another, depending on git.
        raise ValueError(
            f"{named}, which holds a '%': git, which fetches through the same proxies, does not read one "
            "the same in every version"
        )
    return value


def proxy_with_credentials(proxy: str, credentials: str | None) -> str:
    """The proxy URL with ``user:password@`` percent-encoded into it, as git reads ``http.proxy`` and
    requests reads a proxy's URL (both decode it into ``Proxy-Authorization``)."""
    if credentials is None:
        return proxy
    user, _, password = credentials.partition(":")
    parts = urlsplit(proxy)
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{parts.netloc}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def check_ca_bundle(path: str) -> None:
    """``ValueError`` (``ca_file PATH ...``) unless ``path`` is a file of PEM certificates OpenSSL
    loads: a wrong path or a key given in its place would otherwise fail every request with a TLS error
    that names no setting. Sources and notification channels check it alike, each naming its key."""
    named = f"ca_file {path}"
    try:
        with open(path, "rb") as opened:
            text = opened.read(MAX_CA_FILE_BYTES + 1)
    except OSError as exc:
        raise ValueError(f"{named} cannot be read: {exc.strerror}") from None
    if len(text) > MAX_CA_FILE_BYTES:
        raise ValueError(f"{named} is larger than {MAX_CA_FILE_BYTES // (1024 * 1024)} MiB; no bundle is")
    if b"-----BEGIN CERTIFICATE-----" not in text:
        raise ValueError(f"{named} holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
    try:
        ssl.create_default_context(cafile=path)
    except (ssl.SSLError, ValueError) as exc:
        raise ValueError(f"{named} holds a certificate OpenSSL cannot load: {exc}") from None
