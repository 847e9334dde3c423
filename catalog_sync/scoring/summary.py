"""The arithmetic of the summaries: what one re-score adds to and takes off the kept totals.

The API's scorecard summaries, the daily history and the Prometheus gauges read per-scorecard totals
(entities and score sums per level, and per owning team) that the store keeps beside the results
(``catalog_sync.store.scoring.summaries``), so reading one costs a few rows, not a scan. A full
re-score starts them from empty; an incremental one takes off what each re-scored or vanished entity
added when it was last scored and adds what it adds now. ``SummaryChanges`` gathers those moves in
memory and the store applies them once, at the end of the re-score's transaction.

Scores are summed in tenths (a score has one decimal), so adding and taking off never drifts: after
every re-score each total equals a GROUP BY over the results, to the unit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from catalog_sync.store.scoring.types import EntityOutcome, ScoredBefore, Served
from catalog_sync.store.scoring.types import Tally as Tally
from catalog_sync.store.scoring.types import Totals as Totals
from catalog_sync.store.scoring.types import tenths as tenths


@dataclass
class SummaryChanges:
    """What one re-score changes in the summaries, gathered in memory and written once at its end."""

    levels: Totals = field(default_factory=dict)
    owners: Totals = field(default_factory=dict)
    served: Served = field(default_factory=dict)
    """Live products per capability and owning team (the capability-overlap insight), kept alike."""

    def add(self, owner: str, tallies: Iterable[Tally], sign: int = 1) -> None:
        """Count one entity's results in (``sign`` 1) or out (``sign`` -1)."""
        for card, level, score in tallies:
            for totals, key in ((self.levels, (card, level)), (self.owners, (card, owner))):
                entry = totals.setdefault(key, [0, 0])
                entry[0] += sign
                entry[1] += sign * score

    def take_off(self, owner: str, tallies: Iterable[Tally]) -> None:
        """Count out what an entity added when it was last scored."""
        self.add(owner, tallies, -1)

    def count_in(self, outcome: EntityOutcome) -> None:
        """Count in everything a freshly evaluated entity adds: its results, the capabilities it serves."""
        self.add(outcome.owner, outcome.tallies())
        self._serve(outcome.owner, outcome.served(), 1)

    def count_out(self, before: ScoredBefore) -> None:
        """Count out everything an entity added when it was last scored."""
        self.take_off(before.owner, before.tallies)
        self._serve(before.owner, before.served, -1)

    def _serve(self, owner: str, capabilities: Iterable[str], sign: int) -> None:
        for capability in capabilities:
            key = (capability, owner)
            self.served[key] = self.served.get(key, 0) + sign
