"""The tips a hosting source remembers: answered only under the same marker and branch, kept across
processes, forgotten when a repository leaves the listing, and never a reason for a pass to fail."""

from __future__ import annotations

from pathlib import Path

from catalog_sync.sources.hoststate import TipMemory

SHA = "a" * 40


def test_a_tip_is_known_only_under_the_marker_and_branch_it_was_asked_with(tmp_path: Path) -> None:
    memory = TipMemory(tmp_path / "tips.json")
    memory.remember("k", "2024-05-01T10:00:00Z", "main", SHA)
    known = memory.known("k", "2024-05-01T10:00:00Z", "main")
    assert known is not None
    assert known.tip == SHA
    assert memory.known("k", "2024-05-01T11:00:00Z", "main") is None
    assert memory.known("k", "2024-05-01T10:00:00Z", "release") is None
    assert memory.known("other", "2024-05-01T10:00:00Z", "main") is None


def test_tips_survive_a_restart_and_leave_with_their_repository(tmp_path: Path) -> None:
    memory = TipMemory(tmp_path / "tips.json")
    memory.remember("kept", "m", "main", SHA)
    memory.remember("gone", "m", "main", SHA)
    memory.keep_only(["kept"])
    memory.save()
    restarted = TipMemory(tmp_path / "tips.json")
    assert restarted.known("kept", "m", "main") is not None
    assert restarted.known("gone", "m", "main") is None


def test_a_damaged_file_only_costs_requests(tmp_path: Path) -> None:
    path = tmp_path / "tips.json"
    for text in ("{not json", '{"version": 1, "tips": {"k": {"marker": 1}}}', "[]", '{"version": 99}'):
        path.write_text(text)
        assert TipMemory(path).known("k", "m", "main") is None


def test_an_unwritable_cache_does_not_fail_the_pass(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    memory = TipMemory(blocker / "tips.json")  # its folder cannot be made
    memory.remember("k", "m", "main", SHA)
    memory.save()
    assert memory.known("k", "m", "main") is not None
