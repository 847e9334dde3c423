"""Which hosts a repository registered through the API may name: public ones only, unless allowed.

``POST /api/repositories`` lets a token holder make the server run git against any URL. Pointed at
``169.254.169.254`` (a cloud's metadata service), ``127.0.0.1`` or ``10.x``, that would turn the catalog
into a probe of the internal network. So a registered URL whose host is, or resolves to, an address
that is not public (loopback, link-local, private, unique-local, shared, unspecified, multicast,
reserved) is refused unless ``sync.allowed_private_networks`` names its network (CIDR) or its host name.
The rule runs at registration and again before every git command that reaches the host, because a
name's addresses can change after it was registered; the address checked is the one git is told to use.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from catalog_sync.errors import AddressNotAllowedError
from catalog_sync.sources.urls import redact, scp_host, scp_split, transport_of

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], list[str]]
DEFAULT_PORTS = {"https": 443, "http": 80, "ssh": 22, "git": 9418}


@dataclass(frozen=True)
class CheckedHost:
    """A URL's host, its port, and the public (or allowed) addresses git is to use for it."""

    host: str
    port: int
    addresses: tuple[str, ...]
    is_name: bool
    """Whether the host is a name (its addresses came from a lookup) rather than an address."""


def resolve(host: str) -> list[str]:
    """Every address ``host`` resolves to now (the system resolver, as git would ask)."""
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return [str(info[4][0]) for info in infos]


def host_and_port(url: str) -> tuple[str, int] | None:
    """The host a URL makes git connect to, and the port; ``None`` for a local path."""
    transport = transport_of(url)
    if transport == "file":
        return None
    if "://" not in url:  # scp-like ssh: [user@]host:path, with git's brackets ([::1], [host:port])
        _user, host, port = scp_host(scp_split(url)[0])
        return host.lower(), port or DEFAULT_PORTS["ssh"]
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return (parts.hostname or "").lower(), port or DEFAULT_PORTS.get(transport, 443)


_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one reaches through a translator or tunnel: mapped (``::ffff:a.b.c.d``),
    compatible (``::a.b.c.d``), 6to4 (``2002:AABB:CCDD::``) or NAT64 (``64:ff9b::a.b.c.d``)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or address in _IPV4_COMPATIBLE:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: Address) -> bool:
    """Whether an address belongs to the public internet; an IPv6 address that embeds an IPv4 one is
    judged by it, since a translator or tunnel on the way delivers it there."""
    if isinstance(address, ipaddress.IPv6Address):
        if address in _LOCAL_NAT64:  # a network's own translator: where it leads is not known
            return False
        inner = embedded_ipv4(address)
        if inner is not None:
            address = inner
    return address.is_global and not address.is_multicast


def _allowed(address: Address, networks: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    return any(address.version == n.version and address in n for n in networks)


def _networks(allowed: Sequence[str]) -> tuple[list[ipaddress.IPv4Network | ipaddress.IPv6Network], set[str]]:
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    names: set[str] = set()
    for entry in allowed:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            names.add(entry.strip().lower().rstrip("."))
    return networks, names


def refusal(url: str) -> AddressNotAllowedError:
    """The one answer for a host that is not allowed: it names the setting, never an address."""
    return AddressNotAllowedError(
        f"repository URL {redact(url)!r} refused: its host is, or resolves to, an address that is not "
        "public (loopback, link-local, private or reserved); sync.allowed_private_networks may allow "
        "it by network (CIDR, such as 10.20.0.0/16) or by host name"
    )


_NAME = re.compile(r"[a-z0-9_.-]+")
"""A host name every resolver on the way (ours, curl's, ssh's) looks up as it is written: a name with
another character (``bücher``, ``%2E``) is turned into another name by curl (its ASCII form, decoded),
so the address pinned for the name checked would not apply to the name git looks up."""
_BRACKETED = re.compile(r"\[[0-9a-f:.]+(?:%25[^\]]*)?\](?::[0-9]*)?")


def _unreachable_form(url: str, host: str) -> str | None:
    """Why git could reach another host than ``host``, the one checked; None when it reaches that one."""
    if not host:
        return "it names no host"
    if "://" in url:
        written = urlsplit(url).netloc.rpartition("@")[2].lower()
        if written.startswith("[") and not _BRACKETED.fullmatch(written):
            return "its brackets hold no IPv6 address, or text follows them (an IPv6 host is [2001:db8::1])"
    try:
        ipaddress.ip_address(host.partition("%")[0])
    except ValueError:
        if not _NAME.fullmatch(host):
            return (
                "its host name holds other characters than ASCII letters, digits, '-', '_' and '.', "
                "which git would look up under another name; write an internationalised name in its "
                "ASCII form (xn--...)"
            )
    return None


def check_host(url: str, allowed: Sequence[str], *, resolver: Resolver | None = None) -> CheckedHost | None:
    """Refuse ``url`` when its host is not public and not allowed; answer the address to use.

    ``localhost`` and every name under ``.localhost`` are loopback whatever the resolver says (curl
    answers them itself). A host written so that git would look up another name than the one checked
    (non-ASCII, escaped, bracketed but no IPv6 address) or no host at all is refused. A host name that
    does not resolve now is let through with no address (``CheckedHost.addresses`` empty); the caller
    must not let git resolve it (``git`` refuses to run).
    """
    found = host_and_port(url)
    if found is None:
        return None
    host, port = found
    if (reason := _unreachable_form(url, host)) is not None:
        raise AddressNotAllowedError(f"repository URL {redact(url)!r} refused: {reason}")
    networks, names = _networks(allowed)
    is_name = False
    try:
        addresses: list[str] = [str(ipaddress.ip_address(host.partition("%")[0]))]
    except ValueError:
        is_name = True
        bare = host.lower().rstrip(".")
        if bare == "localhost" or bare.endswith(".localhost"):
            addresses = ["127.0.0.1", "::1"]
        else:
            try:
                addresses = (resolver or resolve)(host)
            except (OSError, UnicodeError):
                addresses = []
    if not addresses:
        return CheckedHost(host, port, (), is_name)
    for text in addresses:
        address = ipaddress.ip_address(text.partition("%")[0])
        if not is_public(address) and not _allowed(address, networks) and host.rstrip(".") not in names:
            raise refusal(url)
    unique = tuple(dict.fromkeys(text.partition("%")[0] for text in addresses))
    return CheckedHost(host, port, unique, is_name)


__all__ = [
    "DEFAULT_PORTS",
    "CheckedHost",
    "check_host",
    "embedded_ipv4",
    "host_and_port",
    "is_public",
    "refusal",
    "resolve",
]
