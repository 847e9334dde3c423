"""A pushed commit is the tip the pass reads, unless the commit read last already descends from it:
then the push was delivered late and the catalog keeps what it read."""

from __future__ import annotations

import pytest

from catalog_sync.errors import RepositoryUnreachableError
from catalog_sync.sources.base import RepositoryInfo, Snapshot
from catalog_sync.sync.pushes import Pinned

READ, PUSHED = "a" * 40, "b" * 40


class Plain:
    """A repository whose source cannot compare commits."""

    tip_is_cheap = True

    @property
    def info(self) -> RepositoryInfo:
        return RepositoryInfo(key="github:h:1", name="acme/pay", url="https://h/acme/pay", branch="main")

    def tip(self) -> str:
        raise AssertionError("a pinned repository never asks for its branch")

    def snapshot(self, commit: str) -> Snapshot:
        raise AssertionError("not read here")


class Hosted(Plain):
    """A hosted repository whose host answers ``descends_from`` with ``answer``, counting questions."""

    def __init__(self, answer: bool | None, held: bool | None = True) -> None:
        """``held``: the answer whether the branch still holds the commit read."""
        self.answer = answer
        self.held = held
        self.asked: list[tuple[str, str]] = []

    def descends_from(self, commit: str, ancestor: str) -> bool | None:
        self.asked.append((commit, ancestor))
        return self.held if commit == "main" else self.answer


@pytest.mark.parametrize(("answer", "tip"), [(True, READ), (False, PUSHED), (None, PUSHED)])
def test_the_pushed_commit_is_read_unless_the_host_says_the_read_one_descends_from_it(
    answer: bool | None, tip: str
) -> None:
    hosted = Hosted(answer)
    pinned = Pinned(hosted, PUSHED, READ)
    assert not pinned.tip_is_cheap  # a question to the host: asked in a tip thread, not inline
    assert pinned.tip() == tip
    assert hosted.asked == [(READ, PUSHED)] + ([("main", READ)] if answer else [])


@pytest.mark.parametrize("held", [False, None])
def test_a_force_push_back_to_an_ancestor_of_the_commit_read_is_read(held: bool | None) -> None:
    hosted = Hosted(True, held)  # the branch no longer holds the commit read (or the host cannot tell)
    assert Pinned(hosted, PUSHED, READ).tip() == PUSHED
    assert hosted.asked == [(READ, PUSHED), ("main", READ)]


@pytest.mark.parametrize("read", [None, PUSHED])
def test_nothing_is_asked_when_nothing_was_read_or_the_push_names_the_commit_read(read: str | None) -> None:
    hosted = Hosted(True)
    pinned = Pinned(hosted, PUSHED, read)
    assert pinned.tip_is_cheap
    assert pinned.tip() == PUSHED
    assert hosted.asked == []


def test_a_source_that_cannot_compare_has_the_pushed_commit_read() -> None:
    pinned = Pinned(Plain(), PUSHED, READ)
    assert pinned.tip_is_cheap
    assert pinned.tip() == PUSHED


class Moving(Hosted):
    """A hosted repository whose branch is at ``tip`` when asked now; ``tip`` descends from the
    pushed commit when ``answer`` says so."""

    def __init__(self, answer: bool | None, tip: str | Exception) -> None:
        super().__init__(answer)
        self.now = tip

    def ask_tip(self) -> str:
        if isinstance(self.now, Exception):
            raise self.now
        return self.now


NEWER = "c" * 40


@pytest.mark.parametrize(
    ("answer", "now", "tip"),
    [
        (True, NEWER, NEWER),  # the newer push arrived first: its commit is read
        (False, NEWER, PUSHED),  # the branch moved elsewhere (or its answer lags): the pushed commit
        (None, NEWER, PUSHED),
        (True, PUSHED, PUSHED),  # the last push is the newest
        (True, RepositoryUnreachableError("the host is down"), PUSHED),
    ],
)
def test_merged_pushes_read_the_branch_tip_when_it_descends_from_the_pushed_commit(
    answer: bool | None, now: str | Exception, tip: str
) -> None:
    moving = Moving(answer, now)
    pinned = Pinned(moving, PUSHED, None, merged=True)
    assert not pinned.tip_is_cheap
    assert pinned.tip() == tip
    assert moving.asked == ([(NEWER, PUSHED)] if now == NEWER else [])
