"""The record of each pass (``sync_runs``) and what runs after one (scoring, metrics).

A pass is recorded when it starts, so one that dies shows as never finished; the worker loop's idle
polls (nothing was due) are forgotten rather than recorded, so the real passes stay visible. Before it
starts, a pass closes the passes that died as ``aborted`` (``death_of``): one whose process in this
process space is gone (its worker id names the space, ``process_space()``, and the pid; an id naming
this very process but none of its workers was a process before this one), or one with no sign of life
(its heartbeat, renewed with its claims) for longer than a lease; the claims a dead pass still held are
given back at once. Containers that share a host name (``hostNetwork``) have separate process spaces,
so one never judges another's pid; a restarted container is a new space, and its dead pass is closed
when its lease lapses.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from catalog_sync.errors import StoreError
from catalog_sync.store.sync_store import RunningRun, SyncStore
from catalog_sync.sync.summary import Clock, PassSummary

log = logging.getLogger(__name__)

Hook = Callable[[PassSummary], None]
"""Runs after each pass with its summary: the scorer, the pass counters."""


PidAlive = Callable[[int], bool]

_WORKERS_OF_THIS_PROCESS: set[str] = set()
"""Worker ids this process has run passes as: another id naming this host and this process id was a
process before this one (a restarted container runs as the same id on the same host name)."""


def process_space() -> str:
    """Where a process id means something: the host name, and the pid namespace when the system has
    one (two containers with one host name, or one container before and after a restart, differ)."""
    host = socket.gethostname()
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return host
    return f"{host}/{namespace.partition('[')[2].rstrip(']') or namespace}"


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this host (one of another user counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def holder_of(worker: str) -> tuple[str, int] | None:
    """The host and process id a default worker id names (``host:pid:nonce``), or None."""
    parts = worker.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    return parts[0], int(parts[1])


def death_of(
    run: RunningRun, *, now: datetime, lease_seconds: int, host: str, alive: PidAlive = pid_alive
) -> str | None:
    """Why a pass recorded as running is dead, or None when it may still be running."""
    holder = holder_of(run.worker)
    if holder is not None and holder[0] == host:
        here = holder[1] == os.getpid()
        if (here and run.worker not in _WORKERS_OF_THIS_PROCESS) or (not here and not alive(holder[1])):
            return f"the process running this pass ({run.worker}) stopped before the pass ended"
    last = run.heartbeat_at or run.started_at
    if last.tzinfo is None:
        last = last.replace(tzinfo=now.tzinfo)
    if last + timedelta(seconds=lease_seconds) < now:
        return (
            f"no sign of life from {run.worker} since {last:%Y-%m-%d %H:%M:%S} UTC, longer than "
            f"sync.lease_seconds ({lease_seconds})"
        )
    return None


class RunRecorder:
    """Records one worker's passes, and closes the passes that died."""

    def __init__(
        self,
        store: SyncStore,
        worker_id: str,
        clock: Clock,
        lease_seconds: int = 600,
        *,
        alive: PidAlive = pid_alive,
    ) -> None:
        self._store = store
        self._worker_id = worker_id
        self._clock = clock
        self._lease = lease_seconds
        self._alive = alive
        self._host = process_space()
        _WORKERS_OF_THIS_PROCESS.add(worker_id)

    def start(self, summary: PassSummary, started: datetime) -> None:
        """Close the passes that died, then record that this one began."""
        self.close_dead(summary, started)
        summary.run_id = self._store.start_run(self._worker_id, started)

    def close_dead(self, summary: PassSummary, now: datetime) -> None:
        """Close dead passes as ``aborted`` and give back their claims; the summary says which."""
        for run in self._store.running_runs():
            if run.worker == self._worker_id:
                reason = "a later pass of the same worker began"
            else:
                found = death_of(run, now=now, lease_seconds=self._lease, host=self._host, alive=self._alive)
                if found is None:
                    continue
                reason = found
            released = self._store.abort_run(run, now=now, reason=reason)
            log.warning("closed sync run %s as aborted: %s", run.id, reason)
            summary.aborted_runs.append(
                {"run": run.id, "worker": run.worker, "reason": reason, "released": released}
            )

    def finish(self, summary: PassSummary, t0: float, message: str | None = None) -> None:
        """Record a pass's end (``t0`` from ``time.perf_counter`` at its start); a database that fails
        now costs the record, not the pass. The message is stored redacted by the store."""
        summary.duration_seconds = round(time.perf_counter() - t0, 3)
        if not summary.run_id:
            return
        try:
            self._store.finish_run(
                summary.run_id,
                now=self._clock(),
                result=summary.result,
                counts=summary.to_dict(),
                duration=summary.duration_seconds,
                message=message,
            )
        except StoreError:
            log.warning("could not record the end of sync run %s", summary.run_id)

    def forget(self, summary: PassSummary) -> None:
        """Forget an idle poll: recording it would bury the real passes and count a run every few seconds."""
        self._store.forget_run(summary.run_id)
        summary.run_id = 0


def run_hooks(hooks: Sequence[Hook], summary: PassSummary) -> None:
    """Run what follows a pass (scoring, metrics); a failing hook is logged, never fatal."""
    for hook in hooks:
        try:
            hook(summary)
        except StoreError as exc:  # a database outage is one line, not a traceback per hook
            log.error("a hook after sync run %s failed: %s", summary.run_id, exc)
        except Exception:  # a scoring bug must not stop the catalog from syncing
            log.exception("a hook after sync run %s failed", summary.run_id)
