"""What one scan of one repository may cost: tree entries visited, bytes read, seconds spent.

A repository is written by whoever can push to it, and a 244 KB repository can list a billion paths
(ten trees, each naming the one below ten times). Without a bound, one such repository holds a pass
for minutes and grows its process by gigabytes. The snapshot charges every tree entry it visits and
every tree or blob it reads to a ``ScanBudget`` *before* the work is done, so the scan stops at the
budget with memory in proportion to it, and the repository fails alone with a message naming the
setting to raise.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from catalog_sync.errors import ScanBudgetError

NOTHING_READ = "nothing was read from it"


class ScanBudget:
    """The allowance of one scan; ``visit``, ``read`` and ``check_time`` raise once it is spent."""

    def __init__(
        self,
        *,
        max_entries: int,
        max_bytes: int,
        seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.seconds = seconds
        self.entries = 0
        self.bytes = 0
        self._clock = clock
        self._deadline = clock() + seconds

    def visit(self, entries: int) -> None:
        """Charge the entries of one tree just listed."""
        self.entries += entries
        if self.entries > self.max_entries:
            raise ScanBudgetError(
                f"the repository's tree lists more than {self.max_entries} entries where descriptors and "
                f"facts are looked for (descriptors.max_tree_entries); {NOTHING_READ}"
            )

    def read(self, size: int) -> None:
        """Charge an object about to be read; refused before its bytes are inflated."""
        self.bytes += size
        if self.bytes > self.max_bytes:
            raise ScanBudgetError(self._bytes_message())
        self.check_time()

    def _bytes_message(self) -> str:
        return (
            f"reading the repository's trees and descriptors takes more than {self.max_bytes} bytes "
            f"(descriptors.max_read_bytes); {NOTHING_READ}"
        )

    def admit(self, size: int) -> None:
        """Refuse one object larger than the whole byte budget, without charging it (history walks
        read many versions of a few trees; seconds bound them, this bounds each step's memory)."""
        if size > self.max_bytes:
            raise ScanBudgetError(self._bytes_message())
        self.check_time()

    def check_time(self) -> None:
        """Refuse to go on once the scan has taken its seconds (checked between units of work)."""
        if self._clock() > self._deadline:
            raise ScanBudgetError(timeout_message(self.seconds))


def timeout_message(seconds: float) -> str:
    """The error of a scan that ran out of time, whether it noticed itself or was stopped from outside."""
    return (
        f"scanning the repository took longer than {seconds:g} seconds (sync.scan_timeout_seconds); "
        f"{NOTHING_READ}"
    )


__all__ = ["ScanBudget", "timeout_message"]
