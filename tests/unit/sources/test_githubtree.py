"""The API snapshot answers a scan as a git snapshot would: the selection decides which folders are
walked, the budget is charged as they are, blobs come only from the checked cache, history is the tip."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from catalog_sync.errors import RepositoryUnreachableError, ScanBudgetError
from catalog_sync.sources.base import TreeEntry
from catalog_sync.sources.budget import ScanBudget
from catalog_sync.sources.githubtree import (
    ApiSnapshot,
    BlobCache,
    blob_sha,
    parse_blob,
    parse_raw_blob,
    parse_time,
)
from catalog_sync.sources.selection import TreeSelection

WHEN = datetime(2026, 3, 1, tzinfo=UTC)


def snapshot(tmp_path: Path, paths: list[str]) -> ApiSnapshot:
    files = [TreeEntry(p, blob_sha(p.encode()), 0o100644, len(p)) for p in paths]
    blobs = BlobCache(tmp_path / "blobs")
    for path in paths:
        blobs.put(blob_sha(path.encode()), path.encode())
    return ApiSnapshot("c" * 40, "main", WHEN, "dev@example.com", files, blobs)


def test_the_walk_enters_only_the_folders_the_selection_asks_for(tmp_path: Path) -> None:
    paths = ["catalog-info.yaml", "README.md", "docs/a.md", "docs/b.md"] + [
        f"vendor/x/{i}.c" for i in range(500)
    ]
    selection = TreeSelection(globs=["catalog-info.yaml"], files=["README.md"], folders=["docs/"])
    budget = ScanBudget(max_entries=100, max_bytes=10_000, seconds=60)
    listed = snapshot(tmp_path, paths).tree(selection, budget)
    assert [e.path for e in listed] == ["README.md", "catalog-info.yaml"]
    assert selection.occupied == {"docs/"}
    assert budget.entries < 100  # vendor/ was never walked


def test_a_tree_larger_than_the_budget_stops_naming_the_setting(tmp_path: Path) -> None:
    budget = ScanBudget(max_entries=10, max_bytes=10_000, seconds=60)
    with pytest.raises(ScanBudgetError, match=r"descriptors\.max_tree_entries"):
        snapshot(tmp_path, [f"f{i}" for i in range(20)]).tree(None, budget)


def test_history_is_the_tip_alone_and_says_it_is_truncated(tmp_path: Path) -> None:
    opened = snapshot(tmp_path, ["catalog-info.yaml"])
    history = opened.history(WHEN - timedelta(days=90))
    assert [c.sha for c in history.commits] == ["c" * 40]
    assert history.truncated
    assert opened.history(WHEN + timedelta(days=1)).commits == []
    assert opened.last_changed(["catalog-info.yaml"]) == {"catalog-info.yaml": WHEN}


def test_a_blob_not_read_ahead_fails_the_repository_clearly(tmp_path: Path) -> None:
    with pytest.raises(RepositoryUnreachableError, match="was not read from the host"):
        snapshot(tmp_path, []).read_blob("d" * 40)


def test_a_blob_answer_that_does_not_hash_to_its_sha_is_refused() -> None:
    good = {"content": base64.b64encode(b"kind: Component\n").decode(), "encoding": "base64"}
    assert parse_blob(good, blob_sha(b"kind: Component\n"), "acme/pay") == b"kind: Component\n"
    with pytest.raises(RepositoryUnreachableError, match="does not hash to it"):
        parse_blob(good, blob_sha(b"other"), "acme/pay")
    with pytest.raises(RepositoryUnreachableError, match="no base64 'content'"):
        parse_blob({"content": "x", "encoding": "utf-8"}, "a" * 40, "acme/pay")


def test_a_raw_blob_answer_is_kept_only_when_it_hashes_to_its_sha() -> None:
    text = b"kind: Component\n"
    assert parse_raw_blob(text, blob_sha(text), "acme/pay") == text
    with pytest.raises(RepositoryUnreachableError, match="does not hash to it"):
        parse_raw_blob(b"kind: Other\n", blob_sha(text), "acme/pay")


def test_a_host_that_ignores_the_raw_media_type_is_read_from_its_base64_answer() -> None:
    text = b"kind: Component\n"
    answer = json.dumps({"content": base64.b64encode(text).decode(), "encoding": "base64"}).encode()
    assert parse_raw_blob(answer, blob_sha(text), "acme/pay") == text
    with pytest.raises(RepositoryUnreachableError, match="does not hash to it"):
        parse_raw_blob(answer, blob_sha(b"other"), "acme/pay")


def test_a_blob_answer_nested_past_the_parsers_depth_is_refused_as_not_the_blob() -> None:
    with pytest.raises(RepositoryUnreachableError, match="acme/pay: the host's content for blob"):
        parse_raw_blob(b"[" * 100_000, "a" * 40, "acme/pay")


@pytest.mark.parametrize(
    "date", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2026-13-01T00:00:00Z", None, 42]
)
def test_a_committer_date_utc_cannot_hold_is_refused_naming_the_repository(date: object) -> None:
    with pytest.raises(RepositoryUnreachableError, match="acme/pay: the host's commit has no valid"):
        parse_time(date, "acme/pay")


def test_a_committer_date_is_kept_in_utc() -> None:
    assert parse_time("2026-03-01T02:00:00+02:00", "acme/pay") == WHEN
    assert parse_time("2026-03-01T00:00:00Z", "acme/pay").utcoffset() == timedelta(0)
