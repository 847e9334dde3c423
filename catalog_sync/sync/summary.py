"""What one pass did (``PassSummary``), and the clock every timestamp of a pass is read from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

Clock = Callable[[], datetime]
"""Where a pass reads the time; tests move one by hand to cross grace periods and back-off."""
Progress = Callable[[int, int], None]
"""Told (done, total) after each claimed batch; ``catalog-sync sync`` draws a bar with it."""


def utcnow() -> datetime:
    """The current time, timezone-aware: every timestamp the catalog stores is UTC."""
    return datetime.now(UTC)


@dataclass
class PassSummary:
    """What one pass did; printed by ``catalog-sync sync`` and kept in ``sync_runs``."""

    run_id: int = 0
    result: str = "ok"
    repositories: int = 0
    changed: int = 0
    unchanged: int = 0
    errors: int = 0
    added: int = 0
    updated: int = 0
    orphaned: int = 0
    deleted: int = 0
    conflicts: int = 0
    descriptor_problems: int = 0
    duration_seconds: float = 0.0
    sources: list[dict[str, Any]] = field(default_factory=list)
    aborted_runs: list[dict[str, Any]] = field(default_factory=list)
    """Passes found dead and closed as ``aborted`` before this one: run, worker, reason, claims released."""
    skipped: list[dict[str, Any]] = field(default_factory=list)
    """Due repositories this one-off pass left to other workers: holder, repositories, until."""
    changed_entity_ids: list[int] = field(default_factory=list, repr=False)
    taken_over: int = field(default=0, repr=False)
    """Repositories that lost an entity to one the catalog knew first: read again in the pass."""
    push_visible_seconds: list[float] = field(default_factory=list, repr=False)
    """For each pushed commit this pass read: seconds from its delivery's arrival to the write that
    made it visible (``catalog_webhook_visible_seconds``)."""
    newcomer_visible_seconds: list[float] = field(default_factory=list, repr=False)
    """For each repository a delivery's request had listed and this pass read first: seconds from that
    delivery's arrival to the write that made it visible (``catalog_webhook_newcomer_visible_seconds``)."""

    def notes(self) -> list[str]:
        """What else a user must know of the pass: dead passes it closed, and what it had to skip."""
        lines = [
            f"sync run {run['run']} closed as aborted: {run['reason']}; "
            f"{run['released']} repositories it had claimed were given back"
            for run in self.aborted_runs
        ]
        lines += [
            f"{held['repositories']} repositories skipped: claimed by {held['holder']} until "
            f"{held['until']:%H:%M:%S} UTC (another pass is reading them; run sync again after that)"
            for held in self.skipped
        ]
        return lines

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of ``catalog-sync sync --format json``."""
        data = asdict(self)
        data.pop("changed_entity_ids")
        data.pop("taken_over")
        data.pop("push_visible_seconds")
        data.pop("newcomer_visible_seconds")
        return data
