"""Summary totals: results counted in and out add up exactly, and an emptied row disappears."""

from __future__ import annotations

from sqlalchemy import Engine

from catalog_sync.scoring.summary import SummaryChanges, tenths
from catalog_sync.store.scoring.gauges import score_averages_by_owner
from catalog_sync.store.scoring.summaries import apply_summaries, level_totals, owner_totals

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
        assert apply_summaries(conn, first.levels, first.owners, first.served)
        assert apply_summaries(conn, second.levels, second.owners, second.served)
        assert not apply_summaries(conn, {}, {}, {})
        levels = sorted(level_totals(conn))
        owners = sorted(owner_totals(conn))
        averages = score_averages_by_owner(conn)
    assert levels == [("readiness", "", 1, 125), ("readiness", "gold", 1, 706), ("security", "", 1, 1)]
    assert owners == [("readiness", PAY, 1, 706), ("readiness", WEB, 1, 125), ("security", PAY, 1, 1)]
    assert averages == [("readiness", PAY, 70.6), ("readiness", WEB, 12.5), ("security", PAY, 0.1)]
