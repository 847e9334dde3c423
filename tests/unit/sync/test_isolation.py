"""Scans in child processes: a child that dies fails its repository alone, the others are answered."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from catalog_sync.config import DescriptorSettings
from catalog_sync.errors import SourceError
from catalog_sync.sources.base import RepositoryInfo, Snapshot
from catalog_sync.sync.isolation import NO_CHILD_MESSAGE, ScanProcesses, _Child
from catalog_sync.sync.workers import ScanTask


class DyingRepository:
    """Kills the process that opens it (as the kernel's OOM killer would), or refuses to open."""

    def __init__(self, name: str, exit_code: int | None) -> None:
        self.name, self.exit_code = name, exit_code

    @property
    def info(self) -> RepositoryInfo:
        return RepositoryInfo(self.name, self.name, f"file:///{self.name}", "main")

    def tip(self) -> str:
        return "0" * 40

    def snapshot(self, commit: str) -> Snapshot:
        if self.exit_code is not None:
            os._exit(self.exit_code)
        raise SourceError(f"{self.name} cannot be read")


def task(repository_id: int, repository: DyingRepository) -> ScanTask:
    return ScanTask(
        repository_id, repository, "0" * 40, repository.info.url, "main", {}, {}, DescriptorSettings(), (),
        datetime.now(UTC), 5.0,
    )  # fmt: skip


def test_a_child_that_dies_fails_only_its_repository_and_is_replaced() -> None:
    processes = ScanProcesses(1)
    try:
        tasks = [task(1, DyingRepository("a", 7)), task(2, DyingRepository("b", None))]
        outcomes = {o.repository_id: o.error for o in processes.scan(tasks)}
        again = [o.error for o in processes.scan([task(3, DyingRepository("c", None))])]
    finally:
        processes.close()
    assert outcomes == {
        1: "the process reading the repository ended unexpectedly (exit code 7); nothing was read from it",
        2: "b cannot be read",
    }
    assert again == ["c cannot be read"]


def test_a_child_killed_while_idle_is_replaced_for_the_next_scan() -> None:
    processes = ScanProcesses(1)
    try:
        list(processes.scan([task(1, DyingRepository("a", None))]))
        [idle] = processes._idle
        idle.process.kill()  # as the OOM killer or an operator might
        idle.process.join(5)
        outcomes = [o.error for o in processes.scan([task(2, DyingRepository("b", None))])]
    finally:
        processes.close()
    assert outcomes == ["b cannot be read"]


class StillbornProcesses(ScanProcesses):
    """Every child dies before it takes a task, as in a container out of memory."""

    def _start(self) -> _Child:
        child = super()._start()
        child.process.kill()
        child.process.join(5)
        return child


def test_children_that_cannot_live_fail_the_batch_instead_of_spinning() -> None:
    processes = StillbornProcesses(1)
    try:
        outcomes = [
            o.error for o in processes.scan([task(i, DyingRepository(f"r{i}", None)) for i in range(3)])
        ]
    finally:
        processes.close()
    assert outcomes == [NO_CHILD_MESSAGE] * 3


class UnpicklableRepository(DyingRepository):
    """A repository that cannot be sent to a child (it holds a lambda)."""

    def __init__(self, name: str) -> None:
        super().__init__(name, None)
        self.hook = lambda: None


def test_a_last_task_that_cannot_be_sent_fails_alone_and_the_scan_ends() -> None:
    processes = ScanProcesses(1)
    try:
        outcomes = [o.error or "" for o in processes.scan([task(1, UnpicklableRepository("a"))])]
    finally:
        processes.close()
    assert len(outcomes) == 1
    assert outcomes[0].startswith("internal error:")
