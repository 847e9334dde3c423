"""The pure judgement of initiatives and exemptions: progress, trend, risk, due notices, exemption days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from catalog_sync.model import Entity
from catalog_sync.scoring.definitions import build_scorecard
from catalog_sync.scoring.exemptions import ends_at, grants_for, is_active
from catalog_sync.scoring.initiatives import (
    Candidate,
    Progress,
    build_initiative,
    due_notices,
    fitted_share,
    judge_progress,
    judge_risk,
)

START = date(2027, 1, 4)


def _initiative(**spec: object) -> Entity:
    body = {
        "owner": "platform",
        "scorecard": "basics",
        "checks": ["kpis"],
        "appliesTo": ["kind=product"],
        "startsOn": START.isoformat(),
        "dueOn": (START + timedelta(days=20)).isoformat(),
        **spec,
    }
    return Entity("catalog/v1", "Initiative", {"name": "measured", "namespace": "ops"}, body)


def _progress(in_scope: int, done: int) -> Progress:
    return Progress(build_initiative(_initiative()), in_scope=in_scope, done=done)


def test_an_initiatives_owner_is_a_team_of_its_own_namespace() -> None:
    assert build_initiative(_initiative()).owner == "team:ops/platform"
    assert build_initiative(_initiative(owner="group:default/web")).owner == "group:default/web"


def test_progress_counts_per_team_and_an_exempted_check_counts_as_passed() -> None:
    card = build_scorecard(
        Entity(
            "catalog/v1",
            "Scorecard",
            {"name": "basics"},
            {
                "appliesTo": ["kind=product"],
                "levels": ["bronze", "silver"],
                "checks": [
                    {"id": "owner", "title": "o", "level": "bronze", "rule": {"ownerResolves": True}},
                    {
                        "id": "kpis",
                        "title": "k",
                        "level": "silver",
                        "rule": {"field": "spec.kpis", "minItems": 1},
                    },
                ],
            },
        ),
        "builtin",
    )
    passed = [
        {"id": "kpis", "passed": True, "exempted": {"reason": "r", "until": "2027-02-01", "approvedBy": "a"}}
    ]
    failed = [{"id": "kpis", "passed": False}]
    progress = judge_progress(
        build_initiative(_initiative()),
        card,
        [
            Candidate(1, "product:default/a", "team:default/pay", 1, passed),
            Candidate(2, "product:default/b", "team:default/pay", 1, failed),
            Candidate(3, "product:default/c", "", 0, failed),
        ],
    )
    assert (progress.in_scope, progress.done) == (3, 1)
    assert progress.team_list() == [  # most not done first, then by name (no team before any)
        {"team": None, "inScope": 1, "done": 0, "notDone": 1},
        {"team": "team:default/pay", "inScope": 2, "done": 1, "notDone": 1},
    ]


def test_a_straight_trend_is_fitted_and_needs_two_days() -> None:
    assert fitted_share([(START, 0.5)], START + timedelta(days=9)) is None
    points = [(START + timedelta(days=n), 0.1 * n) for n in range(4)]
    assert fitted_share(points, START + timedelta(days=10)) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("shares", "today_offset", "status", "at_risk"),
    [
        ([0.2, 0.3, 0.4], 2, "active", False),  # +10% a day from 40% on day 2: 100% by day 8 < 20
        ([0.2, 0.2, 0.2], 2, "active", True),  # flat: never
        ([0.2], 0, "active", False),  # one day: no trend yet
        ([0.2, 0.2], 25, "overdue", True),  # past the due day, not done
    ],
)
def test_risk_follows_the_last_fourteen_days(
    shares: list[float], today_offset: int, status: str, at_risk: bool
) -> None:
    progress = _progress(10, round(shares[-1] * 10))
    today = START + timedelta(days=today_offset)
    first = today - timedelta(days=len(shares) - 1)
    points = [(first + timedelta(days=n), 10, round(share * 10)) for n, share in enumerate(shares)]
    judge_risk(progress, points, today)
    assert (progress.status, progress.at_risk) == (status, at_risk)


def test_points_older_than_fourteen_days_do_not_count() -> None:
    progress = _progress(10, 5)
    today = START + timedelta(days=16)
    old = [(START + timedelta(days=n), 10, 0) for n in range(2)]  # days 0 and 1: outside the window
    judge_risk(progress, [*old, (today, 10, 5)], today)
    assert progress.projected is None
    assert progress.at_risk is False


def test_done_and_planned_initiatives_are_never_at_risk() -> None:
    done = _progress(4, 4)
    judge_risk(done, [(START, 4, 0), (START + timedelta(days=1), 4, 4)], START + timedelta(days=30))
    assert (done.status, done.at_risk) == ("done", False)
    planned = _progress(4, 0)
    judge_risk(
        planned,
        [(START - timedelta(days=2), 4, 0), (START - timedelta(days=1), 4, 0)],
        START - timedelta(days=1),
    )
    assert (planned.status, planned.at_risk) == ("planned", False)


def test_due_notices_come_14_7_and_1_days_before_and_every_day_overdue() -> None:
    due = START + timedelta(days=14)
    item = {"name": "measured", "dueOn": due.isoformat(), "inScope": 3, "done": 1}
    days = {n: due_notices([item], due - timedelta(days=n)) for n in range(-2, 16)}
    announced = {n: [(x.event, x.days_left) for x in found] for n, found in days.items() if found}
    assert announced == {
        14: [("initiative_due", 14)],
        7: [("initiative_due", 7)],
        1: [("initiative_due", 1)],
        -1: [("initiative_overdue", -1)],
        -2: [("initiative_overdue", -2)],
    }
    assert due_notices([{**item, "done": 3}], due - timedelta(days=7)) == []
    assert due_notices([{**item, "dueOn": "not a day"}], due) == []


def test_an_exemption_holds_through_its_last_day_and_ends_at_the_next_midnight() -> None:
    spec = {
        "exemptions": [
            {"scorecard": "basics", "check": "kpis", "until": "2027-01-31", "reason": "r", "approvedBy": "a"},
            {
                "scorecard": "basics",
                "check": "kpis",
                "until": "2027-01-10",
                "reason": "old",
                "approvedBy": "a",
            },
            {"scorecard": "other", "check": "kpis", "until": "2027-12-31", "reason": "r", "approvedBy": "a"},
            {
                "scorecard": "basics",
                "check": "owner",
                "until": "2027-02-30",
                "reason": "bad",
                "approvedBy": "a",
            },
            "not a mapping",
        ]
    }
    grants = grants_for(spec, "basics")
    assert set(grants) == {"kpis"}  # the latest day wins a repeat; an unreadable day is ignored
    grant = grants["kpis"]
    assert ends_at(grant.until) == datetime(2027, 2, 1, tzinfo=UTC)
    assert is_active(grant, datetime(2027, 1, 31, 23, 59, 59, tzinfo=UTC))
    assert not is_active(grant, datetime(2027, 2, 1, tzinfo=UTC))
    assert grants_for({"exemptions": "all of them"}, "basics") == {}
