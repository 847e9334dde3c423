"""The hosting-API client against a real local GitHub: pagination, ETags kept across restarts, rate
limits waited out within their bound, answers read within a size bound on connections kept alive, and
credentials that never leave the configured API."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from catalog_sync.errors import AnswerTooLargeError, HostApiError, RateLimitedError
from catalog_sync.sources.hostanswer import NO_ORIGIN
from catalog_sync.sources.hostapi import HostClient, HostLimits, netloc_of, origin_of
from tests.fixtures.fakegithub import FakeGitHub, Fault, fake_github
from tests.fixtures.http import self_signed_api, tarpit

TOKEN = "ghp_" + "T0k3n" * 8
PLAIN_TOKEN = "enterprise-token-without-prefix-42"


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[FakeGitHub]:
    with fake_github(tmp_path / "hub") as hub:
        hub.orgs.add("acme")
        hub.tokens.add(TOKEN)
        hub.tokens.add(PLAIN_TOKEN)
        template = hub.add_repo("acme", "template", files={"README.md": "hello\n"})
        hub.add_copies("acme", template, [f"svc-{i:03}" for i in range(249)])
        yield hub


class Sleeps:
    """Records the waits asked for and waits a tenth of them, so tests stay fast."""

    def __init__(self) -> None:
        self.asked: list[float] = []
        self.then: Callable[[], None] | None = None
        """What the wait lets happen on the host (its window reset), as the whole wait would."""

    def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)
        time.sleep(min(seconds, 0.05))
        if self.then is not None:
            self.then()


def client(
    hub: FakeGitHub, tmp_path: Path, *, token: str = TOKEN, **limits: float
) -> tuple[HostClient, Sleeps]:
    sleeps = Sleeps()
    made = HostClient(
        "acme",
        hub.api_url,
        authorization=lambda: f"Bearer {token}",
        cache_file=tmp_path / "cache" / "etags.json",
        limits=HostLimits(**limits),  # type: ignore[arg-type]
        sleep=sleeps,
    )
    return made, sleeps


LIST = "/orgs/acme/repos?per_page=100"


def test_every_page_is_read_by_following_next_links(hub: FakeGitHub, tmp_path: Path) -> None:
    api, _ = client(hub, tmp_path)
    pages = list(api.pages(LIST))
    assert [len(p.data) for p in pages] == [100, 100, 50]
    assert len({r["id"] for p in pages for r in p.data}) == 250
    assert all(s.authorization == f"Bearer {TOKEN}" for s in hub.api_requests())


def test_the_pages_of_an_api_below_a_path_are_followed_below_it(hub: FakeGitHub, tmp_path: Path) -> None:
    hub.api_prefix = "/api/v3"  # GitHub Enterprise Server
    api, _ = client(hub, tmp_path)
    assert [len(p.data) for p in api.pages(LIST)] == [100, 100, 50]
    assert [s.path.partition("?")[0] for s in hub.api_requests()] == ["/api/v3/orgs/acme/repos"] * 3


def test_an_unchanged_list_is_answered_by_304s_even_after_a_restart(hub: FakeGitHub, tmp_path: Path) -> None:
    api, _ = client(hub, tmp_path)
    first = [r["id"] for p in api.pages(LIST) for r in p.data]
    api.save()
    remaining = hub.remaining
    hub.clear()
    restarted, _ = client(hub, tmp_path)
    pages = list(restarted.pages(LIST))
    assert [r["id"] for p in pages for r in p.data] == first
    assert all(p.from_cache for p in pages)
    seen = hub.api_requests()
    assert [(s.conditional, s.status) for s in seen] == [(True, 304)] * 3
    assert hub.remaining == remaining  # GitHub does not count 304s


def test_a_changed_page_is_read_again_and_the_others_stay_cached(hub: FakeGitHub, tmp_path: Path) -> None:
    api, _ = client(hub, tmp_path)
    list(api.pages(LIST))
    hub.touch(hub.repos[1150])  # on page 2
    hub.clear()
    pages = list(api.pages(LIST))
    assert [p.from_cache for p in pages] == [True, False, True]


def test_the_cache_file_is_rewritten_only_when_a_page_changed_and_follows_it(
    hub: FakeGitHub, tmp_path: Path
) -> None:
    api, _ = client(hub, tmp_path)
    list(api.pages(LIST))
    api.save()
    cache = tmp_path / "cache" / "etags.json"
    written = cache.stat().st_ino  # a save writes a new file and renames it over the old one
    list(api.pages(LIST))
    api.save()
    assert cache.stat().st_ino == written  # every page answered 304: nothing to write
    hub.touch(hub.repos[1150])
    list(api.pages(LIST))
    api.save()
    assert cache.stat().st_ino != written
    hub.clear()
    restarted, _ = client(hub, tmp_path)
    assert all(p.from_cache for p in restarted.pages(LIST))  # the changed page's new ETag was kept
    assert [s.status for s in hub.api_requests()] == [304] * 3


@pytest.mark.parametrize(
    "damage",
    [
        lambda page: page.pop("data"),
        lambda page: page.pop("etag"),
        lambda page: page.update(etag=7),
        lambda page: page.update(next=["/orgs/acme/repos?page=2"]),
    ],
    ids=["no-data", "no-etag", "etag-not-text", "next-not-text"],
)
def test_a_damaged_page_in_the_cache_file_is_asked_again_not_failing_the_listing(
    hub: FakeGitHub, tmp_path: Path, damage: Callable[[dict[str, Any]], object]
) -> None:
    api, _ = client(hub, tmp_path)
    expected = ids_listed(api)
    api.save()
    cache = tmp_path / "cache" / "etags.json"
    stored = json.loads(cache.read_text())
    damage(next(iter(stored["pages"].values())))
    cache.write_text(json.dumps(stored))
    hub.clear()

    restarted, _ = client(hub, tmp_path)

    assert ids_listed(restarted) == expected
    assert [(s.conditional, s.status) for s in hub.api_requests()] == [(False, 200), (True, 304), (True, 304)]


def ids_listed(api: HostClient) -> list[int]:
    return [r["id"] for p in api.pages(LIST) for r in p.data]


def test_the_pages_of_an_unchanged_list_are_asked_at_once_each_conditionally(
    hub: FakeGitHub, tmp_path: Path
) -> None:
    api, _ = client(hub, tmp_path, parallel=4)
    first = ids_listed(api)
    hub.clear()
    assert ids_listed(api) == first
    assert sorted((s.path, s.conditional, s.status) for s in hub.api_requests()) == sorted(
        (p, True, 304) for p in (LIST, LIST + "&page=2", LIST + "&page=3")
    )


def test_a_list_that_grew_or_shrank_while_pages_were_asked_ahead_is_read_whole(
    hub: FakeGitHub, tmp_path: Path
) -> None:
    api, _ = client(hub, tmp_path, parallel=4)
    ids_listed(api)
    template = hub.repos[1001]
    grown = hub.add_copies("acme", template, [f"new-{i:03}" for i in range(120)])
    assert sorted(ids_listed(api)) == sorted(hub.repos)  # five pages now: two past the known chain
    for repo in grown + [hub.repos[1001 + i] for i in range(1, 200)]:
        hub.delete(repo)
    assert sorted(ids_listed(api)) == sorted(hub.repos)  # one page now: the chain ends early


def test_a_page_asked_ahead_that_fails_fails_the_listing(hub: FakeGitHub, tmp_path: Path) -> None:
    api, _ = client(hub, tmp_path, parallel=4)
    ids_listed(api)
    hub.fail(Fault(502, "page=3", {}, "Server Error", times=None))
    with pytest.raises(HostApiError, match="HTTP 502"):
        ids_listed(api)


@pytest.mark.parametrize(
    "fault",
    [
        Fault(429, "/orgs/", {"Retry-After": "2"}),
        Fault(403, "/orgs/", {"Retry-After": "2"}, "You have exceeded a secondary rate limit."),
        Fault(403, "/orgs/", {}, "You have exceeded a secondary rate limit. Please wait a few minutes."),
        Fault(403, "/orgs/", {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "{soon}"}, "API rate limit"),
    ],
)
def test_rate_limits_are_waited_out_then_the_request_is_sent_again(
    hub: FakeGitHub, tmp_path: Path, fault: Fault
) -> None:
    fault.headers = {k: v.replace("{soon}", str(int(time.time()) + 2)) for k, v in fault.headers.items()}
    hub.fail(fault)
    api, sleeps = client(hub, tmp_path, max_wait=120)
    page = api.get(LIST)
    assert len(page.data) == 100
    assert len(sleeps.asked) == 1
    assert 1 <= sleeps.asked[0] <= 60


def test_a_wait_longer_than_the_bound_fails_at_once_with_the_reason(hub: FakeGitHub, tmp_path: Path) -> None:
    hub.fail(Fault(429, "/orgs/", {"Retry-After": "3600"}))
    api, sleeps = client(hub, tmp_path, max_wait=30)
    with pytest.raises(RateLimitedError) as failed:
        api.get(LIST)
    assert "wait 3600 s" in str(failed.value)
    assert "sync.rate_limit_max_wait_seconds (30 s)" in str(failed.value)
    assert sleeps.asked == []


def test_a_spent_budget_is_waited_for_before_the_next_request(hub: FakeGitHub, tmp_path: Path) -> None:
    hub.remaining = 1
    hub.reset_at = time.time() + 3600
    api, _ = client(hub, tmp_path, max_wait=60)
    api.get(LIST)
    with pytest.raises(RateLimitedError, match="the rate limit is spent"):
        api.get(LIST + "&page=2")
    assert len(hub.api_requests()) == 1  # the second request was never sent


def test_a_budget_spent_at_the_start_of_a_minute_window_is_waited_for_within_the_bound(
    hub: FakeGitHub, tmp_path: Path
) -> None:
    """GitLab.com's window is a minute: spent at its start, the reset is the bound's 60 s away, and
    the second waited past it must not fail the next request."""
    hub.remaining = 1
    hub.reset_at = time.time() + 60
    api, sleeps = client(hub, tmp_path, max_wait=60)

    def reset_window() -> None:
        hub.remaining, hub.reset_at = 5000, time.time() + 3600

    sleeps.then = reset_window
    api.get(LIST)
    api.get(LIST + "&page=2")
    assert len(sleeps.asked) == 1
    assert 59 < sleeps.asked[0] <= 61
    assert len(hub.api_requests()) == 2


def test_a_retry_after_a_second_past_the_bound_is_not_waited_for(hub: FakeGitHub, tmp_path: Path) -> None:
    """The second past the bound is a window reset's margin alone: a host's Retry-After names the
    whole wait, so one longer than the bound fails the request."""
    hub.fail(Fault(429, "/orgs/", {"Retry-After": "61"}))
    api, sleeps = client(hub, tmp_path, max_wait=60)
    with pytest.raises(RateLimitedError, match="asks to wait 61 s"):
        api.get(LIST)
    assert sleeps.asked == []


def test_a_retry_after_date_no_calendar_holds_is_waited_as_a_secondary_limit(
    hub: FakeGitHub, tmp_path: Path
) -> None:
    hub.fail(Fault(429, "/orgs/", {"Retry-After": "Mon, 01 Jan 99999999999999999999 00:00:00 GMT"}))
    api, sleeps = client(hub, tmp_path, max_wait=30)
    with pytest.raises(RateLimitedError, match="asks to wait 60 s, longer than"):
        api.get(LIST)
    assert sleeps.asked == []


def test_a_budget_said_to_reset_in_year_3000_is_asked_again_within_the_hour(
    hub: FakeGitHub, tmp_path: Path
) -> None:
    hub.remaining = 1
    hub.reset_at = 32503680000.0  # a host whose clock, or a proxy's word, is a millennium ahead
    api, _ = client(hub, tmp_path, max_wait=60)
    api.get(LIST)
    with pytest.raises(RateLimitedError, match=r"spent for \d+ s more") as refused:
        api.get(LIST + "&page=2")
    seconds = int(str(refused.value).split("spent for ")[1].split(" ")[0])
    assert seconds <= 3601


def test_a_host_whose_pages_never_end_fails_the_listing_at_the_bound(hub: FakeGitHub, tmp_path: Path) -> None:
    hub.endless = True  # every page links to one more, each link new, so no loop shows
    api, _ = client(hub, tmp_path, max_pages=5)
    with pytest.raises(HostApiError, match="links more than 5 pages; the listing was stopped"):
        list(api.pages(LIST))
    assert len(hub.api_requests()) == 5


def test_a_persistent_502_fails_after_one_retry(hub: FakeGitHub, tmp_path: Path) -> None:
    hub.fail(Fault(502, "page=3", {}, "Server Error", times=None))
    api, sleeps = client(hub, tmp_path)
    with pytest.raises(HostApiError, match="HTTP 502"):
        list(api.pages(LIST))
    assert len(sleeps.asked) == 1


def test_a_next_link_to_another_host_is_not_followed(hub: FakeGitHub, tmp_path: Path) -> None:
    with fake_github(tmp_path / "elsewhere") as elsewhere:
        hub.next_link_origin = elsewhere.origin
        api, _ = client(hub, tmp_path)
        with pytest.raises(HostApiError, match="next page link points to another host"):
            list(api.pages(LIST))
        assert elsewhere.seen == []


def test_a_redirect_to_another_host_is_not_followed_and_gets_no_token(
    hub: FakeGitHub, tmp_path: Path
) -> None:
    with fake_github(tmp_path / "elsewhere") as elsewhere:
        hub.fail(Fault(302, "/orgs/", {"Location": f"{elsewhere.origin}/orgs/acme/repos"}))
        api, _ = client(hub, tmp_path)
        with pytest.raises(HostApiError, match="redirects to another host"):
            api.get(LIST)
        assert elsewhere.seen == []


def test_a_link_or_redirect_whose_host_the_sender_reads_otherwise_gets_no_token(
    hub: FakeGitHub, tmp_path: Path
) -> None:
    """``http://OTHER\\@API/...`` names the API to one URL reader and OTHER to urllib3, which sends."""
    with fake_github(tmp_path / "elsewhere") as elsewhere:
        link = f"http://127.0.0.1:{elsewhere.port}\\@127.0.0.1:{hub.port}/orgs/acme/repos?page=2"
        hub.fail(Fault(200, "/orgs/", {"Link": f'<{link}>; rel="next"'}, body=b"[]"))
        api, _ = client(hub, tmp_path)
        with pytest.raises(HostApiError, match="the next page link is not a URL; not followed"):
            list(api.pages(LIST))
        hub.fail(Fault(302, "/orgs/", {"Location": link}))
        with pytest.raises(HostApiError, match="the host redirects to no URL; not followed"):
            api.get(LIST)
        assert elsewhere.seen == []


@pytest.mark.parametrize(
    ("api_host", "named"),
    [("[::1]", "[::1]"), ("v1.ghe.example", "[v1.ghe.example]")],
    ids=["ipv6", "ipvfuture"],
)
def test_a_url_naming_the_api_in_brackets_after_another_host_gets_no_token(
    hub: FakeGitHub, api_host: str, named: str
) -> None:
    """``http://OTHER\\[HOST]:PORT/`` names HOST (an IPv6 address, or a host such as ``v1.ghe.example``
    that Python reads as a future IP literal) to one URL reader and OTHER to urllib3, which sends."""
    api = HostClient("acme", f"http://{api_host}:1/api/v3", authorization=lambda: f"token {TOKEN}")
    with contextlib.suppress(HostApiError):
        api.get_bytes(f"http://127.0.0.1:{hub.port}\\{named}:1/orgs/acme/repos", "application/json")
    assert [seen.authorization for seen in hub.seen if seen.authorization] == []


@pytest.mark.parametrize("link", ["http://[::1/orgs/acme/repos", "http://127.0.0.1:99999/x", "//h:port/x"])
def test_a_next_link_that_is_not_a_url_fails_the_listing_naming_it(
    hub: FakeGitHub, tmp_path: Path, link: str
) -> None:
    hub.fail(Fault(200, "/orgs/", {"Link": f'<{link}>; rel="next"'}, body=b"[]"))
    api, _ = client(hub, tmp_path)
    with pytest.raises(HostApiError, match="the next page link is not a URL; not followed"):
        list(api.pages(LIST))


@pytest.mark.parametrize(
    "location", ["http://[::1/orgs/acme/repos", "http://127.0.0.1:70000/orgs/acme/repos"]
)
def test_a_redirect_to_no_url_is_not_followed(hub: FakeGitHub, tmp_path: Path, location: str) -> None:
    hub.fail(Fault(302, "/orgs/", {"Location": location}))
    api, _ = client(hub, tmp_path)
    with pytest.raises(HostApiError, match="the host redirects to no URL; not followed"):
        api.get(LIST)


def test_a_redirect_within_the_api_is_followed(hub: FakeGitHub, tmp_path: Path) -> None:
    hub.fail(Fault(301, "/orgs/old/", {"Location": f"{hub.origin}{LIST}"}))
    api, _ = client(hub, tmp_path)
    assert len(api.get("/orgs/old/repos").data) == 100


@pytest.mark.parametrize(
    ("path", "arrived"),
    [
        ("/repos/acme/svc-001/branches/main", "/repos/acme/svc-001/branches/main"),
        ("/repos/acme/svc 001/branches/main", "/repos/acme/svc%20001/branches/main"),
        ("/repos/acme/x/../svc-001/branches/main", "/repos/acme/svc-001/branches/main"),
        ("/repos/acme/svc-001/branches/main#top", "/repos/acme/svc-001/branches/main"),
        ("/repos/acme/svc-\u00e9/branches/main", "/repos/acme/svc-%C3%A9/branches/main"),
    ],
)
def test_a_request_below_the_api_is_sent_as_urllib3_would_send_it_with_the_token(
    hub: FakeGitHub, tmp_path: Path, path: str, arrived: str
) -> None:
    api, _ = client(hub, tmp_path)
    with contextlib.suppress(HostApiError):  # a name the host does not hold is its 404
        api.get(path)
    seen = hub.seen[-1]
    assert (seen.path.partition("?")[0], seen.authorization) == (arrived, f"Bearer {TOKEN}")


@pytest.mark.parametrize("path", ["/repos/acme/pay/branches/main", "/repos/acme/pay%2Fx/branches/../main"])
def test_an_https_api_whose_certificate_no_authority_signed_is_refused_before_any_token_is_sent(
    tmp_path: Path, path: str
) -> None:
    with self_signed_api(tmp_path) as (port, received):
        api = HostClient("acme", f"https://localhost:{port}", authorization=lambda: f"Bearer {TOKEN}")
        with pytest.raises(HostApiError, match=r"certificate.*\(libcurl error 60\)") as refused:
            api.get(path)
    assert received == []
    assert TOKEN not in str(refused.value)


def test_errors_never_carry_the_token_even_when_the_host_echoes_it(hub: FakeGitHub, tmp_path: Path) -> None:
    hub.fail(Fault(401, "/orgs/", {}, f"Bad credentials: {PLAIN_TOKEN} and {TOKEN}"))
    api, _ = client(hub, tmp_path, token=PLAIN_TOKEN)
    with pytest.raises(HostApiError) as failed:
        api.get(LIST)
    assert "HTTP 401" in str(failed.value)
    assert "the token was refused" in str(failed.value)
    assert PLAIN_TOKEN not in str(failed.value)
    assert TOKEN not in str(failed.value)


def test_a_credential_no_header_may_carry_is_never_sent_nor_shown(hub: FakeGitHub, tmp_path: Path) -> None:
    api, _ = client(hub, tmp_path, token=f"{PLAIN_TOKEN}\r\nX-Injected: 1")
    with pytest.raises(HostApiError, match="the credential is not a valid header value; not sent") as failed:
        api.get(LIST)
    assert PLAIN_TOKEN not in str(failed.value)
    assert hub.seen == []


def test_a_host_that_never_answers_fails_within_the_timeout(tmp_path: Path) -> None:
    with tarpit() as port:
        api = HostClient("acme", f"http://127.0.0.1:{port}", limits=HostLimits(timeout=0.5))
        started = time.monotonic()
        with pytest.raises(HostApiError, match=r"no whole answer within 0\.5 s"):
            api.get(LIST)
        assert time.monotonic() - started < 5


MIB = 1024 * 1024
HUGE = 200 * MIB
"""A body far larger than any bound, made only as far as the client reads it."""


def wait_until(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_answers_within_the_bound_share_one_connection(hub: FakeGitHub, tmp_path: Path) -> None:
    api, _ = client(hub, tmp_path)
    for _ in range(10):
        assert len(api.get(LIST).data) == 100  # a 200, then 304s
        assert len(api.get(LIST + "&page=3", remember=False).data) == 50
    with pytest.raises(HostApiError, match=r"HTTP 404 .*: Not Found"):  # an error's body is read whole too
        api.get("/orgs/nobody/repos")
    assert hub.connections == 1


@pytest.mark.parametrize(
    ("framing", "declared"),
    [
        pytest.param("length", None, id="with-its-length"),
        pytest.param("chunked", None, id="chunked"),
        pytest.param("close", None, id="ended-by-closing"),
        pytest.param("length", 1000, id="lying-length"),
    ],
)
def test_an_answer_over_the_bound_fails_after_reading_no_more_than_the_bound(
    hub: FakeGitHub, tmp_path: Path, framing: str, declared: int | None
) -> None:
    api, _ = client(hub, tmp_path, max_answer_bytes=MIB)
    assert len(api.get(LIST).data) == 100
    hub.fail(Fault(200, "page=2", size=HUGE, framing=framing, declared=declared))
    started = time.monotonic()
    with pytest.raises(HostApiError) as failed:
        api.get(LIST + "&page=2")
    assert time.monotonic() - started < 5
    if declared is None:
        assert isinstance(failed.value, AnswerTooLargeError)
        assert str(failed.value) == (
            f"source 'acme': {hub.origin}{LIST}&page=2: the host's answer (HTTP 200) is larger than 1 MiB; "
            "not read"
        )
        assert wait_until(lambda: hub.hung_up == 1)  # closed at once, not left open with the rest unread
    else:  # the length said is all that belongs to the answer, and all that is read
        assert "the host's answer is not JSON (HTTP 200)" in str(failed.value)
    assert TOKEN not in str(failed.value)
    assert hub.flooded < HUGE // 4  # the bound, and what the sockets' buffers took before the hang-up
    connections = hub.connections
    for _ in range(3):  # the half-read connection was not handed to the next request
        assert len(api.get(LIST + "&page=3", remember=False).data) == 50
    assert hub.connections == connections + 1


def test_a_length_over_the_bound_is_refused_before_the_body_is_read(hub: FakeGitHub, tmp_path: Path) -> None:
    hub.fail(Fault(200, "/orgs/", size=0, declared=10 * 1024 * MIB))  # says 10 GiB, then sends nothing
    api, _ = client(hub, tmp_path, timeout=5.0, max_answer_bytes=MIB)
    started = time.monotonic()
    with pytest.raises(AnswerTooLargeError, match="is larger than 1 MiB; not read"):
        api.get(LIST)
    assert time.monotonic() - started < 2  # reading would have waited for the 5 s timeout


def test_a_small_compressed_answer_is_not_unfolded_past_the_bound(hub: FakeGitHub, tmp_path: Path) -> None:
    hub.fail(Fault(200, "/orgs/", size=32 * MIB, encoding="gzip"))  # some 32 KB on the wire
    api, _ = client(hub, tmp_path, max_answer_bytes=MIB)
    with pytest.raises(AnswerTooLargeError, match="is larger than 1 MiB; not read"):
        api.get(LIST)
    assert len(api.get(LIST).data) == 100


@pytest.mark.parametrize(
    ("framing", "message"),
    [
        pytest.param("close", "end of response with 4000 bytes missing (libcurl error 18)", id="hung-up"),
        pytest.param("length", "no whole answer within 0.5 s", id="stalled"),
    ],
)
def test_a_body_that_breaks_off_fails_the_request_and_the_next_one_is_answered(
    hub: FakeGitHub, tmp_path: Path, framing: str, message: str
) -> None:
    hub.fail(Fault(200, "/orgs/", size=1000, declared=5000, framing=framing))
    api, _ = client(hub, tmp_path, timeout=0.5)
    with pytest.raises(HostApiError) as failed:
        api.get(LIST)
    assert str(failed.value).startswith(f"source 'acme': {hub.origin}{LIST}: {message}")
    assert len(api.get(LIST).data) == 100


def test_origins_and_netlocs_are_compared_case_blind_with_default_ports() -> None:
    assert origin_of("https://API.GitHub.com/x") == origin_of("https://api.github.com:443/y")
    assert origin_of("http://h:8080") != origin_of("http://h")
    assert netloc_of("https://GHE.example.com:8443/api/v3") == "ghe.example.com:8443"


def test_a_url_whose_host_the_sender_reads_otherwise_has_no_origin() -> None:
    assert origin_of("https://evil.example\\@api.github.com/orgs") == NO_ORIGIN
    assert origin_of("https://api.github.com/orgs\\x") == origin_of("https://api.github.com")
    assert origin_of("https://bücher.example/x") == ("https", "bücher.example", 443)


def test_an_error_never_carries_a_token_another_thread_replaced_meanwhile(
    hub: FakeGitHub, tmp_path: Path
) -> None:
    """A token refused in one thread while another thread sends its replacement (a GitHub App's token
    minted again) is still kept out of the first thread's error."""
    replacement = PLAIN_TOKEN.replace("42", "43")
    hub.tokens.add(replacement)
    hub.fail(Fault(401, "/orgs/", {}, f"Bad credentials: {PLAIN_TOKEN}"))
    issued = iter([PLAIN_TOKEN])

    def send_another() -> None:
        with contextlib.suppress(HostApiError):  # what it is answered does not matter
            api.get("/repos/acme/template")

    def other_thread_sends(sent: str) -> bool:
        worker = threading.Thread(target=send_another)
        worker.start()
        worker.join()
        return False  # no other credential for this thread's request

    api = HostClient(
        "acme",
        hub.api_url,
        authorization=lambda: f"Bearer {next(issued, replacement)}",
        renew=other_thread_sends,
        limits=HostLimits(),
    )
    with pytest.raises(HostApiError) as failed:
        api.get(LIST)
    assert "HTTP 401" in str(failed.value)
    assert PLAIN_TOKEN not in str(failed.value)
