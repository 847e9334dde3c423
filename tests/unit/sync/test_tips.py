"""Tips answered as they arrive, and a failed pass that does not wait for hosts nobody will hear from."""

from __future__ import annotations

import time

import pytest

from catalog_sync.sources.base import Repository, RepositoryInfo, Snapshot
from catalog_sync.sync.tips import TipAsker


class SlowTip:
    """A remote repository whose tip takes ``seconds`` to answer."""

    def __init__(self, key: str, seconds: float, asked: list[str]) -> None:
        self.key, self.seconds, self.asked = key, seconds, asked

    @property
    def info(self) -> RepositoryInfo:
        return RepositoryInfo(
            key=self.key, name=self.key, url=f"https://git.example.com/{self.key}.git", branch="main"
        )

    def tip(self) -> str:
        self.asked.append(self.key)
        time.sleep(self.seconds)
        return "0" * 40

    def snapshot(self, commit: str) -> Snapshot:
        raise AssertionError("not read here")


def test_answers_arrive_as_they_come_not_after_the_slowest() -> None:
    asked: list[str] = []
    repositories: dict[int, Repository] = {1: SlowTip("slow", 1.5, asked), 2: SlowTip("fast", 0.0, asked)}
    started = time.monotonic()
    with TipAsker(2) as tips:
        first = next(tips.ask(repositories, lambda _rid, _tip: False))
        assert time.monotonic() - started < 1.0
        assert [rid for rid, _tip, _error in first] == [2]


def fail_at_the_first_answers(repositories: dict[int, Repository]) -> None:
    with TipAsker(1, patience=60) as tips:
        for _answers in tips.ask(repositories, lambda _rid, _tip: False):
            raise RuntimeError("the database went away")


def test_a_failed_pass_drops_the_tips_still_queued() -> None:
    asked: list[str] = []
    repositories: dict[int, Repository] = {
        i: SlowTip(f"r{i}", 1.0, asked) for i in range(80)
    }  # 10 s of tips, 8 at a time
    started = time.monotonic()
    with pytest.raises(RuntimeError):
        fail_at_the_first_answers(repositories)
    assert time.monotonic() - started < 4.0, "the failure waited for every queued host"
    assert len(asked) < len(repositories)


def test_while_slow_hosts_are_waited_for_the_caller_is_given_turns_to_renew_its_claims() -> None:
    """A tip and two fetches at their deadlines outlast a lease: empty groups come every ``keepalive``
    seconds, and the pass renews its claims and heartbeat on each."""
    asked: list[str] = []
    repositories: dict[int, Repository] = {1: SlowTip("a", 1.0, asked), 2: SlowTip("b", 1.0, asked)}
    with TipAsker(2, keepalive=0.2) as tips:
        groups = list(tips.ask(repositories, lambda _rid, _tip: False))
    assert groups[0] == []
    assert sum(1 for g in groups if not g) >= 3
    assert sorted(rid for g in groups for rid, _tip, _error in g) == [1, 2]


def test_a_tip_that_outstays_its_patience_gives_its_place_to_the_next() -> None:
    """One place: the slow host holds it for its patience only, so the healthy one is not queued
    behind it for the whole of its wait."""
    asked: list[str] = []
    repositories: dict[int, Repository] = {1: SlowTip("slow", 2.0, asked), 2: SlowTip("fast", 0.0, asked)}
    started = time.monotonic()
    with TipAsker(1, patience=0.2) as tips:
        first = next(tips.ask(repositories, lambda _rid, _tip: False))
        waited = time.monotonic() - started
    assert [rid for rid, _tip, _error in first] == [2]
    assert waited < 1.5, f"the healthy tip waited {waited:.1f} s behind the slow one"


def test_many_quick_tips_share_few_places() -> None:
    asked: list[str] = []
    repositories: dict[int, Repository] = {i: SlowTip(f"r{i}", 0.01, asked) for i in range(200)}
    with TipAsker(4) as tips:
        groups = list(tips.ask(repositories, lambda _rid, _tip: False))
    answered = [rid for group in groups for rid, _tip, _error in group]
    assert sorted(answered) == list(range(200))
    assert sorted(asked) == sorted(f"r{i}" for i in range(200))


def test_answers_arriving_together_are_handed_over_in_one_group_and_each_once() -> None:
    """One group is one transaction and one scan batch: quick answers are gathered, never split one by
    one, and a slow answer after the gathering window comes in a group of its own."""
    asked: list[str] = []
    repositories: dict[int, Repository] = {i: SlowTip(f"r{i}", 0.0, asked) for i in range(40)}
    repositories[99] = SlowTip("late", 0.5, asked)
    with TipAsker(8) as tips:
        groups = list(tips.ask(repositories, lambda _rid, _tip: False))
    assert groups[-1] == [(99, "0" * 40, None)]
    assert len(groups) <= 3, f"40 quick answers came in {len(groups) - 1} groups"
    assert sorted(rid for g in groups for rid, _tip, _error in g) == [*range(40), 99]
