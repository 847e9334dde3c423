"""The ``gitlab`` source against a local GitLab: listing, economy, rate limits and hostile hosts.

The fake (``tests/fixtures/fakegitlab.py``) is a real HTTP server answering GitLab's REST shapes and
serving real git; what is asserted is what the host saw (requests, conditional or not, credentials)
and what the source answered.
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from catalog_sync.config import (
    GitLabSourceSettings,
    RepositoryFilters,
    SyncSettings,
    TokenAuth,
    parse_settings,
)
from catalog_sync.errors import (
    EmptyRepositoryError,
    HostApiError,
    RateLimitedError,
    RepositoryUnreachableError,
    SourceError,
)
from catalog_sync.sources.gitlab import GitLabRepository, GitLabSource
from catalog_sync.sources.hostapi import HostLimits
from tests.fixtures.fakegitlab import FakeGitLab, FakeProject, fake_gitlab

TOKEN = "glpat-Sup3rS3cretT0ken-xyz"
SYNC = SyncSettings(allowed_protocols=("https", "http"))


@pytest.fixture
def gitlab(tmp_path: Path) -> Iterator[FakeGitLab]:
    with fake_gitlab(tmp_path / "gitlab", token=TOKEN) as fake:
        yield fake


def source_for(
    gitlab: FakeGitLab,
    cache: Path,
    group: str = "acme",
    *,
    filters: RepositoryFilters | None = None,
    branch: str | None = None,
    max_wait: float = 5.0,
    parallel: int = 1,
) -> GitLabSource:
    settings = GitLabSourceSettings(
        name="acme-gl",
        group=group,
        api_url=gitlab.api_url,
        auth=TokenAuth("GITLAB_TOKEN"),
        filters=filters or RepositoryFilters(),
        branch=branch,
    )
    limits = HostLimits(timeout=10.0, max_wait=max_wait, retries=3, transient_delay=0.01, parallel=parallel)
    return GitLabSource(settings, cache, SYNC, environ={"GITLAB_TOKEN": TOKEN}, limits=limits)


def fleet(gitlab: FakeGitLab, count: int, group: str = "acme") -> list[FakeProject]:
    """``count`` projects spread over a group and two levels of subgroups, sharing one repository."""
    first = gitlab.add_project(group, "svc-0")
    projects = [first]
    for index in range(1, count):
        place = (group, f"{group}/platform", f"{group}/platform/payments")[index % 3]
        projects.append(gitlab.add_project(place, f"svc-{index}", shares=first))
    return projects


def listing_requests(gitlab: FakeGitLab) -> list[str]:
    return [r.path for r in gitlab.api_requests() if r.path.endswith("/projects")]


def test_a_group_and_its_subgroups_are_listed_across_keyset_pages(gitlab: FakeGitLab, tmp_path: Path) -> None:
    projects = fleet(gitlab, 230)
    gitlab.add_project("elsewhere", "svc-outside", shares=projects[0])
    source = source_for(gitlab, tmp_path / "cache")

    listed = source.discover()

    assert sorted(r.info.name for r in listed) == sorted(p.path_with_namespace for p in projects)
    asked = [r for r in gitlab.api_requests() if r.path.endswith("/projects")]
    assert len(asked) == 3  # 100 + 100 + 30
    assert all(r.query["pagination"] == "keyset" and r.query["include_subgroups"] == "true" for r in asked)
    assert next(r.query.get("id_after") for r in asked) is None
    netloc = f"127.0.0.1:{gitlab.port}"
    pay = next(r for r in listed if r.info.name == "acme/platform/svc-1")
    assert pay.info.key == f"gitlab:{netloc}:{projects[1].id}"
    assert pay.info.url == f"{gitlab.origin}/acme/platform/svc-1"
    assert pay.info.branch == "main"


def test_projects_and_groups_whose_path_starts_with_a_dot_are_listed(
    gitlab: FakeGitLab, tmp_path: Path
) -> None:
    """GitLab allows a path to start with a dot (``.dotfiles``, ``.templates``): such a project is read,
    and the listing is complete, so it may remove what left it."""
    pay = gitlab.add_project("acme", "pay")
    gitlab.add_project("acme", ".dotfiles", shares=pay)
    gitlab.add_project("acme/.templates", "ci", shares=pay)
    source = source_for(gitlab, tmp_path / "cache")

    listed = source.discover()

    assert sorted(r.info.name for r in listed) == ["acme/.dotfiles", "acme/.templates/ci", "acme/pay"]
    assert source.skipped_entries == []
    assert [
        r.info.name for r in source_for(gitlab, tmp_path / "other", group="acme/.templates").discover()
    ] == ["acme/.templates/ci"]


def test_every_filter_keeps_what_it_says(gitlab: FakeGitLab, tmp_path: Path) -> None:
    base = gitlab.add_project("acme", "svc-base", topics=["catalog"])
    gitlab.add_project("acme/team", "svc-sandbox", topics=["catalog"], shares=base)
    gitlab.add_project("acme/team", "svc-old", topics=["catalog"], archived=True, shares=base)
    gitlab.add_project("acme/team", "svc-fork", topics=["catalog"], forked_from=base.id, shares=base)
    gitlab.add_project("acme/team", "svc-private", topics=["catalog", "internal"], shares=base)
    gitlab.add_project("acme/team", "svc-untagged", shares=base)
    gitlab.add_project("acme/team", "lib-tools", topics=["catalog"], shares=base)
    filters = RepositoryFilters(
        include="^svc-",
        exclude="-sandbox$",
        topics_include=("catalog",),
        topics_exclude=("internal",),
    )

    kept = {r.info.name for r in source_for(gitlab, tmp_path / "a", filters=filters).discover()}
    assert kept == {"acme/svc-base"}

    every = RepositoryFilters(include="^svc-", forks=True, archived=True)
    kept = {r.info.name for r in source_for(gitlab, tmp_path / "b", filters=every).discover()}
    assert kept == {
        "acme/svc-base",
        "acme/team/svc-sandbox",
        "acme/team/svc-old",
        "acme/team/svc-fork",
        "acme/team/svc-private",
        "acme/team/svc-untagged",
    }


def test_gitlab_topics_are_configured_as_gitlab_names_them_and_compared_in_any_case(
    gitlab: FakeGitLab, tmp_path: Path
) -> None:
    base = gitlab.add_project("acme", "svc-ecs", topics=["AWS ECS", "Python3.11"])
    gitlab.add_project("acme", "svc-aws", topics=["aws"], shares=base)
    gitlab.add_project("acme", "svc-legacy", topics=["aws ecs", "Space In The Middle"], shares=base)
    topics = {"include": ["AWS ECS", "python3.11", "aws ecs"], "exclude": ["space in the middle"]}
    raw = {"name": "acme-gl", "type": "gitlab", "group": "acme", "topics": topics}
    (configured,) = parse_settings({"sources": [raw]}, environ={}).sources
    assert isinstance(configured, GitLabSourceSettings)

    kept = {r.info.name for r in source_for(gitlab, tmp_path / "a", filters=configured.filters).discover()}

    assert kept == {"acme/svc-ecs"}


def test_a_configured_branch_is_read_in_every_project(gitlab: FakeGitLab, tmp_path: Path) -> None:
    project = gitlab.add_project("acme", "pay")
    project.remote.work.branch("release")
    sha = project.remote.publish({"catalog-info.yaml": "x: 1\n"}, branch="release")
    gitlab.add_project("acme", "empty-release", shares=gitlab.add_project("other", "x"))

    listed = source_for(gitlab, tmp_path / "cache", branch="release").discover()

    pay = next(r for r in listed if r.info.name == "acme/pay")
    assert pay.info.branch == "release"
    assert pay.tip() == sha
    others = next(r for r in listed if r.info.name == "acme/empty-release")
    with pytest.raises(RepositoryUnreachableError, match="404"):
        others.tip()


def test_a_project_whose_code_the_token_may_not_read_fails_saying_so_not_read_as_empty(
    gitlab: FakeGitLab, tmp_path: Path
) -> None:
    hidden = gitlab.add_project("acme", "pay")
    hidden.code_hidden = True  # a Guest's view: GitLab names no default branch, the project is not empty
    gitlab.add_project("acme", "fresh", empty=True)

    listed = {r.info.name: r for r in source_for(gitlab, tmp_path / "cache").discover()}

    with pytest.raises(RepositoryUnreachableError, match="the token cannot read its code"):
        listed["acme/pay"].tip()
    with pytest.raises(EmptyRepositoryError):  # an empty project is still read as empty, not failed
        listed["acme/fresh"].tip()


def test_a_pass_where_nothing_changed_sends_only_conditional_list_requests(
    gitlab: FakeGitLab, tmp_path: Path
) -> None:
    gitlab.max_per_page = 5  # three pages from 12 projects, each tip one request on the first pass
    fleet(gitlab, 12)
    source = source_for(gitlab, tmp_path / "cache")
    first = {r.info.key: r.tip() for r in source.discover()}
    gitlab.forget_requests()

    tips = {r.info.key: r.tip() for r in source.discover()}

    assert tips == first
    asked = gitlab.api_requests()
    assert [r.path.endswith("/projects") for r in asked] == [True, True, True]
    assert all(r.conditional and r.status == 304 for r in asked)

    gitlab.forget_requests()  # a restarted worker: only the cache folder is shared
    restarted = {r.info.key: r.tip() for r in source_for(gitlab, tmp_path / "cache").discover()}
    assert restarted == first
    assert [(r.conditional, r.status) for r in gitlab.api_requests()] == [(True, 304)] * 3


def test_a_damaged_page_cache_nested_too_deeply_costs_one_full_listing(
    gitlab: FakeGitLab, tmp_path: Path
) -> None:
    """A damaged page cache costs one full listing; one nested deeper than the parser goes raised a
    RecursionError (no ``SourceError``) while the source was built, and the service could not start."""
    fleet(gitlab, 3)
    source_for(gitlab, tmp_path / "cache").discover()
    (cache,) = (tmp_path / "cache").glob("gitlab/*/pages.json")
    cache.write_text('{"origin":' + "[" * 5000 + "]" * 5000 + "}", encoding="utf-8")
    gitlab.forget_requests()

    assert len(source_for(gitlab, tmp_path / "cache").discover()) == 3
    assert [r.conditional for r in gitlab.api_requests()] == [False]


def test_a_damaged_tip_memory_nested_too_deeply_costs_one_request_per_project(
    gitlab: FakeGitLab, tmp_path: Path
) -> None:
    """A line of the tip memory that does not parse is skipped; one nested deeper than the parser goes
    raised a RecursionError (no ``SourceError``) while the source was built."""
    fleet(gitlab, 3)
    first = {r.info.key: r.tip() for r in source_for(gitlab, tmp_path / "cache").discover()}
    (tips,) = (tmp_path / "cache").glob("gitlab/*/tips.jsonl")
    tips.write_text("[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    gitlab.forget_requests()

    assert {r.info.key: r.tip() for r in source_for(gitlab, tmp_path / "cache").discover()} == first
    assert len([r for r in gitlab.api_requests() if "/repository/branches/" in r.path]) == 3


def test_a_damaged_count_of_missed_listings_nested_too_deeply_fails_no_listing(
    gitlab: FakeGitLab, tmp_path: Path
) -> None:
    """The clones' counts of missed listings are read at each complete listing; a file damaged into JSON
    nested deeper than the parser goes raised a RecursionError (no ``SourceError``) from the listing,
    which stopped every source of every pass."""
    pay = gitlab.add_project("acme", "pay")
    source = source_for(gitlab, tmp_path / "cache")
    (repository,) = source.discover()
    repository.snapshot(repository.tip()).close()  # a clone, which the counts follow
    (folder,) = (tmp_path / "cache").glob("gitlab/*/repositories")
    (folder / "missed.json").write_text("[" * 5000 + "]" * 5000, encoding="utf-8")

    assert [r.info.name for r in source.discover()] == [pay.path_with_namespace]


def test_a_push_costs_one_request_for_that_project_only(gitlab: FakeGitLab, tmp_path: Path) -> None:
    projects = [gitlab.add_project("acme", f"svc-{i}") for i in range(3)]
    source = source_for(gitlab, tmp_path / "cache")
    for repository in source.discover():
        repository.tip()
    sha = gitlab.push(projects[1], {"catalog-info.yaml": "x: 2\n"})
    gitlab.forget_requests()

    tips = {r.info.name: r.tip() for r in source.discover()}

    assert tips["acme/svc-1"] == sha
    per_project = [r.path for r in gitlab.api_requests() if not r.path.endswith("/projects")]
    assert per_project == [f"/api/v4/projects/{projects[1].id}/repository/branches/main"]


def test_a_push_within_gitlabs_hour_of_activity_is_still_seen(gitlab: FakeGitLab, tmp_path: Path) -> None:
    """GitLab moves last_activity_at at most once an hour: a second push inside that hour leaves it
    where it was, and the tip must still be asked until the hour has passed."""
    gitlab.activity_throttle = 3600
    project = gitlab.add_project("acme", "pay")
    first = gitlab.push(project, {"a.txt": "1"})  # moves the activity time to now
    source = source_for(gitlab, tmp_path / "cache")
    assert [r.tip() for r in source.discover()] == [first]
    marker = project.last_activity_at

    second = gitlab.push(project, {"a.txt": "2"})

    assert project.last_activity_at == marker  # the host did not move it
    assert [r.tip() for r in source.discover()] == [second]


def test_a_push_within_the_hour_of_a_host_whose_clock_runs_behind_is_still_seen(
    gitlab: FakeGitLab, tmp_path: Path
) -> None:
    """GitLab's hour is counted on its own clock: a host ten minutes behind this machine answers a tip
    58 minutes after the activity by its clock (68 by this one's), and a push a minute later leaves the
    activity time where it was, so the tip must still be asked."""
    gitlab.activity_throttle = 3600
    gitlab.clock_offset = -600.0
    project = gitlab.add_project("acme", "pay")
    project.last_activity_at = gitlab.now() - timedelta(minutes=58)
    source = source_for(gitlab, tmp_path / "cache")
    (first,) = (r.tip() for r in source.discover())
    marker = project.last_activity_at

    second = gitlab.push(project, {"a.txt": "2"})

    assert project.last_activity_at == marker  # within the host's hour: it did not move
    assert [r.tip() for r in source.discover()] == [second] != [first]


def test_a_502_on_page_three_fails_the_listing_with_the_reason(gitlab: FakeGitLab, tmp_path: Path) -> None:
    fleet(gitlab, 230)
    gitlab.misbehave.fail_pages[3] = 502

    with pytest.raises(HostApiError) as failed:
        source_for(gitlab, tmp_path / "cache").discover()

    assert "HTTP 502" in str(failed.value)
    assert "listing page" in str(failed.value) or "/projects" in str(failed.value)
    assert TOKEN not in str(failed.value)


def test_an_error_answer_nested_deeper_than_the_parser_goes_fails_the_listing_alone(
    gitlab: FakeGitLab, tmp_path: Path
) -> None:
    """The host's message is read from an error answer's first 4 KB: nested that deep, the parser's
    RecursionError (no ``SourceError``) escaped the listing and stopped every source of the pass."""
    fleet(gitlab, 3)
    gitlab.misbehave.fail_pages[1] = 502
    gitlab.misbehave.error_body = b'{"message":' + b"[" * 2000 + b"]" * 2000 + b"}"

    with pytest.raises(HostApiError, match="HTTP 502"):
        source_for(gitlab, tmp_path / "cache").discover()


def test_a_429_is_waited_out(gitlab: FakeGitLab, tmp_path: Path) -> None:
    fleet(gitlab, 3)
    gitlab.misbehave.throttle = 2
    gitlab.misbehave.retry_after = "1"
    started = time.monotonic()

    listed = source_for(gitlab, tmp_path / "cache").discover()

    assert len(listed) == 3
    assert time.monotonic() - started >= 2.0
    assert [r.status for r in gitlab.api_requests()] == [429, 429, 200]


def test_a_429_that_outlasts_the_bound_fails_the_listing(gitlab: FakeGitLab, tmp_path: Path) -> None:
    fleet(gitlab, 3)
    gitlab.misbehave.throttle = 1
    gitlab.misbehave.retry_after = "3600"

    with pytest.raises(RateLimitedError, match="rate_limit_max_wait_seconds"):
        source_for(gitlab, tmp_path / "cache", max_wait=5.0).discover()


def test_a_renamed_or_transferred_project_keeps_its_key(gitlab: FakeGitLab, tmp_path: Path) -> None:
    pay = gitlab.add_project("acme/platform", "pay")
    source = source_for(gitlab, tmp_path / "cache")
    (before,) = source.discover()

    gitlab.rename(pay, "payments")
    gitlab.transfer(pay, "acme/finance/core")
    (after,) = source.discover()

    assert after.info.key == before.info.key
    assert after.info.name == "acme/finance/core/payments"
    assert after.info.url.endswith("/acme/finance/core/payments")
    assert after.tip() == before.tip()


def test_archived_and_deleted_projects_leave_the_listing(gitlab: FakeGitLab, tmp_path: Path) -> None:
    pay, old, gone = (gitlab.add_project("acme", name) for name in ("pay", "old", "gone"))
    source = source_for(gitlab, tmp_path / "cache")
    keys = {r.info.name: r.info.key for r in source.discover()}

    gitlab.archive(old)
    gitlab.delete(gone)

    assert [r.info.name for r in source.discover()] == [pay.path_with_namespace]
    assert source.retired_keys == {keys["acme/old"]}  # archived: removed at once, not after two listings
    assert source.removal_listings == 2


def test_a_snapshot_is_fetched_over_git_with_the_token_as_a_header(
    gitlab: FakeGitLab, tmp_path: Path
) -> None:
    pay = gitlab.add_project("acme", "pay", files={"catalog-info.yaml": "kind: Product\n"})
    (repository,) = source_for(gitlab, tmp_path / "cache").discover()
    tip = repository.tip()

    snapshot = repository.snapshot(tip)
    try:
        assert [entry.path for entry in snapshot.tree()] == ["catalog-info.yaml"]
    finally:
        snapshot.close()

    git_requests = [r for r in gitlab.requests if not r.is_api]
    assert git_requests
    assert all(r.credentials and r.credentials.startswith("Basic ") for r in git_requests)
    assert pay.path_with_namespace in git_requests[0].path
    for written in (tmp_path / "cache").rglob("*"):
        if written.is_file():
            assert TOKEN.encode() not in written.read_bytes(), written


def test_a_gitlab_under_a_relative_url_root_is_listed_read_and_fetched_below_it(
    gitlab: FakeGitLab, tmp_path: Path
) -> None:
    gitlab.url_root = "/gitlab"
    gitlab.max_per_page = 2
    first = gitlab.add_project("acme", "pay", files={"catalog-info.yaml": "kind: Product\n"})
    for index in range(4):
        gitlab.add_project("acme/platform", f"svc-{index}", shares=first)
    listed = source_for(gitlab, tmp_path / "cache").discover()

    assert len(listed) == 5
    assert len(listing_requests(gitlab)) == 3  # keyset pages followed below the root
    pay = next(r for r in listed if r.info.name == "acme/pay")
    assert pay.info.url == f"{gitlab.origin}/gitlab/acme/pay"
    snapshot = pay.snapshot(pay.tip())
    try:
        assert [entry.path for entry in snapshot.tree()] == ["catalog-info.yaml"]
    finally:
        snapshot.close()
    assert all(r.path.startswith("/gitlab/") and r.status < 400 for r in gitlab.requests)
    assert any(not r.is_api for r in gitlab.requests)


def test_without_the_token_git_is_refused_by_the_host(gitlab: FakeGitLab, tmp_path: Path) -> None:
    gitlab.add_project("acme", "pay")
    (repository,) = source_for(gitlab, tmp_path / "cache").discover()
    tip = repository.tip()
    gitlab.token = "rotated-token"

    with pytest.raises(SourceError) as refused:
        repository.snapshot(tip)

    assert "Authentication failed" in str(refused.value)
    assert TOKEN not in str(refused.value)


# -- hostile hosts and values ------------------------------------------------------------------------


@pytest.mark.parametrize("value", [f"{TOKEN}\n{TOKEN}", f"{TOKEN} x", f"{TOKEN}\x7f", f"\u00e9{TOKEN}"])
def test_a_token_no_header_may_carry_fails_the_source_unshown(
    gitlab: FakeGitLab, tmp_path: Path, value: str
) -> None:
    settings = source_for(gitlab, tmp_path / "cache")._settings
    with pytest.raises(SourceError, match=r"auth\.token_env names GITLAB_TOKEN, whose value holds") as failed:
        GitLabSource(settings, tmp_path / "cache", SYNC, environ={"GITLAB_TOKEN": value})
    assert TOKEN not in str(failed.value)
    assert gitlab.requests == []


@pytest.mark.parametrize("group", ["acme/../admin", "../acme", "acme/", "acme//x", ".."])
def test_a_group_path_that_climbs_is_refused(gitlab: FakeGitLab, tmp_path: Path, group: str) -> None:
    with pytest.raises(SourceError, match="group"):
        source_for(gitlab, tmp_path / "cache", group=group)
    assert gitlab.requests == []


def test_a_next_link_to_another_host_is_not_followed(tmp_path: Path) -> None:
    with (
        fake_gitlab(tmp_path / "gitlab", token=TOKEN) as gitlab,
        fake_gitlab(tmp_path / "thief", token="x") as thief,
    ):
        fleet(gitlab, 120)
        gitlab.misbehave.next_host = f"127.0.0.1:{thief.port}"

        with pytest.raises(HostApiError, match="another host"):
            source_for(gitlab, tmp_path / "cache").discover()

        assert thief.requests == []


def test_keyset_pages_that_start_over_fail_the_listing_at_once(gitlab: FakeGitLab, tmp_path: Path) -> None:
    fleet(gitlab, 5)
    gitlab.max_per_page = 2
    gitlab.misbehave.rewind = True  # each next link asks id_after=0 again, under a query never seen

    with pytest.raises(HostApiError, match="the host repeats or rewinds its listing"):
        source_for(gitlab, tmp_path / "cache").discover()

    assert len(listing_requests(gitlab)) == 2  # not the 2,000 pages a listing may take


def test_an_entry_nested_near_the_parsers_limit_is_skipped_not_a_crash_of_the_pass(
    gitlab: FakeGitLab, tmp_path: Path
) -> None:
    """A page asked ahead is parsed in a thread of its own, with a shallow stack, so an entry nested
    nearly as deep as Python's parser goes is read there; writing the page cache from the pass's
    deeper stack then ran out of recursion, and the error (no ``SourceError``) stopped every source
    of the pass. The page is left out of the cache instead, asked again unconditionally."""
    gitlab.max_per_page = 2
    projects = [gitlab.add_project("acme", f"svc-{index}") for index in range(4)]
    source = source_for(gitlab, tmp_path / "cache", parallel=4)
    source.discover()  # the chain of pages the next listing asks ahead
    deep: list[Any] = []
    for _ in range(970):
        deep = [deep]
    gitlab.misbehave.fields[projects[3].id] = {"web_url": deep}

    listed = source.discover()

    assert [r.info.name for r in listed] == ["acme/svc-0", "acme/svc-1", "acme/svc-2"]
    assert "no valid 'web_url'" in source.skipped_entries[0]
    del gitlab.misbehave.fields[projects[3].id]
    gitlab.forget_requests()
    assert len(source_for(gitlab, tmp_path / "cache").discover()) == 4  # the cache file still reads
    assert [r.conditional for r in gitlab.api_requests()] == [True, False]


def test_a_page_larger_than_asked_is_refused(gitlab: FakeGitLab, tmp_path: Path) -> None:
    fleet(gitlab, 150)
    gitlab.misbehave.huge_page = 150

    with pytest.raises(HostApiError, match="more than the 100 asked"):
        source_for(gitlab, tmp_path / "cache").discover()


def test_a_clone_url_on_another_host_gets_no_token(tmp_path: Path) -> None:
    with (
        fake_gitlab(tmp_path / "gitlab", token=TOKEN) as gitlab,
        fake_gitlab(tmp_path / "thief", token="x") as thief,
    ):
        project = gitlab.add_project("acme", "pay")
        original = gitlab.project_json

        def elsewhere(p: FakeProject) -> dict[str, Any]:
            answer = original(p)
            answer["http_url_to_repo"] = f"{thief.origin}/acme/pay.git"
            return answer

        gitlab.project_json = elsewhere  # type: ignore[method-assign,assignment]
        (repository,) = source_for(gitlab, tmp_path / "cache").discover()
        tip = repository.tip()

        with pytest.raises(SourceError, match="another host"):
            repository.snapshot(tip)
        assert thief.requests == []
        assert project.id


def test_a_repository_is_read_in_a_scan_worker_without_its_api_client(
    gitlab: FakeGitLab, tmp_path: Path
) -> None:
    gitlab.add_project("acme", "pay", files={"catalog-info.yaml": "kind: Product\n"})
    (repository,) = source_for(gitlab, tmp_path / "cache").discover()
    assert isinstance(repository, GitLabRepository)
    tip = repository.tip()
    repository.prefetch(tip)  # the tip thread fetches; the worker process only reads

    copy = pickle.loads(pickle.dumps(repository))

    snapshot = copy.snapshot(tip)
    try:
        assert [entry.path for entry in snapshot.tree()] == ["catalog-info.yaml"]
    finally:
        snapshot.close()
    assert copy.info == repository.info
    assert TOKEN not in repr(vars(copy))


def test_a_listed_clone_url_off_the_host_is_not_read_without_a_token_either(tmp_path: Path) -> None:
    """A public group is listed with no token; its listing still cannot send git to this machine's
    disk (``file``, allowed for local sources) or to another host."""
    with fake_gitlab(tmp_path / "gitlab", token="") as gitlab:
        project = gitlab.add_project("acme", "pay", files={"catalog-info.yaml": "kind: Secret\n"})
        gitlab.misbehave.fields[project.id] = {"http_url_to_repo": f"file://{project.remote.path}"}
        settings = GitLabSourceSettings(name="acme-gl", group="acme", api_url=gitlab.api_url)
        sync = SyncSettings(allowed_protocols=("https", "http", "file"))
        (repository,) = GitLabSource(settings, tmp_path / "cache", sync, environ={}).discover()
        tip = repository.tip()

        with pytest.raises(SourceError, match="another host than api_url; no token is sent there and it"):
            repository.snapshot(tip)

        assert not list((tmp_path / "cache").rglob("HEAD"))  # no clone was made
