"""What a host's answer says about its rate limit: the waits the client obeys, whatever the case the
host writes its headers in."""

from __future__ import annotations

import email.utils

import pytest
from urllib3 import HTTPHeaderDict

from catalog_sync.sources.ratelimits import (
    SECONDARY_DEFAULT_WAIT,
    remaining_budget,
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


def test_a_broken_value_is_no_budget_and_no_wait() -> None:
    headers = HTTPHeaderDict({"X-RateLimit-Remaining": "lots", "Retry-After": "soon"})
    assert remaining_budget(headers) is None
    assert wait_before_retry(429, headers, "", NOW) == SECONDARY_DEFAULT_WAIT
