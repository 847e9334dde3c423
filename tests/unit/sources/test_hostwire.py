"""The hosting-API client's sending (``hostwire``) against a real local GitHub.

The whole-answer deadline: an answer trickled a byte at a time (each socket read well within the
timeout) is stopped once the timeout has passed since the request, with a message naming the setting
and no token, and the client goes on answering. Connections are kept alive and no file is left open.
Nothing is taken from the environment (a proxy), nothing is sent that would break a request's framing
(a header value the host answered with a carriage return in it), only http and https are sent to, and
a compressed answer is read as the caller reads any other."""

from __future__ import annotations

import gc
import os
import socket
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog_sync.errors import HostApiError
from catalog_sync.sources.hostapi import HostClient, HostLimits
from catalog_sync.sources.hostreach import Reach
from catalog_sync.sources.hostwire import HostWire
from tests.fixtures.fakegithub import FakeGitHub, Fault, fake_github

TOKEN = "enterprise-token-without-prefix-42"
LIST = "/orgs/acme/repos?per_page=100"
TRICKLE = 0.05
"""Seconds between the bytes of a trickled answer: twenty reads a second, each far within any timeout."""


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[FakeGitHub]:
    with fake_github(tmp_path / "hub") as hub:
        hub.orgs.add("acme")
        hub.tokens.add(TOKEN)
        template = hub.add_repo("acme", "template", files={"README.md": "hello\n"})
        hub.add_copies("acme", template, [f"svc-{i:03}" for i in range(9)])
        yield hub


def client(hub: FakeGitHub, timeout: float = 5.0) -> HostClient:
    return HostClient(
        "acme", hub.api_url, authorization=lambda: f"token {TOKEN}", limits=HostLimits(timeout=timeout)
    )


@pytest.mark.parametrize("head", [False, True], ids=["body-trickled", "headers-trickled"])
def test_a_trickled_answer_is_stopped_at_the_timeout_and_the_next_request_is_answered(
    hub: FakeGitHub, head: bool
) -> None:
    size = int(30 / TRICKLE)  # thirty seconds of body
    hub.fail(Fault(200, "/orgs/", size=size, trickle=TRICKLE, trickle_head=head))
    api = client(hub, timeout=1.0)
    started = time.monotonic()
    with pytest.raises(HostApiError) as failed:
        api.get(LIST)
    took = time.monotonic() - started
    assert 0.9 <= took < 2.0
    assert str(failed.value) == (
        f"source 'acme': {hub.origin}{LIST}: no whole answer within 1 s (sync.tip_timeout_seconds); "
        "the host is unreachable or too slow, tried again next pass"
    )
    assert TOKEN not in str(failed.value)
    assert hub.flooded < size // 10
    assert len(api.get(LIST).data) == 10


def test_an_answer_trickled_within_the_timeout_is_read_whole(hub: FakeGitHub) -> None:
    hub.fail(Fault(200, "/orgs/", size=10, trickle=TRICKLE))  # half a second
    api = client(hub, timeout=3.0)
    assert api.get_bytes(LIST, "application/json") == b" " * 10


def test_the_deadline_is_each_request_own_on_a_connection_kept_alive(hub: FakeGitHub) -> None:
    api = client(hub, timeout=1.0)
    for _ in range(4):  # two seconds of answers on one connection, each well within its second
        assert len(api.get(LIST, remember=False).data) == 10
        time.sleep(0.5)
    assert hub.connections == 1


def open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts the process's files in /proc")
@pytest.mark.parametrize("framing", ["length", "chunked", "close"])
def test_answers_read_through_the_deadline_leave_no_file_open(hub: FakeGitHub, framing: str) -> None:
    # Each answer opens the socket's reader once; closing it must neither leak the file nor close the
    # socket under the pool, which sends the next request on it (all but the connection-closing framing).
    api = client(hub, timeout=5.0)
    hub.fail(Fault(200, "/orgs/", size=1000, framing=framing, times=None))
    assert api.get_bytes(LIST, "application/json") == b" " * 1000
    opened = open_files()
    for _ in range(200):
        assert api.get_bytes(LIST, "application/json") == b" " * 1000
    gc.collect()
    assert open_files() <= opened
    assert hub.connections == (201 if framing == "close" else 1)


@pytest.mark.parametrize("variable", ["http_proxy", "ALL_PROXY", "all_proxy"])
def test_a_proxy_named_in_the_environment_is_not_used(
    hub: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    # A proxy set for other tools on the machine must not see the token: the API is asked directly.
    with fake_github(tmp_path / "proxy") as proxy:
        monkeypatch.setenv(variable, proxy.origin)
        monkeypatch.delenv("no_proxy", raising=False)
        monkeypatch.delenv("NO_PROXY", raising=False)
        assert len(client(hub).get(LIST).data) == 10
        assert proxy.seen == []
    assert hub.seen[-1].authorization == f"token {TOKEN}"


def test_an_answer_header_holding_a_carriage_return_fails_its_request_alone(hub: FakeGitHub) -> None:
    # Sent back as If-None-Match, such an ETag would start a header of the host's choosing on many
    # servers: the answer is refused whole, nothing of it is kept, and the next request is answered.
    hub.fail(Fault(200, "/orgs/", {"ETag": '"a\rX-Injected: 1"'}, body=b"[]"))
    api = client(hub)
    with pytest.raises(HostApiError) as refused:
        api.get(LIST)
    assert str(refused.value) == (
        f"source 'acme': {hub.origin}{LIST}: Carriage return found in header (libcurl error 8)"
    )
    assert len(api.get(LIST).data) == 10
    assert [seen.conditional for seen in hub.seen] == [False, False]


@pytest.mark.parametrize(
    ("name", "value"),
    [("If-None-Match", '"a"\r\nX-Injected: 1'), ("If-None-Match", '"a\rb"'), ("X-Odd", "a\0b"),
     ("X:Odd", "value-x"), ("If-None-Match", '"caf\u00e9\u2603"')],
)  # fmt: skip
def test_a_header_that_would_break_the_request_is_refused_before_sending(
    hub: FakeGitHub, name: str, value: str
) -> None:
    wire = HostWire(timeout=5.0, max_bytes=1000, keep=1)
    with pytest.raises(HostApiError, match=r"^shown: the .* header holds .*; not sent$") as refused:
        wire.send("GET", f"{hub.api_url}{LIST}", {name: value}, None, lambda: "shown")
    assert value not in str(refused.value)
    assert hub.seen == []


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/orgs/acme/repos", "gopher://h/x"])
def test_only_http_and_https_urls_are_sent_to(hub: FakeGitHub, url: str) -> None:
    with pytest.raises(HostApiError, match="not an http or https URL; not sent"):
        client(hub).get_bytes(url, "application/json")
    assert hub.seen == []


@pytest.mark.parametrize("framing", ["length", "chunked", "close"])
def test_a_compressed_answer_is_read_as_sent_before_compression(hub: FakeGitHub, framing: str) -> None:
    hub.fail(Fault(200, "/orgs/", size=70_000, encoding="gzip", framing=framing))
    assert client(hub).get_bytes(LIST, "application/json") == b" " * 70_000


@pytest.mark.parametrize(
    "first", [{}, {"HTTP/1.1 200": "OK"}], ids=["fields", "after-a-status-line-look-alike"]
)
def test_a_chunked_answer_trailer_is_not_read_as_a_header(hub: FakeGitHub, first: dict[str, str]) -> None:
    # Trailers come after the body; HTTP forbids merging them into the headers: one saying the rate
    # limit is spent for an hour must not stop the client's next request, even after a trailer that
    # starts as a status line does.
    reset = str(int(time.time()) + 3600)
    trailers = {
        **first,
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": reset,
        "Link": f'<{hub.api_url}/x>; rel="next"',
    }
    hub.fail(Fault(200, "/orgs/", size=10, framing="chunked", trailers=trailers))
    api = client(hub)
    assert api.get_bytes(LIST, "application/json") == b" " * 10
    page = api.get(LIST, remember=False)
    assert len(page.data) == 10
    assert page.next_url is None


def test_an_answer_read_is_not_kept_with_the_connection_left_open(hub: FakeGitHub) -> None:
    # A handle is kept per sync thread for its connection, not for its last answer: bodies of up to
    # max_answer_bytes each would otherwise stay in memory between requests.
    api = client(hub)
    hub.fail(Fault(200, "/orgs/", size=4 * 1024 * 1024))
    tracemalloc.start()
    try:
        assert len(api.get_bytes(LIST, "application/json")) == 4 * 1024 * 1024
        gc.collect()
        kept, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert kept < 1024 * 1024


def test_bytes_a_host_sends_after_an_answer_are_not_read_as_the_next_answer(hub: FakeGitHub) -> None:
    # A host whose Content-Length fell short goes on sending: what arrived after the answer is no answer
    # to the next request, which is sent on a new connection (libcurl checks a kept connection for
    # waiting bytes only once it has been idle a second).
    hub.fail(Fault(200, "/orgs/", size=100, declared=2, trickle=0.001))
    api = client(hub)
    assert api.get_bytes(LIST, "application/json") == b"  "
    time.sleep(0.2)  # the rest has arrived, well within the second
    assert len(api.get(LIST, remember=False).data) == 10
    assert hub.connections == 2


def test_a_proxy_that_never_answers_is_named_when_the_deadline_passes(hub: FakeGitHub) -> None:
    """A proxy behind a firewall that drops packets, or one that hangs: the time runs out waiting on
    the proxy, not the host, and the message says which proxy was waited on."""
    with socket.create_server(("127.0.0.1", 0), backlog=8) as silent:  # connects, never reads
        proxy = f"http://127.0.0.1:{silent.getsockname()[1]}"
        api = HostClient("acme", hub.api_url, limits=HostLimits(timeout=0.5), reach=Reach(proxy))
        with pytest.raises(HostApiError) as failed:
            api.get(LIST)
    assert str(failed.value) == (
        f"source 'acme': {hub.origin}{LIST}: no whole answer within 0.5 s (sync.tip_timeout_seconds, "
        f"through the proxy {proxy}); the host or its proxy is unreachable or too slow, tried again next pass"
    )
    assert hub.seen == []
