"""The rule every cache kept per repository is pruned by: an entry goes at the second complete listing
in a row that misses its repository, and one in use waits for the next listing."""

from __future__ import annotations

from pathlib import Path

from catalog_sync.sources.cacheprune import MissedListings, missed_records, repository_id


def test_an_entry_goes_at_the_second_listing_in_a_row_that_misses_it() -> None:
    gone, counts = missed_records([1, 2, 3], listed={1}, missed={}, listings=2)
    assert (gone, counts) == ([], {2: 1, 3: 1})
    gone, counts = missed_records([1, 2, 3], listed={1, 3}, missed=counts, listings=2)
    assert (gone, counts) == ([2], {})  # 3 was listed again: it starts from zero
    assert missed_records([1, 3], listed={1}, missed=counts, listings=2) == ([], {3: 1})


def test_the_counts_survive_between_passes_and_an_entry_in_use_is_tried_again(tmp_path: Path) -> None:
    entries = {1: tmp_path / "1", 2: tmp_path / "2"}
    asked: list[Path] = []

    def refuse(entry: Path) -> bool:
        asked.append(entry)
        return False  # in use by another worker

    assert MissedListings(tmp_path / "missed.json", 2).prune(entries, {1}, refuse) == 0
    assert asked == []  # one listing without it: counted, not removed
    assert (tmp_path / "missed.json").is_file()
    assert MissedListings(tmp_path / "missed.json", 2).prune(entries, {1}, refuse) == 0
    assert asked == [tmp_path / "2"]
    assert MissedListings(tmp_path / "missed.json", 2).prune(entries, {1}, lambda _: True) == 1
    assert not (tmp_path / "missed.json").exists()  # nothing left to count: nothing written


def test_a_count_file_that_cannot_be_read_counts_from_zero(tmp_path: Path) -> None:
    (tmp_path / "missed.json").write_bytes(b"[1, 2")
    missed = MissedListings(tmp_path / "missed.json", 2)
    assert missed.prune({2: tmp_path / "2"}, set(), lambda _: True) == 0  # a first miss, not a second
    assert missed.prune({2: tmp_path / "2"}, set(), lambda _: True) == 1


def test_only_a_name_written_as_an_id_is_a_repository_id() -> None:
    assert repository_id("1234") == 1234
    assert [repository_id(name) for name in ("007", "\u00b2", "12.tmp-3", "", "-1", "notes")] == [None] * 6
