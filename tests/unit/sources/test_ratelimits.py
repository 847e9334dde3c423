"""What a host's answer says about its rate limit: the waits the client obeys, whatever the case the
host writes its headers in."""

from __future__ import annotations

import email.utils

import pytest
from urllib3 import HTTPHeaderDict

from catalog_sync.sources.ratelimits import (
    MAX_RESET_SECONDS,
    SECONDARY_DEFAULT_WAIT,
    remaining_budget,
    reset_at,
    spent_wait,
    wait_before_retry,
)

NOW = 1_800_000_000.0


@pytest.mark.parametrize("kind", [dict, HTTPHeaderDict])
@pytest.mark.parametrize("name", ["x-ratelimit-remaining", "X-RateLimit-Remaining", "RATELIMIT-REMAINING"])
def test_the_remaining_budget_is_read_in_any_case_from_either_mapping(kind: type, name: str) -> None:
    assert remaining_budget(kind({name: "41", "Content-Type": "application/json"})) == 41


@pytest.mark.parametrize("kind", [dict, HTTPHeaderDict])
def test_a_spent_budget_waits_for_the_reset_and_a_second_more(kind: type) -> None:
    headers = kind({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW) + 30)})
    assert spent_wait(headers, NOW) == 31.0
    assert wait_before_retry(403, headers, "API rate limit exceeded", NOW) == 31.0
    assert spent_wait(kind({"X-RateLimit-Remaining": "1"}), NOW) is None


@pytest.mark.parametrize("kind", [dict, HTTPHeaderDict])
def test_retry_after_is_obeyed_as_seconds_or_as_a_date(kind: type) -> None:
    assert wait_before_retry(429, kind({"Retry-After": "7"}), "", NOW) == 7.0
    date = email.utils.formatdate(NOW + 90, usegmt=True)
    assert wait_before_retry(429, kind({"retry-after": date}), "", NOW) == pytest.approx(90.0, abs=1.0)


def test_a_refusal_that_is_no_rate_limit_is_not_waited_for() -> None:
    budget_left = HTTPHeaderDict({"X-RateLimit-Remaining": "12"})
    assert wait_before_retry(403, budget_left, "Bad credentials", NOW) is None
    assert wait_before_retry(200, HTTPHeaderDict({"Retry-After": "5"}), "", NOW) is None


def test_a_secondary_limit_naming_no_time_waits_the_default_minute() -> None:
    message = "You have exceeded a secondary rate limit. Please wait a few minutes."
    assert wait_before_retry(403, HTTPHeaderDict(), message, NOW) == SECONDARY_DEFAULT_WAIT


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1900000000", 1_900_000_000.0),
        ("1900000000.5", 1_900_000_000.5),
        ("soon", None),
        ("inf", None),
        ("nan", None),
        ("-5", None),
        ("0", None),
        ("253402300800", None),
    ],
)
def test_the_reset_is_shown_as_the_host_said_it_or_not_at_all(value: str, expected: float | None) -> None:
    assert reset_at(HTTPHeaderDict({"RateLimit-Reset": value})) == expected
    assert reset_at(HTTPHeaderDict()) is None


def test_a_broken_value_is_no_budget_and_no_wait() -> None:
    headers = HTTPHeaderDict({"X-RateLimit-Remaining": "lots", "Retry-After": "soon"})
    assert remaining_budget(headers) is None
    assert wait_before_retry(429, headers, "", NOW) == SECONDARY_DEFAULT_WAIT


@pytest.mark.parametrize("reset", [str(int(NOW) + 10 * 365 * 86400), "32503680000", "1e400", "inf"])
def test_a_reset_further_than_the_hosts_hour_is_not_believed(reset: str) -> None:
    """A clock years ahead, or a lying proxy, would otherwise keep the source from asking its host again
    for as long as the process lives."""
    headers = HTTPHeaderDict({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset})
    assert spent_wait(headers, NOW) == MAX_RESET_SECONDS + 1.0
    assert wait_before_retry(403, headers, "API rate limit exceeded", NOW) == MAX_RESET_SECONDS + 1.0


@pytest.mark.parametrize("reset", ["-inf", "12", str(int(NOW) - 60)])
def test_a_reset_in_the_past_waits_no_more_than_a_second(reset: str) -> None:
    headers = HTTPHeaderDict({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset})
    assert spent_wait(headers, NOW) == 1.0


def test_a_reset_that_is_no_number_is_no_reset() -> None:
    headers = HTTPHeaderDict({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "nan"})
    assert spent_wait(headers, NOW) is None
    assert wait_before_retry(403, headers, "API rate limit exceeded", NOW) == SECONDARY_DEFAULT_WAIT


@pytest.mark.parametrize("retry_after", ["-30", "nan", "-inf", "Mon, 01 Jan 1900 00:00:00 GMT"])
def test_a_retry_after_that_is_negative_or_past_asks_no_wait(retry_after: str) -> None:
    assert wait_before_retry(429, HTTPHeaderDict({"Retry-After": retry_after}), "", NOW) == 0.0


def test_a_negative_remaining_budget_is_no_budget_at_all() -> None:
    headers = HTTPHeaderDict({"X-RateLimit-Remaining": "-5", "X-RateLimit-Reset": str(int(NOW) + 30)})
    assert remaining_budget(headers) is None
    assert spent_wait(headers, NOW) is None


@pytest.mark.parametrize(
    "retry_after",
    ["Mon, 01 Jan 99999999999999999999 00:00:00 GMT", "Mon, 01 Jan 2026 99999999999999999999:00:00 GMT"],
)
def test_a_retry_after_date_too_large_for_a_date_is_no_date(retry_after: str) -> None:
    """The date parser's OverflowError escaped every caller: a listing's, and with it the whole pass."""
    headers = HTTPHeaderDict({"Retry-After": retry_after})
    assert wait_before_retry(429, headers, "", NOW) == SECONDARY_DEFAULT_WAIT
