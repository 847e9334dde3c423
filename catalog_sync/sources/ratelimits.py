"""What a hosting API's answer says about its rate limit, read from headers alone (pure functions).

GitHub sends ``x-ratelimit-remaining`` / ``x-ratelimit-reset`` (epoch seconds) on every answer and,
when it refuses, a 403 or 429, with ``Retry-After`` for its secondary limits (or only a message that
names them). GitLab sends ``RateLimit-Remaining`` / ``RateLimit-Reset`` and a 429 with ``Retry-After``.
The client obeys the longest wait these imply; ``wait_before_retry`` says how long, or that the answer
was not a rate limit at all.
"""

from __future__ import annotations

import email.utils
import math
from collections.abc import Mapping

from urllib3 import HTTPHeaderDict

SECONDARY_DEFAULT_WAIT = 60.0
"""GitHub's advice for a secondary limit that names no time: wait at least a minute."""
MAX_RESET_SECONDS = 3600.0
"""The furthest a window's reset is believed to be: GitHub's windows last an hour, GitLab's a minute.
A reset said to be further (a host's clock years ahead, a lying proxy) would otherwise keep the client
from asking that host again, for as long as the process lives, after one answer."""
RESET_MARGIN = 1.0
"""Waited past a window's reset: the reset second itself may still refuse. It is not counted against
``sync.rate_limit_max_wait_seconds``: GitLab.com's window is a minute, so a budget spent at its start
asks for the bound's 60 s plus this second, and that wait must not fail the request."""
_RATE_WORDS = ("rate limit", "abuse detection")


def header(headers: Mapping[str, str], *names: str) -> str | None:
    """The first of ``names`` present (case-insensitively, as HTTP headers are). An answer's own
    headers look any case up themselves; copying them lowered, at four lookups per answer, cost an
    eighth of a full pass's requests."""
    lowered = headers if isinstance(headers, HTTPHeaderDict) else {k.lower(): v for k, v in headers.items()}
    for name in names:
        value = lowered.get(name.lower())
        if value is not None:
            return value
    return None


_YEAR_10000 = 253402300800.0
"""Epoch seconds of the year 10000: a reset said to be later is no time a clock shows."""


def remaining_budget(headers: Mapping[str, str]) -> int | None:
    """Requests left in the current window, as the host says (GitHub's or GitLab's header)."""
    value = header(headers, "x-ratelimit-remaining", "ratelimit-remaining")
    try:
        remaining = int(value) if value is not None else None
    except ValueError:
        return None
    return remaining if remaining is None or remaining >= 0 else None  # a negative count says nothing


def reset_at(headers: Mapping[str, str]) -> float | None:
    """When the window resets, as the host says (epoch seconds, GitHub's and GitLab's header alike);
    None when it did not say, or said no time (not a number, not after 1970, past the year 9999)."""
    value = header(headers, "x-ratelimit-reset", "ratelimit-reset")
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and 0 < seconds < _YEAR_10000 else None


def reset_in(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds until the window resets (the header holds epoch seconds), at most ``MAX_RESET_SECONDS``."""
    value = header(headers, "x-ratelimit-reset", "ratelimit-reset")
    try:
        seconds = float(value) - now if value is not None else None
    except ValueError:
        return None
    return None if seconds is None or math.isnan(seconds) else min(max(0.0, seconds), MAX_RESET_SECONDS)


def retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """``Retry-After`` in seconds, whether written as seconds or as an HTTP date."""
    value = header(headers, "retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):  # a year or an hour too large for a date: no date
        return None
    return max(0.0, when.timestamp() - now)


def wait_before_retry(status: int, headers: Mapping[str, str], body: str, now: float) -> float | None:
    """How long to wait before sending a refused request again; None when it was not rate-limited.

    A 429 always is; a 403 is when it carries ``Retry-After``, says the budget is spent, or names a
    rate limit in its message (GitHub's secondary limits), else it is a real refusal (a bad token).
    """
    waited = retry_after(headers, now)
    spent = remaining_budget(headers) == 0
    limited = status == 429 or (
        status == 403 and (waited is not None or spent or any(w in body.lower() for w in _RATE_WORDS))
    )
    if not limited:
        return None
    if waited is not None:
        return waited
    if spent:
        reset = reset_in(headers, now)
        if reset is not None:
            return reset + RESET_MARGIN
    return SECONDARY_DEFAULT_WAIT


def longest_wait(headers: Mapping[str, str], now: float, max_wait: float) -> float:
    """The longest wait taken for a refused answer: ``max_wait``, and ``RESET_MARGIN`` past it when the
    wait is to a window's reset; a ``Retry-After`` names the whole wait, so it has no margin."""
    to_reset = retry_after(headers, now) is None and remaining_budget(headers) == 0
    return max_wait + RESET_MARGIN if to_reset and reset_in(headers, now) is not None else max_wait


def spent_wait(headers: Mapping[str, str], now: float) -> float | None:
    """After a successful answer that spent the last request of the window: the wait before the next."""
    if remaining_budget(headers) != 0:
        return None
    reset = reset_in(headers, now)
    return reset + RESET_MARGIN if reset is not None else None
