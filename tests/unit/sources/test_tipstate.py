"""The tips a hosting source remembers: answered only under the same push time and branch, kept
across processes with when they were read, and forgotten when a repository leaves the listing."""

from __future__ import annotations

import time
from pathlib import Path

from catalog_sync.sources.tipstate import TipState

SHA = "a" * 40


def test_a_tip_is_known_only_under_the_push_time_and_branch_it_was_read_with(tmp_path: Path) -> None:
    state = TipState(tmp_path / "tips.jsonl")
    state.record(7, "2024-05-01T10:00:00Z", "main", SHA)
    assert state.known(7, "2024-05-01T10:00:00Z", "main") == SHA
    assert state.known(7, "2024-05-01T11:00:00Z", "main") is None
    assert state.known(7, "2024-05-01T10:00:00Z", "release") is None
    assert state.known(8, "2024-05-01T10:00:00Z", "main") is None


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
