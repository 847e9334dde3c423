"""What ``catalog-sync sync`` prints: sentences a person reads, and the gaps the pass left."""

from __future__ import annotations

import json

from catalog_sync.commands.reports import gap_line, sync_report
from catalog_sync.sync.summary import PassSummary


def test_one_repository_and_one_conflict_read_in_the_singular() -> None:
    text = sync_report(PassSummary(repositories=1, conflicts=1, changed=1), {}, "text")
    first, second, third = text.splitlines()
    assert first.startswith("synced 1 repository in ")
    assert "; 1 conflict; " in second
    assert third == "ownership gaps: none"
    many = sync_report(PassSummary(repositories=2, conflicts=0), {}, "text")
    assert many.startswith("synced 2 repositories in ")


def test_gaps_are_counted_most_frequent_first_and_in_json_by_type() -> None:
    gaps = {"unknown_owner": 1, "missing_owner": 3, "team_without_members": 0}
    assert gap_line(gaps) == (
        "ownership gaps: 4 (missing_owner 3, unknown_owner 1); "
        "see /gaps in the portal or GET /api/ownership/gaps"
    )
    report = json.loads(sync_report(PassSummary(repositories=1), gaps, "json"))
    assert report["gaps"] == {"missing_owner": 3, "team_without_members": 0, "unknown_owner": 1}
    assert report["repositories"] == 1
