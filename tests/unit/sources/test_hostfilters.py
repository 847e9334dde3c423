"""The filters of a hosted source (SPEC section 8): names, topics (exclude wins), forks, archived."""

from __future__ import annotations

import pytest

from catalog_sync.config import RepositoryFilters
from catalog_sync.sources.hostfilters import Candidate, RepositoryFilter, Verdict


def judge(
    filters: RepositoryFilters, name: str = "svc-pay", topics: tuple[str, ...] = (), **flags: bool
) -> Verdict:
    candidate = Candidate(name, topics, flags.get("fork", False), flags.get("archived", False))
    return RepositoryFilter(filters).judge(candidate)


@pytest.mark.parametrize(
    ("filters", "name", "topics", "flags", "verdict"),
    [
        (RepositoryFilters(), "anything", (), {}, Verdict.KEEP),
        (RepositoryFilters(include="^svc-"), "svc-pay", (), {}, Verdict.KEEP),
        (RepositoryFilters(include="^svc-"), "web-pay", (), {}, Verdict.SKIP),
        (RepositoryFilters(exclude="-sandbox$"), "svc-sandbox", (), {}, Verdict.SKIP),
        (RepositoryFilters(topics_include=("catalog",)), "x", ("catalog",), {}, Verdict.KEEP),
        (RepositoryFilters(topics_include=("catalog",)), "x", (), {}, Verdict.SKIP),
        (
            RepositoryFilters(topics_include=("catalog",), topics_exclude=("legacy",)),
            "x",
            ("catalog", "legacy"),
            {},
            Verdict.SKIP,
        ),
        (RepositoryFilters(), "x", (), {"fork": True}, Verdict.SKIP),
        (RepositoryFilters(forks=True), "x", (), {"fork": True}, Verdict.KEEP),
        (RepositoryFilters(), "x", (), {"archived": True}, Verdict.RETIRE),
        (RepositoryFilters(archived=True), "x", (), {"archived": True}, Verdict.KEEP),
        (RepositoryFilters(include="^svc-"), "web", (), {"archived": True}, Verdict.SKIP),
    ],
)
def test_each_filter_keeps_skips_or_retires(
    filters: RepositoryFilters, name: str, topics: tuple[str, ...], flags: dict[str, bool], verdict: Verdict
) -> None:
    assert judge(filters, name, topics, **flags) is verdict
