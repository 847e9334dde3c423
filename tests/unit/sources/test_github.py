"""The github source's repositories: where git may send the token, what a scanning process gets, and
how large a descriptor may come through the API."""

from __future__ import annotations

import os
import pickle
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from catalog_sync.config import DescriptorSettings, GitHubSourceSettings, SyncSettings, TokenAuth
from catalog_sync.errors import RepositoryUnreachableError
from catalog_sync.sources.base import Repository
from catalog_sync.sources.github import GitHubSource
from catalog_sync.sources.githubhosts import git_origin
from catalog_sync.sources.githubrepo import FetchedRepository, GitHubRepository
from catalog_sync.sources.githubtree import blob_sha
from catalog_sync.sources.hostapi import MAX_ANSWER_BYTES
from catalog_sync.sync.isolation import ScanProcesses
from catalog_sync.sync.workers import ScanTask
from tests.fixtures.fakegithub import FakeGitHub, fake_github, serving_orgs

TOKEN = "ghp_" + "UnitT0ken" * 4


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    with serving_orgs(tmp_path / "hub", monkeypatch, ("CATALOG_UNIT_TOKEN", TOKEN), "acme") as hub:
        yield hub


def source(hub: FakeGitHub, tmp_path: Path, descriptors: DescriptorSettings | None = None) -> GitHubSource:
    settings = GitHubSourceSettings(
        name="acme", org="acme", api_url=hub.api_url, auth=TokenAuth("CATALOG_UNIT_TOKEN")
    )
    return GitHubSource(settings, tmp_path / "cache", SyncSettings(allowed_protocols=("http",)), descriptors)


def read_pay(
    hub: FakeGitHub,
    tmp_path: Path,
    files: dict[str, str | bytes],
    descriptors: DescriptorSettings | None = None,
) -> tuple[GitHubSource, GitHubRepository, str]:
    """``acme/pay`` with ``files``, listed and read through the API at its tip, not scanned yet."""
    hub.add_repo("acme", "pay", files)
    built = source(hub, tmp_path, descriptors)
    (repository,) = built.discover()
    assert isinstance(repository, GitHubRepository)
    tip = repository.tip()
    repository.prefetch(tip)
    return built, repository, tip


def test_git_is_served_by_github_com_for_the_public_api_and_by_the_api_host_otherwise() -> None:
    assert git_origin("https://api.github.com") == "https://github.com"
    assert git_origin("https://GHE.example.com/api/v3") == "https://ghe.example.com"
    assert git_origin("http://127.0.0.1:8080") == "http://127.0.0.1:8080"
    assert git_origin("https://api.acme.ghe.com") == "https://acme.ghe.com"  # data residency
    assert git_origin("https://API.Acme.ghe.com/") == "https://acme.ghe.com"
    assert git_origin("https://api.acme.ghe.com:8443") == "https://api.acme.ghe.com:8443"  # not GitHub's
    assert git_origin("https://api.ghe.com") == "https://api.ghe.com"


def test_a_clone_url_on_another_host_is_never_fetched_with_the_token(hub: FakeGitHub, tmp_path: Path) -> None:
    hub.add_repo("acme", "pay", {"README.md": "x\n"})
    hub.tree_limit = 0  # a truncated tree: the repository is fetched over git
    (repository,) = source(hub, tmp_path).discover()
    assert isinstance(repository, GitHubRepository)
    tip = repository.tip()
    with fake_github(tmp_path / "elsewhere") as elsewhere:
        listed = dict(repository._listed) | {"clone_url": f"{elsewhere.origin}/acme/pay.git"}
        repository.update(listed)
        with pytest.raises(RepositoryUnreachableError, match="the token is sent to no other host"):
            repository.prefetch(tip)
        assert elsewhere.seen == []


def test_git_gets_the_token_as_a_header_for_the_git_host_only(hub: FakeGitHub, tmp_path: Path) -> None:
    built = source(hub, tmp_path)
    (key, value), *proxy = built.git_config()
    assert key == f"http.{hub.origin}/.extraHeader"
    assert value.startswith("Authorization: Basic ")
    assert TOKEN not in value  # encoded, as git sends it; never in a URL or an argument
    # No proxy: git ignores https_proxy, and the machine's http.<url>.proxy, as the API requests do.
    assert proxy == [("http.proxy", ""), (f"http.{hub.origin}/.proxy", "")]


def test_a_scanning_process_gets_the_repository_without_its_source(hub: FakeGitHub, tmp_path: Path) -> None:
    _, repository, tip = read_pay(hub, tmp_path, {"catalog-info.yaml": "kind: Component\n"})
    sent = pickle.dumps(repository)
    assert TOKEN.encode() not in sent
    received = pickle.loads(sent)
    assert isinstance(received, FetchedRepository)
    assert received.info == repository.info
    hub.clear()
    assert [e.path for e in received.snapshot(tip).tree()] == ["catalog-info.yaml"]
    assert hub.seen == []


@pytest.mark.parametrize(
    "listed_url", ["ssh://git@elsewhere.example/acme/pay.git", "https://elsewhere.example/acme/pay.git"]
)
def test_a_scanning_process_gets_the_git_hosts_own_url_and_the_sources_protocols(
    hub: FakeGitHub, tmp_path: Path, listed_url: str
) -> None:
    """A listing's clone URL on another host, or over a transport ``sync.allowed_protocols`` leaves
    out, is never handed to a scanning process (refused as it unpickles, it would end the process):
    it gets the git host's own URL, fetched with the source's protocols."""
    _, repository, tip = read_pay(hub, tmp_path, {"catalog-info.yaml": "kind: Component\n"})
    repository.update(dict(repository._listed) | {"clone_url": listed_url})
    received = pickle.loads(pickle.dumps(repository))
    assert isinstance(received, FetchedRepository)
    assert [e.path for e in received.snapshot(tip).tree()] == ["catalog-info.yaml"]
    _, arguments = repository.__reduce__()
    assert (arguments[2], arguments[6]) == (f"{hub.origin}/acme/pay.git", ("http",))


@pytest.mark.parametrize(
    "listed_url",
    [
        "http://api.github.com/acme/pay.git",
        "https://api.github.com:8443/acme/pay.git",
        "https://api.github.com/acme/pay.git",
    ],
)
def test_a_clone_url_on_the_api_host_of_github_com_is_not_taken_for_github_com(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, listed_url: str
) -> None:
    """github.com serves git, api.github.com the API: a listed clone URL on the API's host (over any
    scheme or port) is on another origin than git's, so a scanning process gets github.com's own URL
    and the sync pass refuses to fetch it, as for any other host."""
    monkeypatch.setenv("CATALOG_UNIT_TOKEN", TOKEN)
    settings = GitHubSourceSettings(
        name="acme", org="acme", api_url="https://api.github.com", auth=TokenAuth("CATALOG_UNIT_TOKEN")
    )
    built = GitHubSource(settings, tmp_path / "cache", SyncSettings(allowed_protocols=("https",)), None)
    listed = {
        "id": 7,
        "full_name": "acme/pay",
        "clone_url": listed_url,
        "html_url": "https://github.com/acme/pay",
        "default_branch": "main",
    }
    repository = GitHubRepository(built, listed)
    _, arguments = repository.__reduce__()
    assert arguments[2] == "https://github.com/acme/pay.git"
    assert isinstance(pickle.loads(pickle.dumps(repository)), FetchedRepository)
    with pytest.raises(RepositoryUnreachableError, match="the token is sent to no other host"):
        repository._repository()  # what a fetch in the sync pass would use


def test_a_descriptor_as_large_as_max_file_bytes_allows_is_read_through_the_api(
    hub: FakeGitHub, tmp_path: Path
) -> None:
    mib = 1024 * 1024
    large = b"# " + b"x" * (14 * mib) + b"\n"
    assert len(large) * 4 // 3 > MAX_ANSWER_BYTES  # its blob answer is larger than a list page may be
    built, repository, tip = read_pay(
        hub, tmp_path, {"catalog-info.yaml": large}, DescriptorSettings(max_file_bytes=15 * mib)
    )
    assert pickle.loads(pickle.dumps(repository)).snapshot(tip).read_blob(blob_sha(large)) == large
    assert built.api_reader.blobs.get(blob_sha(large)) == large
    assert hub.git_requests() == []  # not fetched by git instead


def test_the_sync_process_writes_no_file_for_a_read_and_the_scan_keeps_it_for_the_next_pass(
    hub: FakeGitHub, tmp_path: Path
) -> None:
    descriptor = b"kind: Component\n"
    built, repository, tip = read_pay(hub, tmp_path, {"catalog-info.yaml": descriptor, "README.md": "x\n"})
    repository.prefetch(tip)  # asked again before a scan took it: read once
    assert sum("/git/trees/" in seen.path for seen in hub.api_requests()) == 1
    kept = [*built.api_reader.trees.rglob("*"), *built.api_reader.blobs.root.rglob("*")]
    assert [p for p in kept if p.is_file()] == []  # the sync process created no file
    received = pickle.loads(pickle.dumps(repository))
    assert pickle.loads(pickle.dumps(repository))._read is None  # the first copy took the read ...
    assert repository._unwritten is None  # ... and the sync process holds none
    assert [e.path for e in received.snapshot(tip).tree()] == ["README.md", "catalog-info.yaml"]
    assert built.api_reader.blobs.get(blob_sha(descriptor)) == descriptor
    assert built.api_reader.holds(repository.id, tip)
    hub.clear()
    again = source(hub, tmp_path)  # a restarted worker, sharing the cache folder
    (same,) = again.discover()
    same.prefetch(tip)  # type: ignore[attr-defined]
    assert not any("/git/" in seen.path for seen in hub.api_requests())
    assert pickle.loads(pickle.dumps(same)).snapshot(tip).read_blob(blob_sha(descriptor)) == descriptor


def test_a_copy_that_never_opens_the_read_leaves_it_to_be_read_again(hub: FakeGitHub, tmp_path: Path) -> None:
    """A scan that never ran (its process died first) loses the read: the next pass reads the commit
    again instead of finding a record that names blobs nobody wrote."""
    built, repository, tip = read_pay(hub, tmp_path, {"catalog-info.yaml": "kind: Component\n"})
    pickle.dumps(repository)  # handed on, never opened
    assert not built.api_reader.holds(repository.id, tip)
    hub.clear()
    repository.prefetch(tip)
    assert any("/git/trees/" in s.path for s in hub.api_requests())
    assert pickle.loads(pickle.dumps(repository)).snapshot(tip).tree()


def test_a_read_sent_again_to_a_new_scanning_process_is_still_kept_and_scanned(
    hub: FakeGitHub, tmp_path: Path
) -> None:
    """A child found dead as a task is sent (killed while idle) has the task sent to another: the read
    the first sending took from the repository goes with the second."""
    built, repository, tip = read_pay(
        hub, tmp_path, {"catalog-info.yaml": "kind: Component\nmetadata:\n  name: pay\n"}
    )
    processes = ScanProcesses(1)
    try:
        list(processes.scan([scan_task(1, repository, tip)]))  # a child, now idle, is kept
        assert built.api_reader.holds(repository.id, tip)
        other = source(hub, tmp_path / "other")
        (again,) = other.discover()
        assert isinstance(again, GitHubRepository)
        again.prefetch(tip)
        [idle] = processes._idle
        idle.process.kill()  # as the OOM killer or an operator might
        idle.process.join(5)
        outcomes = list(processes.scan([scan_task(2, again, tip)]))
    finally:
        processes.close()
    assert [(o.error, o.result is not None) for o in outcomes] == [(None, True)]
    assert other.api_reader.holds(again.id, tip)


def scan_task(repository_id: int, repository: Repository, commit: str) -> ScanTask:
    return ScanTask(
        repository_id, repository, commit, repository.info.url, "main", {}, {}, DescriptorSettings(), (),
        datetime.now(UTC), 30.0,
    )  # fmt: skip


def test_a_read_kept_past_a_blob_prune_before_its_scan_is_read_again_not_scanned_without_its_blob(
    hub: FakeGitHub, tmp_path: Path
) -> None:
    """A read whose scan did not run in its pass (its claim lost, the pass stopped) waits for the next
    pass; a blob it found cached, which no record names, may be pruned meanwhile (a day's prune, past
    the hour's grace): the next pass reads the commit again instead of scanning without the blob."""
    first, second = b"kind: Component\nmetadata:\n  name: a\n", b"kind: Component\nmetadata:\n  name: b\n"
    pay = hub.add_repo("acme", "pay", {"catalog-info.yaml": first})
    built = source(hub, tmp_path)

    def pass_reads(scanned: bool = True) -> GitHubRepository:
        (repository,) = built.discover()
        assert isinstance(repository, GitHubRepository)
        tip = repository.tip()
        repository.prefetch(tip)
        if scanned:
            pickle.loads(pickle.dumps(repository)).snapshot(tip).close()
        return repository

    pass_reads()
    hub.push(pay, {"catalog-info.yaml": second})
    pass_reads()  # the record names the second version only
    tip = hub.push(pay, {"catalog-info.yaml": first})
    repository = pass_reads(scanned=False)  # the first version, cached, is used again: not scanned
    then = time.time() - 2 * 24 * 3600.0
    for path in (tmp_path / "cache").rglob("*"):
        if path.is_file():
            os.utime(path, (then, then))
    (again,) = built.discover()  # the next pass's listing prunes the blobs no record names
    assert again is repository
    repository.prefetch(tip)
    snapshot = pickle.loads(pickle.dumps(repository)).snapshot(tip)
    assert snapshot.read_blob(blob_sha(first)) == first
