"""Which hosts a registered repository may name: public ones, and those the configuration allows."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from catalog_sync.errors import AddressNotAllowedError
from catalog_sync.sources.hosts import check_host, host_and_port


def resolving_to(*addresses: str) -> Callable[[str], list[str]]:
    return lambda _host: list(addresses)


def test_a_public_name_is_allowed_and_git_is_told_the_address_checked() -> None:
    checked = check_host("https://git.example.com/a.git", (), resolver=resolving_to("93.184.216.34"))
    assert checked is not None
    assert (checked.host, checked.port, checked.addresses) == ("git.example.com", 443, ("93.184.216.34",))


@pytest.mark.parametrize(
    "addresses",
    [
        ("10.1.2.3",),
        ("93.184.216.34", "127.0.0.1"),
        ("169.254.169.254",),
        ("::1",),
        ("fd12::1",),
        ("::ffff:10.0.0.1",),
        ("64:ff9b::a9fe:a9fe",),  # NAT64 of 169.254.169.254
        ("64:ff9b:1::7f00:1",),  # local-use NAT64 of 127.0.0.1
        ("2002:7f00:1::",),  # 6to4 of 127.0.0.1
        ("::127.0.0.1",),  # IPv4-compatible
    ],
)
def test_a_name_with_any_internal_address_is_refused(addresses: tuple[str, ...]) -> None:
    with pytest.raises(AddressNotAllowedError) as refused:
        check_host("https://git.example.com/a.git", (), resolver=resolving_to(*addresses))
    for address in addresses:
        assert address not in str(refused.value)  # the answer never maps the internal network


def test_a_public_address_inside_ipv6_stays_public() -> None:
    for address in ("64:ff9b::5db8:d822", "2002:5db8:d822::", "2606:4700::1111"):
        assert check_host("https://git.example.com/a.git", (), resolver=resolving_to(address)) is not None


def test_the_setting_allows_by_network_or_by_name() -> None:
    internal = resolving_to("10.20.3.4")
    assert check_host("https://git.corp/a.git", ("10.20.0.0/16",), resolver=internal) is not None
    assert check_host("https://GIT.corp./a.git", ("git.corp",), resolver=internal) is not None
    with pytest.raises(AddressNotAllowedError):
        check_host("https://git.corp/a.git", ("10.21.0.0/16", "other.corp"), resolver=internal)


def test_a_name_that_does_not_resolve_has_no_address_and_local_paths_have_no_host() -> None:
    def fails(_host: str) -> list[str]:
        raise OSError("no such host")

    checked = check_host("https://nowhere.invalid/a.git", (), resolver=fails)
    assert checked is not None
    assert checked.addresses == ()  # nothing git may be pointed at: it refuses to run (see test_git_limits)
    assert check_host("/srv/git/a.git", ()) is None


@pytest.mark.parametrize(
    "url", ["https://localhost/a.git", "https://admin.localhost:8443/a.git", "https://LOCALHOST./a"]
)
def test_localhost_names_are_loopback_whatever_the_resolver_says(url: str) -> None:
    """curl answers ``*.localhost`` itself, so a resolver that fails or lies must not let one through."""

    def fails(_host: str) -> list[str]:
        raise OSError("no such host")

    with pytest.raises(AddressNotAllowedError):
        check_host(url, (), resolver=fails)
    with pytest.raises(AddressNotAllowedError):
        check_host(url, (), resolver=resolving_to("93.184.216.34"))
    assert check_host(url, ("127.0.0.0/8", "::1/128"), resolver=fails) is not None


@pytest.mark.parametrize(
    ("url", "host", "port"),
    [
        ("git@[::1]:acme/a.git", "::1", 22),
        ("[::1]:acme/a.git", "::1", 22),
        ("[git@127.0.0.1]:acme/a.git", "127.0.0.1", 22),
        ("[localhost:2222]:acme/a.git", "localhost", 2222),
        ("git@git.example.com:acme/a.git", "git.example.com", 22),
    ],
)
def test_an_scp_like_address_names_the_host_git_connects_to(url: str, host: str, port: int) -> None:
    assert host_and_port(url) == (host, port)


@pytest.mark.parametrize(
    "url",
    [
        "https://fa\u00df.example/a.git",  # looked up here as fass.example, by curl as xn--fa-hia.example
        "https://b\u00fccher.example/a.git",
        "https://GIT%2Eexample.com/a.git",  # curl decodes the escape, the resolver would be asked it as is
        "ssh://git@b\u00fccher.example/a.git",
        "git@b\u00fccher.example:a.git",
    ],
)
def test_a_host_name_git_would_look_up_under_another_name_is_refused(url: str) -> None:
    """The address checked is pinned for git (``http.curloptResolve``) under the name checked; curl looks
    an internationalised name up by its ASCII form (and decodes escapes), so the pin never applied and
    git resolved the name again, to wherever it led then: a name whose other spelling leads inside was
    let through."""
    with pytest.raises(AddressNotAllowedError, match="xn--"):
        check_host(url, (), resolver=resolving_to("93.184.216.34"))
    assert check_host("https://xn--bcher-kva.example/a.git", (), resolver=resolving_to("93.184.216.34"))


@pytest.mark.parametrize("url", ["https:///a.git", "https://", "ssh:///a.git", "git@:a.git", "[]:a.git"])
def test_a_url_that_names_no_host_is_refused(url: str) -> None:
    with pytest.raises(AddressNotAllowedError, match="names no host"):
        check_host(url, (), resolver=resolving_to("93.184.216.34"))


@pytest.mark.parametrize(
    "url", ["https://[v1.x]/a.git", "https://[2001:4860::1]x/a.git", "https://git@[v1.x]:8443/a.git"]
)
def test_brackets_around_anything_but_an_ipv6_address_are_refused(url: str) -> None:
    """The URL reader takes ``[v1.x]`` for the name ``v1.x`` and drops what follows a ``]``: the host
    checked and stored would be another than the one written."""
    with pytest.raises(AddressNotAllowedError, match="IPv6"):
        check_host(url, (), resolver=resolving_to("93.184.216.34"))
