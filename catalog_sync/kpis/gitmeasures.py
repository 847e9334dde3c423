"""``git`` measures, computed from the repository facts the sync already stored; no git is run here.

- ``release-frequency``: release tags (``kpis.release_tag_pattern``) the branch holds, per window;
- ``lead-time-for-changes``: days from a commit to the release that shipped it, averaged over the
  commits released within the window;
- ``change-frequency``: commits on the tracked branch per window.

The facts cover the history a scan reads (``scanner.HISTORY_DAYS``, at most ``MAX_HISTORY_COMMITS``
commits), so a longer window would count a part of itself: it is ``unknown`` with the reason instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from catalog_sync.errors import MeasureError
from catalog_sync.scanner import HISTORY_DAYS, MAX_HISTORY_COMMITS

MAX_WINDOW = timedelta(days=HISTORY_DAYS)


def measure_git(name: str, facts: Mapping[str, Any] | None, window: timedelta, now: datetime) -> float:
    """The value of git measure ``name`` over ``window`` ending ``now``; MeasureError says why none."""
    if facts is None:
        raise MeasureError("the product's repository has not been read yet (no repository facts)")
    if window > MAX_WINDOW:
        raise MeasureError(f"git measures look back {HISTORY_DAYS} days at most; use a window of 90d or less")
    if facts.get("history_gap"):
        raise MeasureError(str(facts["history_gap"]))
    start = now - window
    _check_counted(facts, start)
    if name == "change-frequency":
        if "commits_by_day" not in facts:
            raise MeasureError("the repository was read before commits were counted per day; next pass")
        first = start.date().isoformat()
        return float(sum(int(n) for day, n in dict(facts["commits_by_day"]).items() if day >= first))
    if "releases" not in facts:
        raise MeasureError("the repository was read before releases were listed; wait for its next pass")
    released = [r for r in facts["releases"] if start < datetime.fromisoformat(str(r["at"])) <= now]
    if name == "release-frequency":
        return float(len(released))
    if name == "lead-time-for-changes":
        changes = sum(int(r.get("changes", 0)) for r in released)
        if not changes:
            raise MeasureError("no change was released within the window (no release tag matched)")
        return sum(float(r.get("lead_seconds", 0.0)) for r in released) / changes / 86400
    raise MeasureError(f"unknown git measure {name!r}")


def _check_counted(facts: Mapping[str, Any], start: datetime) -> None:
    """A history cut at ``MAX_HISTORY_COMMITS`` counts only the window's newest commits: a window
    that begins on or before the oldest day counted would be measured short, so it has no value."""
    if not facts.get("history_truncated"):
        return
    days = sorted(str(day) for day in dict(facts.get("commits_by_day") or {}))
    if days and days[0] >= start.date().isoformat():
        raise MeasureError(
            f"more than {MAX_HISTORY_COMMITS} commits in the window: the history read stops at the newest "
            f"{MAX_HISTORY_COMMITS} (back to {days[0]}); use a shorter window"
        )
