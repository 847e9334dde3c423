"""Summary arithmetic: results counted in and out add up exactly, in tenths."""

from __future__ import annotations

from catalog_sync.scoring.summary import SummaryChanges, tenths
from catalog_sync.store.scoring.summaries import average
from catalog_sync.store.scoring.writes import dump_tallies, load_tallies

PAY = "team:default/payments"
WEB = "team:default/web"


def test_tenths_keep_sums_exact_where_floats_drift() -> None:
    scores = [70.6, 29.4, 0.1, 0.2, 99.9] * 1000
    changes = SummaryChanges()
    for score in scores:
        changes.add(PAY, [("readiness", "", tenths(score))])
    for score in reversed(scores[5:]):
        changes.take_off(PAY, [("readiness", "", tenths(score))])
    assert changes.owners == {("readiness", PAY): [5, 2002]}
    assert average(2002, 5, 2) == 40.04
    assert average(0, 0, 1) is None
    assert load_tallies(dump_tallies([("readiness", "gold", 706)])) == [("readiness", "gold", 706)]
