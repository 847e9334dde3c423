"""Reading repositories: tip checks in threads (network I/O), scans in worker processes (CPU).

A ``ScanTask`` carries everything a worker process needs and is picklable; ``scan_repository`` answers
a ``ScanOutcome`` and never raises, so one unreadable repository costs one error, never the pass.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from catalog_sync.config import DescriptorSettings
from catalog_sync.errors import CatalogSyncError, EmptyRepositoryError
from catalog_sync.plans import Prepared
from catalog_sync.reconcile import prepare_files
from catalog_sync.scanner import ScanResult, scan, scan_budget
from catalog_sync.sources.base import Repository

log = logging.getLogger(__name__)

INLINE_SCANS = 8
"""Fewer scans than this run in this process: starting worker processes would cost more."""


@dataclass(frozen=True)
class ScanTask:
    """Everything a worker process needs to read one repository; picklable."""

    repository_id: int
    repository: Repository
    commit: str
    url: str
    """Where the host shows the repository's files (``model.files_root``): its locations are built on it."""
    branch: str | None
    previous_blobs: dict[str, str]
    previous_changed: dict[str, datetime]
    descriptors: DescriptorSettings
    fact_paths: tuple[str, ...]
    now: datetime
    scan_seconds: float
    """``sync.scan_timeout_seconds``: the seconds this scan may take."""
    release_tag_pattern: str | None = None
    """``kpis.release_tag_pattern``: the tags the facts list as releases."""


@dataclass(frozen=True)
class ScanOutcome:
    """A worker's answer: a scan, or why the repository could not be read."""

    repository_id: int
    commit: str
    url: str = ""
    branch: str | None = None
    result: ScanResult | None = None
    prepared: dict[tuple[str, int], Prepared] = field(default_factory=dict)
    error: str | None = None
    unread: dict[str, tuple[str, datetime | None]] = field(default_factory=dict)


def scan_repository(task: ScanTask, started: Callable[[], object] | None = None) -> ScanOutcome:
    """Read one repository at one commit; runs in a worker process, so it returns, never raises.

    ``started`` is called once the commit is at hand (after any fetch), when the scan's seconds start.
    The error text is stored by the store, which redacts it; the log line is redacted by the handlers.
    """
    try:
        snapshot = task.repository.snapshot(task.commit)
        try:
            if started is not None:
                started()
            result = scan(
                snapshot,
                task.descriptors,
                task.fact_paths,
                previous_blobs=task.previous_blobs,
                previous_changed=task.previous_changed,
                now=task.now,
                budget=scan_budget(task.descriptors, task.scan_seconds),
                release_tag_pattern=task.release_tag_pattern,
            )
            unread = {
                path: (task.previous_blobs[path], task.previous_changed.get(path))
                for path in result.still_present
            }
        finally:
            snapshot.close()
        prepared = prepare_files(result.files, task.url, task.branch)
        return ScanOutcome(
            task.repository_id, task.commit, task.url, task.branch, result, prepared, unread=unread
        )
    except CatalogSyncError as exc:
        return ScanOutcome(task.repository_id, task.commit, error=str(exc))
    except Exception as exc:  # a bug reading one repository must not stop the fleet
        log.exception("reading repository %s failed", task.repository_id)  # the handlers redact
        return ScanOutcome(
            task.repository_id,
            task.commit,
            error=f"internal error while reading: {type(exc).__name__}: {exc}",
        )


def ask_tip(repository: Repository) -> tuple[str | None, str | None]:
    """The repository's tip commit, or why it cannot be told; the same rule as ``scan_repository``.
    Neither, for an empty repository: it has nothing to read, and that is no failure."""
    try:
        return repository.tip(), None
    except EmptyRepositoryError:
        return None, None
    except CatalogSyncError as exc:
        return None, str(exc)
    except Exception as exc:  # one repository, one error
        return None, f"internal error while asking for the tip: {type(exc).__name__}: {exc}"


class IsolatedScans(Protocol):
    """Scans that run in other processes whatever their number (``isolation.ScanProcesses``)."""

    def scan(self, tasks: list[ScanTask]) -> Iterator[ScanOutcome]:
        """Outcomes in the order the scans finish."""
        ...


class WorkerPools:
    """Threads for tip checks (I/O) and processes for scanning (CPU), started lazily, closed once.

    With ``isolated`` (a serving process), every scan runs there, never in this process; the engine
    that owns those processes keeps them across passes and closes them.
    """

    def __init__(self, concurrency: int, isolated: IsolatedScans | None = None) -> None:
        self.concurrency = max(1, concurrency)
        self.processes = max(1, min(self.concurrency, os.cpu_count() or 1))
        self._threads: ThreadPoolExecutor | None = None
        self._pool: Any = None
        self._isolated = isolated

    def __enter__(self) -> WorkerPools:
        return self

    def __exit__(self, *_: object) -> None:
        if self._threads:
            self._threads.shutdown(wait=True)
        if self._pool is not None:
            self._pool.close()
            self._pool.join()

    def map_threads(self, fn: Callable[[int], Any], items: list[int], *, inline: bool = False) -> list[Any]:
        """Run ``fn`` over ``items`` in threads (or here, when ``inline``), keeping order."""
        if inline or len(items) <= 1 or self.concurrency == 1:
            return [fn(i) for i in items]
        if self._threads is None:
            self._threads = ThreadPoolExecutor(self.concurrency, thread_name_prefix="catalog-tip")
        return list(self._threads.map(fn, items))

    def scan(self, tasks: list[ScanTask]) -> Iterator[ScanOutcome]:
        """Scan in worker processes when there is enough work to pay for them, else in this process."""
        if self._isolated is not None:
            yield from self._isolated.scan(tasks)
            return
        if len(tasks) < INLINE_SCANS or self.processes == 1:
            yield from map(scan_repository, tasks)
            return
        if self._pool is None:
            self._pool = multiprocessing.get_context("fork").Pool(self.processes)
        chunk = max(1, min(16, len(tasks) // (self.processes * 4)))
        yield from self._pool.imap_unordered(scan_repository, tasks, chunksize=chunk)
