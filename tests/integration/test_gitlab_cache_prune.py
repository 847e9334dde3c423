"""A gitlab source's clones are pruned by its complete listings, against the local GitLab: a deleted
project's clone goes at the second listing without it (one fetched within the hour stays until a later
listing), a listed project keeps its clone, a project transferred to another group loses the clone
made under its old path, and a listing that fails on a page removes nothing."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog_sync.errors import HostApiError
from catalog_sync.sources.gitlab import GitLabRepository, GitLabSource
from tests.fixtures.fakegitlab import FakeGitLab, FakeProject, fake_gitlab
from tests.integration.test_gitlab_source import TOKEN, source_for

DAY = 24 * 3600.0


@pytest.fixture
def gitlab(tmp_path: Path) -> Iterator[FakeGitLab]:
    with fake_gitlab(tmp_path / "gitlab", token=TOKEN) as fake:
        yield fake


def clones(cache: Path) -> Path:
    """The folder of the source's clones, one folder per project id."""
    (folder,) = (cache / "gitlab").glob("acme-gl-*")
    return folder / "repositories"


def read(source: GitLabSource, *projects: FakeProject) -> None:
    """List, then read ``projects`` at their tips, as a sync pass does: each gets its clone."""
    wanted = {p.id for p in projects}
    for repository in source.discover():
        assert isinstance(repository, GitLabRepository)
        if repository.project.id in wanted:
            repository.prefetch(repository.tip())


def age(folder: Path, seconds: float = 2 * DAY) -> None:
    """Move ``folder`` and everything in it ``seconds`` back, as clones no read touched since."""
    then = time.time() - seconds
    for path in [folder, *folder.rglob("*")]:
        os.utime(path, (then, then), follow_symlinks=False)


def test_a_deleted_projects_clone_goes_at_the_second_listing_and_a_listed_one_keeps_its(
    gitlab: FakeGitLab, tmp_path: Path
) -> None:
    pay, gone = gitlab.add_project("acme", "pay"), gitlab.add_project("acme/platform", "gone")
    source = source_for(gitlab, tmp_path / "cache")
    read(source, pay, gone)
    folder = clones(tmp_path / "cache")
    assert {p.name for p in folder.iterdir()} == {str(pay.id), str(gone.id)}
    age(folder)

    gitlab.delete(gone)
    source.discover()
    assert (folder / str(gone.id)).is_dir()  # one listing may miss a project moved between two pages
    source.discover()
    assert not (folder / str(gone.id)).exists()
    assert [(p / "shallow").is_file() for p in (folder / str(pay.id)).iterdir() if p.is_dir()] == [True]


def test_a_clone_fetched_within_the_hour_is_kept_until_a_listing_after_it(
    gitlab: FakeGitLab, tmp_path: Path
) -> None:
    gone = gitlab.add_project("acme", "gone")
    source = source_for(gitlab, tmp_path / "cache")
    read(source, gone)
    gitlab.delete(gone)
    source.discover()
    source.discover()  # another worker sharing the cache may be fetching into it
    folder = clones(tmp_path / "cache")
    assert (folder / str(gone.id)).is_dir()
    age(folder)
    source.discover()
    assert not (folder / str(gone.id)).exists()


def test_a_listing_that_fails_on_a_page_removes_no_clone(gitlab: FakeGitLab, tmp_path: Path) -> None:
    gitlab.max_per_page = 5  # three pages from 12 projects, as GitLab's 100 make from 201 and more
    first = gitlab.add_project("acme", "svc-0")
    projects = [first, *(gitlab.add_project("acme", f"svc-{i}", shares=first) for i in range(1, 12))]
    source = source_for(gitlab, tmp_path / "cache")
    read(source, projects[0])
    folder = clones(tmp_path / "cache") / str(projects[0].id)
    age(folder.parent)
    gitlab.delete(projects[0])
    gitlab.misbehave.fail_pages[3] = 502
    for _ in range(3):
        with pytest.raises(HostApiError, match="HTTP 502"):
            source.discover()
    assert folder.is_dir()

    gitlab.misbehave.fail_pages.clear()
    source.discover()
    assert folder.is_dir()  # the failed listings counted for nothing
    source.discover()
    assert not folder.exists()


def test_a_transferred_project_loses_its_clone_under_the_old_path(gitlab: FakeGitLab, tmp_path: Path) -> None:
    pay = gitlab.add_project("acme", "pay")
    source = source_for(gitlab, tmp_path / "cache")
    read(source, pay)
    folder = clones(tmp_path / "cache") / str(pay.id)
    (old,) = [p for p in folder.iterdir() if p.is_dir()]
    age(folder)
    gitlab.transfer(pay, "acme/platform")
    read(source, pay)  # listed under its new path: the old clone goes, a new one is made
    assert not old.exists()
    (new,) = [p for p in folder.iterdir() if p.is_dir()]
    assert (new / "shallow").is_file()
    assert sorted(p.name for p in folder.iterdir()) == sorted([new.name, f"{new.name}.lock"])
