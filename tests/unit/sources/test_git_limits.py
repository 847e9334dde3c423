"""Git against hosts we do not control, over real smart HTTP: deadlines, a size limit, which hosts a
registered repository may reach, and what is shown when git fails."""

from __future__ import annotations

import http.server
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog_sync.errors import AddressNotAllowedError, RepositoryUnreachableError
from catalog_sync.sources import gitrun
from catalog_sync.sources.git import GitRepository
from catalog_sync.sources.gitenv import GitLimits
from tests.fixtures.http import tarpit
from tests.fixtures.smarthttp import SmartHttpHost, smart_http

HTTP = ("http", "https", "file")
LOOPBACK = ("127.0.0.1/32",)
MIB = 1024 * 1024


@pytest.fixture
def host(tmp_path: Path) -> Iterator[SmartHttpHost]:
    with smart_http(tmp_path / "served") as served:
        yield served


def _repository(url: str, tmp_path: Path, **limits: object) -> GitRepository:
    limits_given = GitLimits(allowed_protocols=HTTP, **limits)  # type: ignore[arg-type]
    return GitRepository(url, None, tmp_path / "cache", limits=limits_given)


def test_a_repository_is_read_over_smart_http(host: SmartHttpHost, tmp_path: Path) -> None:
    sha = host.remote("pay").publish({"catalog-info.yaml": "hello\n"})
    repository = _repository(host.url("pay"), tmp_path, private_networks=LOOPBACK)
    assert repository.tip() == sha
    with repository.snapshot(sha) as snapshot:
        assert [e.path for e in snapshot.tree()] == ["catalog-info.yaml"]


def test_a_host_that_never_answers_fails_at_the_tip_deadline(tmp_path: Path) -> None:
    with tarpit() as port:
        repository = _repository(f"http://127.0.0.1:{port}/slow.git", tmp_path, tip_timeout=0.5)
        started = time.monotonic()
        with pytest.raises(RepositoryUnreachableError) as caught:
            repository.tip()
        took = time.monotonic() - started
    assert "no answer from the host within 0.5 s (sync.tip_timeout_seconds)" in str(caught.value)
    assert took < 3


def test_a_fetch_that_hangs_fails_at_the_fetch_deadline_and_leaves_nothing_half_written(
    host: SmartHttpHost, tmp_path: Path
) -> None:
    sha = host.remote("pay").publish({"catalog-info.yaml": "hello\n"})
    repository = _repository(host.url("pay"), tmp_path, fetch_timeout=1.0)
    assert repository.tip() == sha
    host.stall_fetch = True
    started = time.monotonic()
    with pytest.raises(RepositoryUnreachableError) as caught:
        repository.snapshot(sha)
    assert "git fetch did not finish within 1 s (sync.fetch_timeout_seconds)" in str(caught.value)
    assert time.monotonic() - started < 6
    assert not list((repository.cache_path / "objects" / "pack").glob("tmp_*"))


def test_a_repository_larger_than_the_limit_is_not_kept(host: SmartHttpHost, tmp_path: Path) -> None:
    remote = host.remote("big")
    sha = remote.publish({"catalog-info.yaml": "hello\n", "blob.bin": os.urandom(3 * MIB)})
    repository = _repository(host.url("big"), tmp_path, max_bytes=MIB)
    assert repository.tip() == sha
    with pytest.raises(RepositoryUnreachableError) as caught:
        repository.snapshot(sha)
    assert "larger than sync.max_repository_bytes (1048576 bytes); the fetch was stopped" in str(caught.value)
    pack = repository.cache_path / "objects" / "pack"
    kept = sum(p.stat().st_size for p in pack.glob("*")) if pack.exists() else 0
    assert kept <= MIB
    roomy = _repository(host.url("big"), tmp_path, max_bytes=8 * MIB)
    with roomy.snapshot(sha) as snapshot:
        assert "blob.bin" in {e.path for e in snapshot.tree()}


def test_a_registered_repository_on_loopback_needs_the_setting(host: SmartHttpHost, tmp_path: Path) -> None:
    sha = host.remote("pay").publish({"catalog-info.yaml": "hello\n"})
    refused = _repository(host.url("pay"), tmp_path, private_networks=())
    with pytest.raises(AddressNotAllowedError, match=r"sync\.allowed_private_networks"):
        refused.tip()
    assert _repository(host.url("pay"), tmp_path, private_networks=LOOPBACK).tip() == sha
    # By name: git is pinned to the addresses checked (the name is not looked up a second time).
    by_name = host.url("pay").replace("127.0.0.1", "localhost")
    assert _repository(by_name, tmp_path / "by-name", private_networks=("localhost",)).tip() == sha


class _Chatty(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"redis_version:7.2.4 internal-db-01.corp password=hunter2\n"
        self.send_response(404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


def test_a_registered_repository_shows_what_git_meant_never_the_host_text(tmp_path: Path) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Chatty)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/acme/a.git"
        with pytest.raises(RepositoryUnreachableError) as caught:
            _repository(url, tmp_path, private_networks=LOOPBACK).tip()
    finally:
        server.shutdown()
        server.server_close()
    message = str(caught.value)
    assert "no git repository at this URL (or it needs credentials)" in message
    assert "redis" not in message
    assert "hunter2" not in message


def test_git_connects_to_the_address_checked_not_to_a_second_lookup(
    host: SmartHttpHost, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sha = host.remote("pay").publish({"catalog-info.yaml": "hello\n"})
    # The name resolves nowhere for git itself; only the checked address can bring it to the host.
    monkeypatch.setattr("catalog_sync.sources.hosts.resolve", lambda _host: ["127.0.0.1"])
    url = host.url("pay").replace("127.0.0.1", "git.invalid")
    assert _repository(url, tmp_path, private_networks=LOOPBACK).tip() == sha


def test_a_registered_name_that_does_not_resolve_is_never_handed_to_git(
    host: SmartHttpHost, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name our lookup cannot check is not given to git, whose own resolver might answer otherwise
    (curl answers ``*.localhost`` itself; a hostile DNS server may answer the second lookup differently)."""
    host.remote("pay").publish({"catalog-info.yaml": "hello\n"})

    def fails(_host: str) -> list[str]:
        raise OSError("no such host")

    monkeypatch.setattr("catalog_sync.sources.hosts.resolve", fails)
    url = host.url("pay").replace("127.0.0.1", "flaky-dns.test")
    with pytest.raises(
        RepositoryUnreachableError, match="does not resolve; it is not handed to git unchecked"
    ):
        _repository(url, tmp_path, private_networks=()).tip()
    with pytest.raises(AddressNotAllowedError):
        _repository(
            host.url("pay").replace("127.0.0.1", "admin.localhost"), tmp_path, private_networks=()
        ).tip()


def test_git_that_prints_without_end_is_stopped_at_the_output_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A host streaming ``remote:`` lines or refs must not fill the disk or the memory of the process."""
    monkeypatch.setattr(gitrun, "MAX_OUTPUT_BYTES", 1024 * 1024)
    repo = tmp_path / "chatty"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    big = tmp_path / "big"
    big.write_bytes(os.urandom(64 * 1024) * 160)  # 10 MiB
    sha = subprocess.run(
        ["git", "-C", str(repo), "hash-object", "-w", str(big)], capture_output=True, text=True, check=True
    ).stdout.strip()
    with pytest.raises(gitrun.GitStoppedError, match="more than 1048576 bytes of output"):
        gitrun.run_git(["cat-file", "-p", sha], env={}, cwd=repo, timeout=60)
    small = gitrun.run_git(["cat-file", "-t", sha], env={}, cwd=repo, timeout=60)
    assert small.out.strip() == "blob"


def test_git_that_prints_past_the_limit_and_exits_before_anyone_looks_is_stopped_all_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fast git can print everything between two looks: its output is not read into memory then."""
    monkeypatch.setattr(gitrun, "MAX_OUTPUT_BYTES", 1024 * 1024)
    monkeypatch.setattr(gitrun, "_FIRST_POLL", 30.0)  # git has long finished before the first look
    repo = tmp_path / "chatty"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    big = tmp_path / "big"
    big.write_bytes(os.urandom(64 * 1024) * 32)  # 2 MiB
    sha = subprocess.run(
        ["git", "-C", str(repo), "hash-object", "-w", str(big)], capture_output=True, text=True, check=True
    ).stdout.strip()
    with pytest.raises(gitrun.GitStoppedError, match="more than 1048576 bytes of output"):
        gitrun.run_git(["cat-file", "-p", sha], env={}, cwd=repo, timeout=60)
