"""The git source against real remotes reached by file:// URLs (and a local HTTP server for auth)."""

from __future__ import annotations

import http.server
import pickle
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog_sync.config import SourceSettings
from catalog_sync.errors import ProtocolNotAllowedError, RepositoryUnreachableError
from catalog_sync.sources import build_source
from catalog_sync.sources.git import GitRepository, GitSource
from catalog_sync.sources.gitenv import REMOTE, git_environment
from tests.fixtures.gitrepos import GitRemote, GitRepo

ALLOWED = ("https", "ssh", "file")


def _repository(
    url: str, cache: Path, branch: str | None = None, allowed: tuple[str, ...] = ALLOWED
) -> GitRepository:
    [repository] = GitSource(
        SourceSettings(name="one", type="git", url=url, branch=branch), cache, allowed
    ).discover()
    assert isinstance(repository, GitRepository)
    return repository


def _read(repository: GitRepository, commit: str, path: str = "catalog-info.yaml") -> bytes:
    with repository.snapshot(commit) as snapshot:
        entry = next(e for e in snapshot.tree() if e.path == path)
        return snapshot.read_blob(entry.sha)


def test_first_snapshot_clones_and_reads_the_tip(git_remote: GitRemote, tmp_path: Path) -> None:
    sha = git_remote.publish({"catalog-info.yaml": "v1\n"})
    repository = _repository(git_remote.url, tmp_path / "cache")
    assert repository.tip() == sha
    assert repository.info.branch == "main"
    assert repository.info.name == "remote"
    assert repository.info.url == git_remote.url
    assert _read(repository, sha) == b"v1\n"
    assert repository.fetches == 1
    assert repository.cache_path.parent == tmp_path / "cache"
    assert (repository.cache_path / "HEAD").is_file()


def test_a_cache_folder_given_relative_to_the_working_folder_is_used(
    git_remote: GitRemote, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What `catalog-sync sync --config catalog-sync.yaml` does: sync.cache_dir relative to ".".
    sha = git_remote.publish({"catalog-info.yaml": "v1\n"})
    monkeypatch.chdir(tmp_path)
    repository = _repository(git_remote.url, Path(".catalog-sync/repos"))
    assert repository.tip() == sha
    assert _read(repository, sha) == b"v1\n"
    assert (tmp_path / repository.cache_path / "HEAD").is_file()


def test_an_unchanged_remote_costs_ls_remote_only(git_remote: GitRemote, tmp_path: Path) -> None:
    sha = git_remote.publish({"catalog-info.yaml": "v1\n"})
    repository = _repository(git_remote.url, tmp_path / "cache")
    _read(repository, repository.tip())
    assert repository.tip() == sha
    assert _read(repository, sha) == b"v1\n"
    assert repository.fetches == 1
    # Proof that the second read never touched the remote: with the remote gone, tip() fails but
    # the known commit is still read from the cache, by a fresh object too (as in a new process).
    git_remote.path.rename(git_remote.path.with_name("moved-away.git"))
    with pytest.raises(RepositoryUnreachableError):
        repository.tip()
    fresh = _repository(git_remote.url, tmp_path / "cache", branch="main")
    assert _read(fresh, sha) == b"v1\n"
    assert fresh.fetches == 0


def test_a_new_commit_is_fetched(git_remote: GitRemote, tmp_path: Path) -> None:
    git_remote.publish({"catalog-info.yaml": "v1\n"})
    repository = _repository(git_remote.url, tmp_path / "cache")
    _read(repository, repository.tip())
    newer = git_remote.publish({"catalog-info.yaml": "v2\n"})
    assert repository.tip() == newer
    assert _read(repository, newer) == b"v2\n"
    assert repository.fetches == 2


def test_a_force_push_to_an_older_commit_is_followed(git_remote: GitRemote, tmp_path: Path) -> None:
    old = git_remote.publish({"catalog-info.yaml": "v1\n"})
    git_remote.publish({"catalog-info.yaml": "v2\n"})
    repository = _repository(git_remote.url, tmp_path / "cache")
    _read(repository, repository.tip())
    git_remote.work.reset_hard(old)
    git_remote.work.push(force=True)
    assert repository.tip() == old
    assert _read(repository, old) == b"v1\n"
    assert repository.fetches == 1  # the older commit was already in the cache
    rewritten = git_remote.work.commit("rewritten", files={"catalog-info.yaml": "v3\n"}, amend=True)
    git_remote.work.push(force=True)
    assert repository.tip() == rewritten
    assert _read(repository, rewritten) == b"v3\n"
    assert repository.fetches == 2


def test_the_default_branch_comes_from_the_remote_head(git_remote: GitRemote, tmp_path: Path) -> None:
    git_remote.publish({"catalog-info.yaml": "main\n"})
    git_remote.work.branch("trunk")
    trunk = git_remote.publish({"catalog-info.yaml": "trunk\n"}, branch="trunk")
    subprocess.run(
        ["git", "-C", str(git_remote.path), "symbolic-ref", "HEAD", "refs/heads/trunk"], check=True
    )
    repository = _repository(git_remote.url, tmp_path / "cache")
    assert repository.info.branch is None  # not known before the remote was asked
    assert repository.tip() == trunk
    assert repository.info.branch == "trunk"
    assert _read(repository, trunk) == b"trunk\n"


def test_a_configured_branch_is_read_instead_of_the_default(git_remote: GitRemote, tmp_path: Path) -> None:
    git_remote.publish({"catalog-info.yaml": "main\n"})
    git_remote.work.branch("release")
    release = git_remote.publish({"catalog-info.yaml": "release\n"}, branch="release")
    repository = _repository(git_remote.url, tmp_path / "cache", branch="release")
    assert repository.tip() == release
    assert _read(repository, release) == b"release\n"


def test_an_unknown_branch_is_unreachable(git_remote: GitRemote, tmp_path: Path) -> None:
    git_remote.publish({"catalog-info.yaml": "v1\n"})
    with pytest.raises(RepositoryUnreachableError, match="branch 'nope' not found"):
        _repository(git_remote.url, tmp_path / "cache", branch="nope").tip()


def test_a_missing_remote_is_unreachable(tmp_path: Path) -> None:
    repository = _repository("file://" + str(tmp_path / "nothing.git"), tmp_path / "cache")
    with pytest.raises(RepositoryUnreachableError, match="git ls-remote failed"):
        repository.tip()


def test_an_unreachable_https_remote_never_shows_its_credentials(tmp_path: Path) -> None:
    url = "https://alice:s3cr3t-token@127.0.0.1:9/acme/payments.git?private_token=pt-secret"
    repository = _repository(url, tmp_path / "cache")
    assert repository.info.url == "https://alice:***@127.0.0.1:9/acme/payments.git?private_token=***"
    assert "s3cr3t" not in repr(repository.info)
    with pytest.raises(RepositoryUnreachableError) as caught:
        repository.tip()
    assert "s3cr3t" not in str(caught.value)
    assert "pt-secret" not in str(caught.value)
    assert "127.0.0.1" in str(caught.value)


class _Refuse(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="git"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def refusing_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Refuse)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_an_authentication_failure_is_unreachable_without_prompting(
    refusing_server: str, tmp_path: Path
) -> None:
    url = f"http://bob:wrong-token@{refusing_server}/acme/a.git"
    repository = _repository(url, tmp_path / "cache", allowed=("http",))
    with pytest.raises(RepositoryUnreachableError) as caught:
        repository.tip()
    assert "wrong-token" not in str(caught.value)
    assert "Authentication failed" in str(caught.value) or "401" in str(caught.value)


def test_ext_transport_is_refused_before_git_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    source = GitSource(
        SourceSettings(name="evil", type="git", url=f"ext::sh -c touch% {marker}"), tmp_path, ("file", "ext")
    )
    with pytest.raises(ProtocolNotAllowedError, match="remote helper"):
        source.discover()
    assert not marker.exists()


def test_option_injection_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "x"
    with pytest.raises(ProtocolNotAllowedError, match="option"):
        _repository(f"--upload-pack=touch {marker}", tmp_path / "cache")
    assert not marker.exists()


def test_git_itself_refuses_ext_even_if_the_url_check_were_bypassed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    env = git_environment(f"ext::sh -c touch% {marker}", ("file", "https"))
    done = subprocess.run(["git", "ls-remote", REMOTE], env=env, capture_output=True, text=True, check=False)
    assert done.returncode != 0
    assert "not allowed" in done.stderr
    assert not marker.exists()


def test_the_url_never_lands_in_the_cache_config(git_remote: GitRemote, tmp_path: Path) -> None:
    sha = git_remote.publish({"catalog-info.yaml": "v1\n"})
    repository = _repository(git_remote.url, tmp_path / "cache")
    _read(repository, sha)
    assert str(git_remote.path) not in (repository.cache_path / "config").read_text()


def test_repositories_survive_pickling_for_worker_processes(git_remote: GitRemote, tmp_path: Path) -> None:
    sha = git_remote.publish({"catalog-info.yaml": "v1\n"})
    repository = _repository(git_remote.url, tmp_path / "cache")
    repository.tip()
    copy = pickle.loads(pickle.dumps(repository))
    assert copy.info == repository.info
    assert _read(copy, sha) == b"v1\n"


def test_build_source_makes_local_and_git_sources(git_repo: GitRepo, tmp_path: Path) -> None:
    git_repo.commit("x", files={"a": "1"})
    local = build_source(
        SourceSettings(name="l", type="local", path="repo"),
        base_dir=str(tmp_path),
        cache_dir="cache",
        allowed_protocols=ALLOWED,
    )
    assert [r.info.key for r in local.discover()] == ["."]
    remote = build_source(
        SourceSettings(name="g", type="git", url=git_repo.url),
        base_dir=str(tmp_path),
        cache_dir="cache",
        allowed_protocols=ALLOWED,
    )
    [repository] = remote.discover()
    assert isinstance(repository, GitRepository)
    assert repository.cache_path.parent == tmp_path / "cache"
    assert local.name == "l"
    assert remote.name == "g"
