"""Which passes recorded as running are dead: the rule the next pass closes them by."""

from __future__ import annotations

import logging
import os
import socket
from datetime import UTC, datetime, timedelta

import pytest

from catalog_sync.errors import StoreError
from catalog_sync.store.sync_store import RunningRun
from catalog_sync.sync.runs import death_of, holder_of, process_space, run_hooks
from catalog_sync.sync.summary import PassSummary

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
LEASE = 600


def run(worker: str, *, heartbeat_ago: float = 5) -> RunningRun:
    return RunningRun(1, worker, NOW - timedelta(hours=1), NOW - timedelta(seconds=heartbeat_ago))


def test_a_pass_whose_process_on_this_host_is_gone_is_dead_at_once() -> None:
    reason = death_of(run("box:4242:ab12"), now=NOW, lease_seconds=LEASE, host="box", alive=lambda _: False)
    assert reason is not None
    assert "box:4242:ab12" in reason
    assert (
        death_of(run("box:4242:ab12"), now=NOW, lease_seconds=LEASE, host="box", alive=lambda _: True) is None
    )


def test_a_pass_elsewhere_is_dead_only_once_silent_for_longer_than_a_lease() -> None:
    never_asked = {"asked": False}

    def alive(_: int) -> bool:
        never_asked["asked"] = True
        return False

    fresh = run("other:4242:ab12", heartbeat_ago=LEASE - 1)
    assert death_of(fresh, now=NOW, lease_seconds=LEASE, host="box", alive=alive) is None
    silent = death_of(
        run("w1", heartbeat_ago=LEASE + 1), now=NOW, lease_seconds=LEASE, host="box", alive=alive
    )
    assert silent is not None
    assert "sync.lease_seconds (600)" in silent
    assert never_asked["asked"] is False


def test_worker_ids_name_their_host_and_process_when_they_can() -> None:
    assert holder_of("box.example:17:ab12cd34") == ("box.example", 17)
    assert holder_of("w1") is None
    assert holder_of("a:b:c") is None


def test_a_hook_failing_on_the_database_logs_one_line_and_the_next_hook_still_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An outage mid-pass is said once, in the database's words, not as a traceback per hook."""
    ran: list[str] = []

    def outage(_: PassSummary) -> None:
        raise StoreError("database postgresql://catalog@db/catalog failed: server closed the connection")

    def bug(_: PassSummary) -> None:
        raise KeyError("scorecard")

    with caplog.at_level(logging.ERROR, logger="catalog_sync.sync.runs"):
        run_hooks([outage, bug, lambda _: ran.append("metrics")], PassSummary(run_id=7))

    assert ran == ["metrics"]
    outage_record, bug_record = caplog.records
    assert outage_record.getMessage() == (
        "a hook after sync run 7 failed: database postgresql://catalog@db/catalog failed: "
        "server closed the connection"
    )
    assert outage_record.exc_info is None
    assert bug_record.exc_info is not None  # a bug keeps its traceback


def test_a_live_pass_in_another_process_space_with_this_host_name_is_left_alone() -> None:
    """Two containers on one host network share a host name and, often, process id 1: the pid rule
    applies only within one process space, so neither closes the other's live pass."""
    here = process_space()
    other = here.partition("/")[0] + "/4026532999"
    for pid in (os.getpid(), 999_999):
        fresh = run(f"{other}:{pid}:ab12")
        assert death_of(fresh, now=NOW, lease_seconds=LEASE, host=here, alive=lambda _: False) is None
    silent = run(f"{other}:1:ab12", heartbeat_ago=LEASE + 1)
    assert death_of(silent, now=NOW, lease_seconds=LEASE, host=here) is not None


def test_the_process_space_names_the_pid_namespace_where_there_is_one() -> None:
    space = process_space()
    assert space.startswith(socket.gethostname())
    if os.path.exists("/proc/self/ns/pid"):
        assert space.rpartition("/")[2].isdigit()
