"""Tips remembered per repository id and push time: what makes a no-change pass cost no request per
repository, across a restarted worker."""

from __future__ import annotations

import time
from pathlib import Path

from catalog_sync.sources.tipstate import EMPTY, TipState

SHA = "a" * 40
NEWER = "b" * 40


def test_a_tip_is_known_while_the_push_time_and_branch_stand(tmp_path: Path) -> None:
    state = TipState(tmp_path / "tips.jsonl")
    state.record(7, "2026-01-01T00:00:00Z", "main", SHA)
    assert state.known(7, "2026-01-01T00:00:00Z", "main") == SHA
    assert state.known(7, "2026-01-01T00:00:01Z", "main") is None  # pushed since
    assert state.known(7, "2026-01-01T00:00:00Z", "trunk") is None  # another branch configured
    assert state.known(8, "2026-01-01T00:00:00Z", "main") is None


def test_tips_survive_a_restart_and_compaction_keeps_only_listed_repositories(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "tips.jsonl"
    state = TipState(path)
    state.record(1, "t1", "main", SHA)
    state.record(2, "t1", "main", SHA)
    state.record(1, "t2", "main", NEWER)
    restarted = TipState(path)
    assert restarted.known(1, "t2", "main") == NEWER
    restarted.compact({1})
    assert len(path.read_text().splitlines()) == 1
    assert TipState(path).known(2, "t1", "main") is None


def test_a_damaged_line_or_a_bad_sha_is_ignored_not_trusted(tmp_path: Path) -> None:
    path = tmp_path / "tips.jsonl"
    path.write_text('{"id": 1, "at": "t", "branch": "main", "tip": "not-a-sha"}\n{broken\n')
    state = TipState(path)
    assert state.known(1, "t", "main") is None
    state.record(1, "", "main", SHA)  # no push time: nothing to key it by
    assert state.known(1, "", "main") is None


def test_an_empty_branch_is_remembered_across_a_restart_until_the_push_time_moves(tmp_path: Path) -> None:
    path = tmp_path / "tips.jsonl"
    TipState(path).record(3, "t1", "main", EMPTY)
    restarted = TipState(path)
    assert restarted.known(3, "t1", "main") == EMPTY
    assert restarted.known(3, "t2", "main") is None  # pushed since: asked again


def test_when_a_tip_was_read_survives_a_restart_and_a_compaction(tmp_path: Path) -> None:
    before = time.time()
    state = TipState(tmp_path / "tips.jsonl")
    state.record(7, "m", "main", SHA)
    state.record(9, "m", "main", SHA)
    restarted = TipState(tmp_path / "tips.jsonl")
    entry = restarted.entry(7, "m", "main")
    assert entry is not None
    assert entry.read_at >= before
    restarted.compact({7})
    again = TipState(tmp_path / "tips.jsonl")
    kept = again.entry(7, "m", "main")
    assert kept is not None
    assert kept.read_at == entry.read_at
    assert again.known(9, "m", "main") is None


def test_a_file_written_before_read_times_were_kept_is_read(tmp_path: Path) -> None:
    path = tmp_path / "tips.jsonl"
    path.write_text('{"id": 7, "at": "m", "branch": "main", "tip": "' + SHA + '"}\n{broken\n')
    entry = TipState(path).entry(7, "m", "main")
    assert entry is not None
    assert entry.read_at == 0.0


def test_first_tips_appended_after_a_compaction_need_no_rewrite_and_a_second_tip_does(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "tips.jsonl"
    state = TipState(path)
    state.compact(set())
    for rid in (1, 2, 3):
        state.record(rid, "t1", "main", SHA)
    written = path.stat().st_ino  # a compaction writes a new file and renames it over the old one
    state.compact({1, 2, 3})
    assert path.stat().st_ino == written
    assert len(path.read_text().splitlines()) == 3
    state.record(2, "t2", "main", NEWER)
    state.compact({1, 2, 3})
    assert path.stat().st_ino != written
    assert len(path.read_text().splitlines()) == 3
    assert TipState(path).known(2, "t2", "main") == NEWER
    state.compact({1, 3})
    assert len(path.read_text().splitlines()) == 2


def test_a_forgotten_tip_stays_forgotten_across_a_restart_and_a_compaction(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "tips.jsonl"
    state = TipState(path)
    state.record(1, "t1", "main", EMPTY)
    state.record(2, "t1", "main", SHA)
    state.forget(1)
    state.forget(3)  # never known: nothing written

    assert state.known(1, "t1", "main") is None
    assert TipState(path).known(1, "t1", "main") is None
    assert TipState(path).known(2, "t1", "main") == SHA
    state.compact({1, 2})
    assert TipState(path).known(1, "t1", "main") is None
    assert len(path.read_text(encoding="utf-8").splitlines()) == 1
