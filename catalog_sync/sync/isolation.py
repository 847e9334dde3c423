"""Scans in child processes, for a process that must stay responsive: the API under ``serve``.

A scan reads what anyone with push rights wrote. Its budget (``sources.budget``) bounds it from
inside, but only where the scan looks at its clock; in a child process, a scan that overstays anyway
is killed, and only its repository fails. The API's memory never holds a repository's trees.

Children are started from a fork server (a fresh interpreter that imports the scanner once, then forks
a child per slot): forking the serving process itself would copy a multi-threaded process, which is
unsafe (and deprecated from Python 3.12). They live across passes, so a refresh of one repository
pays a message round trip, not a process start, and each is replaced after ``RECYCLE_AFTER`` scans.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import signal
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.reduction import ForkingPickler
from typing import Any

from catalog_sync.logs import configure_logging
from catalog_sync.sources.budget import timeout_message
from catalog_sync.sync.workers import ScanOutcome, ScanTask, scan_repository

log = logging.getLogger(__name__)

MAX_LOST_CHILDREN = 3
"""Children found dead before taking a task, per batch, before the rest of the batch fails instead of
starting more: a child that cannot live (no memory, a broken interpreter) must not spin the pass."""
NO_CHILD_MESSAGE = (
    "no process to read the repository could be started (each ended before taking the task); "
    "nothing was read from it"
)

START_METHOD = "forkserver"
RECYCLE_AFTER = 1000
"""Scans one child runs before it is replaced, so what a long-lived process fragments is given back."""
_STARTED = "started"


def kill_after(scan_seconds: float) -> float:
    """Seconds after a scan starts at which its child is killed: the scan's own budget fires first."""
    return scan_seconds + max(1.0, scan_seconds / 2)


def _serve(connection: Connection) -> None:
    """A child's life: scan each task sent, saying when the scan proper starts (after any fetch).

    Ctrl-C in a terminal reaches the whole process group; the parent decides when children stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    configure_logging()  # a fresh interpreter: its log lines are redacted and escaped like the parent's
    while True:
        try:
            task = connection.recv()
        except EOFError:
            return
        if task is None:
            return
        outcome = scan_repository(task, started=lambda: connection.send(_STARTED))
        connection.send(outcome)


@dataclass
class _Child:
    """One child process and the scan it is running, if any."""

    process: Any
    connection: Connection
    task: ScanTask | None = None
    deadline: float | None = None
    scans: int = 0
    stopped: bool = False


class ScanProcesses:
    """Up to ``size`` children that scan one repository at a time each; owned and closed by the engine."""

    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self._context: Any = multiprocessing.get_context(START_METHOD)
        self._context.set_forkserver_preload(["catalog_sync.sync.workers"])
        self._idle: list[_Child] = []

    def scan(self, tasks: list[ScanTask]) -> Iterator[ScanOutcome]:
        """Outcomes in the order the scans finish; a child that dies or overstays fails its task alone."""
        pending: deque[tuple[ScanTask, memoryview | None]] = deque((task, None) for task in tasks)
        busy: list[_Child] = []
        lost = 0  # children found dead before they took a task: a broken environment must not spin
        try:
            while pending or busy:
                while pending and len(busy) < self.size:
                    task, sent = pending.popleft()
                    if sent is None:  # pickled once, whole: a task sent again to another child is
                        # the same bytes (a github repository's first copy takes its unwritten read)
                        try:
                            sent = ForkingPickler.dumps(task)
                        except Exception as exc:  # one task that cannot be pickled fails alone
                            yield ScanOutcome(task.repository_id, task.commit, error=f"internal error: {exc}")
                            continue
                    child = self._idle.pop() if self._idle else self._start()
                    try:
                        child.connection.send_bytes(sent)
                    except OSError:  # the idle child is gone (killed from outside): another takes the task
                        self._stop(child)
                        lost += 1
                        if lost > MAX_LOST_CHILDREN:
                            yield ScanOutcome(task.repository_id, task.commit, error=NO_CHILD_MESSAGE)
                        else:
                            pending.appendleft((task, sent))
                        continue
                    child.task, child.deadline = task, None
                    busy.append(child)
                if not busy:  # every task of this round failed before a child took it
                    continue
                for child, outcome in self._collect(busy):
                    busy.remove(child)
                    if not child.stopped:
                        self._release(child)
                    yield outcome
        finally:
            for child in busy:  # the caller stopped early: what those children answer would be stale
                self._stop(child)

    def close(self) -> None:
        """Stop every idle child (busy ones are stopped by the pass that runs them)."""
        while self._idle:
            self._stop(self._idle.pop(), wait_seconds=1.0)

    def _collect(self, busy: list[_Child]) -> list[tuple[_Child, ScanOutcome]]:
        """Wait for the next answers (or deadlines) of the busy children."""
        now = time.monotonic()
        deadlines = [c.deadline for c in busy if c.deadline is not None]
        timeout = max(0.0, min(deadlines) - now) if deadlines else None
        if any(not c.process.is_alive() for c in busy):
            timeout = 0.0  # a child already gone (its exit already reaped) is answered without waiting
        ready = set(wait([c.connection for c in busy] + [c.process.sentinel for c in busy], timeout))
        done: list[tuple[_Child, ScanOutcome]] = []
        for child in busy:
            outcome = self._answer(child, ready)
            if outcome is not None:
                done.append((child, outcome))
        return done

    def _answer(self, child: _Child, ready: set[Any]) -> ScanOutcome | None:
        """The child's outcome if it has one now; a failure if it died or overstayed; else None."""
        task = child.task
        assert task is not None
        if child.connection in ready or child.connection.poll():
            try:
                message = child.connection.recv()
            except (EOFError, OSError):
                message = None
            if message == _STARTED:
                child.deadline = time.monotonic() + kill_after(task.scan_seconds)
                return None
            if isinstance(message, ScanOutcome):
                return message
        if not child.process.is_alive() or child.process.sentinel in ready:
            child.process.join(1.0)
            code = child.process.exitcode
            log.error("the process reading repository %s ended with exit code %s", task.repository_id, code)
            self._stop(child)
            return ScanOutcome(
                task.repository_id,
                task.commit,
                error=f"the process reading the repository ended unexpectedly (exit code {code}); "
                "nothing was read from it",
            )
        if child.deadline is not None and time.monotonic() >= child.deadline:
            log.error("stopped the scan of repository %s: over sync.scan_timeout_seconds", task.repository_id)
            self._stop(child)
            return ScanOutcome(task.repository_id, task.commit, error=timeout_message(task.scan_seconds))
        return None

    def _start(self) -> _Child:
        ours, theirs = self._context.Pipe()
        process = self._context.Process(target=_serve, args=(theirs,), name="catalog-scan", daemon=True)
        process.start()
        theirs.close()
        return _Child(process, ours)

    def _release(self, child: _Child) -> None:
        child.task, child.deadline = None, None
        child.scans += 1
        if child.scans >= RECYCLE_AFTER:
            self._stop(child, wait_seconds=1.0)
        else:
            self._idle.append(child)

    def _stop(self, child: _Child, wait_seconds: float = 0.0) -> None:
        """End a child: politely when it is idle and ``wait_seconds`` allows, else by killing it."""
        if child.stopped:
            return
        child.stopped = True
        if wait_seconds and child.task is None and child.process.is_alive():
            with contextlib.suppress(OSError):
                child.connection.send(None)
            child.process.join(wait_seconds)
        if child.process.is_alive():
            child.process.kill()
            child.process.join(5.0)
        child.connection.close()
        child.process.close()


__all__ = ["MAX_LOST_CHILDREN", "NO_CHILD_MESSAGE", "RECYCLE_AFTER", "ScanProcesses", "kill_after"]
