"""Summary totals: results counted in and out add up exactly, and an emptied row disappears."""

from __future__ import annotations

from sqlalchemy import Engine

from catalog_sync.scoring import summary
from catalog_sync.scoring.store import score_averages_by_owner
from catalog_sync.scoring.summary import SummaryChanges, tenths

PAY = "team:default/payments"
WEB = "team:default/web"


def test_rescores_move_totals_exactly_and_drop_emptied_rows(sqlite_engine: Engine) -> None:
    first = SummaryChanges()
    first.add(PAY, [("readiness", "gold", tenths(70.6)), ("security", "", tenths(0.1))])
    first.add(PAY, [("readiness", "gold", tenths(29.4))])
    first.add(WEB, [("readiness", "", tenths(33.3))])
    second = SummaryChanges()  # one payments product moves to web and drops a level; web's goes away
    second.take_off(PAY, [("readiness", "gold", tenths(29.4))])
    second.add(WEB, [("readiness", "", tenths(12.5))])
    second.take_off(WEB, [("readiness", "", tenths(33.3))])
    with sqlite_engine.begin() as conn:
        assert summary.write_summaries(conn, first)
        assert summary.write_summaries(conn, second)
        assert not summary.write_summaries(conn, SummaryChanges())
        levels = sorted(summary.level_totals(conn))
        owners = sorted(summary.owner_totals(conn))
        averages = score_averages_by_owner(conn)
    assert levels == [("readiness", "", 1, 125), ("readiness", "gold", 1, 706), ("security", "", 1, 1)]
    assert owners == [("readiness", PAY, 1, 706), ("readiness", WEB, 1, 125), ("security", PAY, 1, 1)]
    assert averages == [("readiness", PAY, 70.6), ("readiness", WEB, 12.5), ("security", PAY, 0.1)]


def test_tenths_keep_sums_exact_where_floats_drift() -> None:
    scores = [70.6, 29.4, 0.1, 0.2, 99.9] * 1000
    changes = SummaryChanges()
    for score in scores:
        changes.add(PAY, [("readiness", "", tenths(score))])
    for score in reversed(scores[5:]):
        changes.take_off(PAY, [("readiness", "", tenths(score))])
    assert changes.owners == {("readiness", PAY): [5, 2002]}
    assert summary.average(2002, 5, 2) == 40.04
    assert summary.average(0, 0, 1) is None
    assert summary.load_tallies(summary.dump_tallies([("readiness", "gold", 706)])) == [
        ("readiness", "gold", 706)
    ]
