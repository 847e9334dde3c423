"""A group's pushes to a repository collapse to one write that leaves the repository exactly as
writing each push in turn would: the commit read next, when it is due, and since when a push waits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from catalog_sync.store.push_groups import Collapsed, Pushed, collapse

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Row:
    """The columns of a repository a push writes."""

    next_sync_at: datetime | None
    pushed_commit: str | None
    pushed_at: datetime | None


def in_turn(row: Row, ops: list[Pushed]) -> Row:
    """What the single-repository updates did, one op after the other (``deliveries._PUSHED`` and
    ``deliveries._BRANCH_DELETED``)."""
    for op in ops:
        if op.commit is None:
            row = Row(op.received, None, None)
        else:
            waiting = row.pushed_commit is not None and row.pushed_at is not None
            row = Row(op.received, op.commit, row.pushed_at if waiting else op.received)
    return row


def at_once(row: Row, write: Collapsed) -> Row:
    """What the collapsed write's ``SET`` does to the row (``push_groups._WRITE``)."""
    waiting = row.pushed_commit is not None and row.pushed_at is not None
    if write.after_deletion:
        pushed_at = write.first_push_at
    else:
        pushed_at = row.pushed_at if waiting else write.first_push_at
    return Row(write.due_at, write.commit, pushed_at)


def push(seconds: int, commit: str | None) -> Pushed:
    return Pushed(T0 + timedelta(seconds=seconds), commit)


times = st.integers(min_value=-3600, max_value=3600).map(lambda s: T0 + timedelta(seconds=s))
maybe_time = st.none() | times
commits = st.none() | st.sampled_from(["a" * 40, "b" * 40, "c" * 40])
ops = st.lists(st.builds(Pushed, times, commits), min_size=1, max_size=8)
rows = st.builds(Row, maybe_time, st.none() | st.just("0" * 40), maybe_time)


@given(rows, ops)
def test_collapsed_pushes_leave_the_row_as_the_pushes_in_turn(row: Row, pushes: list[Pushed]) -> None:
    assert at_once(row, collapse(7, pushes)) == in_turn(row, pushes)


def test_two_pushes_keep_the_first_time_and_the_last_commit() -> None:
    write = collapse(7, [push(0, "a" * 40), push(5, "b" * 40)])
    assert write == Collapsed(7, T0 + timedelta(seconds=5), "b" * 40, T0, after_deletion=False)


def test_a_push_then_a_deletion_leave_nothing_waiting() -> None:
    write = collapse(7, [push(0, "a" * 40), push(5, None)])
    waiting = Row(None, "0" * 40, T0 - timedelta(hours=1))
    assert at_once(waiting, write) == Row(T0 + timedelta(seconds=5), None, None)


def test_a_deletion_then_a_push_wait_from_the_push_not_from_an_older_one() -> None:
    write = collapse(7, [push(0, None), push(5, "b" * 40), push(9, "c" * 40)])
    older = Row(T0 - timedelta(hours=1), "0" * 40, T0 - timedelta(hours=1))
    assert at_once(older, write) == Row(T0 + timedelta(seconds=9), "c" * 40, T0 + timedelta(seconds=5))


def test_a_push_waiting_before_the_group_keeps_its_time() -> None:
    older = Row(T0 - timedelta(hours=1), "0" * 40, T0 - timedelta(hours=1))
    assert at_once(older, collapse(7, [push(5, "b" * 40)])) == Row(
        T0 + timedelta(seconds=5), "b" * 40, T0 - timedelta(hours=1)
    )
