"""The benchmark's fleet must be real, valid git repositories, or its figures measure nothing."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from benchmarks.fleet import CAPABILITIES, TEAMS, generate_fleet, restore_fleet, touch_fraction
from benchmarks.floor import measure_floor
from catalog_sync.descriptors import LoadLimits, parse_file


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def entities(repo: Path, path: str) -> list[tuple[str, str]]:
    """(kind, name) of every document of ``path`` at the tip, failing on any error in the file."""
    parsed = parse_file(path, git(repo, "show", f"HEAD:{path}").encode(), LoadLimits())
    assert not parsed.has_errors, [p.format() for p in parsed.all_problems()]
    assert all(doc.entity is not None for doc in parsed.documents)
    return [(doc.entity.kind.lower(), doc.entity.name) for doc in parsed.documents if doc.entity]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_fleet(tmp_path_factory.mktemp("fleet"), 5, seed=7).root


def test_every_product_repository_is_a_sound_bare_repository_with_one_valid_product(fleet: Path) -> None:
    names = sorted(p.name for p in fleet.iterdir() if p.is_dir())
    assert names == ["platform.git"] + [f"svc-0000{n}.git" for n in range(1, 6)]
    now = time.time()
    for number in range(1, 6):
        repo = fleet / f"svc-0000{number}.git"
        git(repo, "fsck", "--strict", "--no-progress")
        assert git(repo, "rev-parse", "--is-bare-repository").strip() == "true"
        dates = [int(line) for line in git(repo, "log", "--format=%ct").split()]
        assert len(dates) == 3
        assert all(now - 90 * 86400 <= d <= now for d in dates)
        files = git(repo, "ls-tree", "-r", "--name-only", "HEAD").split()
        assert {"catalog-info.yaml", "README.md"} <= set(files)
        assert entities(repo, "catalog-info.yaml") == [("product", f"svc-0000{number}")]


def test_platform_repository_holds_every_team_and_capability(fleet: Path) -> None:
    repo = fleet / "platform.git"
    git(repo, "fsck", "--strict", "--no-progress")
    assert entities(repo, ".catalog/teams.yaml") == [("team", t) for t in TEAMS]
    assert entities(repo, ".catalog/capabilities.yaml") == [("capability", c) for c in CAPABILITIES]
    assert len(TEAMS) == 50
    assert len(CAPABILITIES) == 30


def test_a_generated_fleet_is_reused_not_rebuilt(fleet: Path) -> None:
    tip = git(fleet / "svc-00001.git", "rev-parse", "HEAD")
    again = generate_fleet(fleet, 5, seed=7)
    assert again.reused
    assert git(fleet / "svc-00001.git", "rev-parse", "HEAD") == tip


def test_touch_adds_one_valid_commit_and_restore_undoes_it(fleet: Path) -> None:
    before = {p.name: git(p, "rev-parse", "HEAD").strip() for p in fleet.glob("svc-*.git")}
    touched = touch_fraction(fleet, 0.4, seed=3)
    assert len(touched) == 2
    for name in touched:
        repo = fleet / f"{name}.git"
        git(repo, "fsck", "--strict", "--no-progress")
        assert git(repo, "rev-parse", "HEAD~1").strip() == before[f"{name}.git"]
        diff = git(repo, "diff", "HEAD~1", "HEAD", "--numstat").split()
        assert diff == ["1", "1", "catalog-info.yaml"]
        assert entities(repo, "catalog-info.yaml") == [("product", name)]
    untouched = set(before) - {f"{n}.git" for n in touched}
    assert all(git(fleet / n, "rev-parse", "HEAD").strip() == before[n] for n in untouched)
    assert restore_fleet(fleet) == 2
    assert {p.name: git(p, "rev-parse", "HEAD").strip() for p in fleet.glob("svc-*.git")} == before


def test_floor_reads_every_descriptor_of_the_fleet(fleet: Path) -> None:
    sequential, parallel = measure_floor(fleet, 1), measure_floor(fleet, 2)
    for result in (sequential, parallel):
        assert (result.repositories, result.files) == (6, 7)
    assert sequential.bytes == parallel.bytes > 5 * 1000
