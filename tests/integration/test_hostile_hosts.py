"""A hosting API that lies or breaks, through the real engine on SQLite and PostgreSQL: what the catalog
shows when a local GitHub or GitLab answers a listing with something no parser should be trusted with,
or lists a repository with a default branch no git could have. The pass always finishes, the source or
the repository at fault says why, and nothing else is lost."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.fakegithub import FakeGitHub, Fault, serving_orgs
from tests.fixtures.fakegitlab import FakeGitLab
from tests.integration.conftest import Catalog, product_yaml
from tests.integration.test_github_source import (
    TOKEN,
    TOKEN_ENV,
    repo_rows,
    synced_pay_and_ledger,
    use_github,
)
from tests.integration.test_gitlab_sync import configure as use_gitlab


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    with serving_orgs(tmp_path / "hub", monkeypatch, (TOKEN_ENV, TOKEN), "acme", "beta") as hub:
        yield hub


def beta_source(hub: FakeGitHub) -> dict[str, Any]:
    auth = {"token_env": TOKEN_ENV}
    return {"name": "beta", "type": "github", "org": "beta", "api_url": hub.api_url, "auth": auth}


JSON = {"Content-Type": "application/json"}
HTML = {"Content-Type": "text/html"}
BROKEN_LINK = {"Link": '<http://[::1/orgs/acme/repos?page=2>; rel="next"'}


@pytest.mark.parametrize(
    ("body", "headers", "reason"),
    [
        pytest.param(b"[" * 100_000, JSON, "nested too deeply", id="nested-past-the-parser"),
        pytest.param(b"<html>Sign in</html>", HTML, "is not JSON (HTTP 200)", id="html"),
        pytest.param(b'{"items": []}', JSON, "not a repository list", id="object"),
        pytest.param(b"[1, 2, 3]", JSON, "not a repository", id="not-objects"),
        pytest.param(b"[]", BROKEN_LINK, "the next page link is not a URL", id="broken-link"),
    ],
)
def test_a_listing_answered_with_what_is_not_a_list_fails_its_source_alone_and_removes_nothing(
    catalog: Catalog, hub: FakeGitHub, body: bytes, headers: dict[str, str], reason: str
) -> None:
    hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay")})
    hub.add_repo("beta", "ledger", {"catalog-info.yaml": product_yaml("ledger")})
    use_github(catalog, hub, beta_source(hub))
    catalog.sync()
    hub.fail(Fault(200, "/orgs/acme/", headers, body=body, times=None))

    for _ in range(2):  # two listings would remove a repository they both missed
        summary = catalog.sync()

    acme, beta = summary.sources
    assert reason in acme["error"]
    assert "nothing is removed" in acme["error"]
    assert beta["error"] is None
    assert all(row["removed_at"] is None for row in repo_rows(catalog).values())
    pay = catalog.entity("product:default/pay")
    assert pay is not None
    assert pay["orphaned_at"] is None
    assert catalog.entity("product:default/ledger") is not None


def test_a_github_entry_that_cannot_be_read_is_skipped_and_the_rest_read_removing_nothing(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    pay, ledger = synced_pay_and_ledger(catalog, hub)
    hub.listed_as[pay.id] = {"full_name": "acme/.."}
    hub.push(ledger, {"catalog-info.yaml": product_yaml("ledger", description="Moved on.")})

    for _ in range(2):  # the second listing's page is a 304: the cached page still says what was skipped
        error = catalog.sync().sources[0]["error"]
        assert f"1 entry of the listing could not be read (first: repository {pay.id}" in error
        assert "no valid full_name" in error
        assert "nothing is removed" in error

    assert [s.status for s in hub.api_requests() if s.path.startswith("/orgs/acme/repos")][-1] == 304
    assert_ledger_read_and_pay_kept(catalog)
    row = repo_rows(catalog)[hub.key(pay)]
    assert (row["removed_at"], row["missed_listings"]) == (None, 0)
    del hub.listed_as[pay.id]
    assert catalog.sync().sources[0]["error"] is None


def test_a_gitlab_entry_that_cannot_be_read_is_skipped_and_the_rest_read_removing_nothing(
    catalog: Catalog, gitlab: FakeGitLab
) -> None:
    pay = gitlab.add_project("acme", "pay", files={"catalog-info.yaml": product_yaml("pay")})
    ledger = gitlab.add_project("acme", "ledger", files={"catalog-info.yaml": product_yaml("ledger")})
    use_gitlab(catalog, gitlab)
    catalog.sync()
    gitlab.misbehave.fields[pay.id] = {"path_with_namespace": "acme/../admin"}
    gitlab.push(ledger, {"catalog-info.yaml": product_yaml("ledger", description="Moved on.")})

    for _ in range(2):  # two complete listings without it would remove it
        error = catalog.sync().sources[0]["error"]
        first = (
            f"(first: source 'acme-gl': listing page 1, project {pay.id}: the host's 'path_with_namespace'"
        )
        assert f"1 entry of the listing could not be read {first}" in error
        assert "is not a GitLab path" in error
        assert "nothing is removed" in error

    assert_ledger_read_and_pay_kept(catalog)
    assert catalog.repository("acme/pay")["removed_at"] is None
    del gitlab.misbehave.fields[pay.id]
    assert catalog.sync().sources[0]["error"] is None


BAD_BRANCHES = [
    pytest.param("main\x00x", id="nul"),
    pytest.param("\ud800main", id="lone-surrogate"),
    pytest.param("../../main", id="climbs"),
    pytest.param("*", id="pattern"),
    pytest.param("--upload-pack=touch /tmp/x", id="option"),
]


@pytest.mark.parametrize("branch", BAD_BRANCHES)
def test_a_github_default_branch_no_git_could_have_fails_that_repository_alone(
    catalog: Catalog, hub: FakeGitHub, branch: str
) -> None:
    pay, ledger = synced_pay_and_ledger(catalog, hub)
    hub.listed_as[pay.id] = {"default_branch": branch}
    hub.push(ledger, {"catalog-info.yaml": product_yaml("ledger", description="Moved on.")})

    summary = catalog.sync()

    assert summary.sources[0]["error"] is None
    error = repo_rows(catalog)[hub.key(pay)]["last_error"]
    assert "acme/pay: the host's default branch" in error
    assert "is not a branch name" in error
    assert "\x00" not in error
    assert_ledger_read_and_pay_kept(catalog)
    asked = [s for s in hub.api_requests() if "/repos/acme/pay/branches/" in s.path]
    assert len(asked) == 1  # the first pass's: no request names a branch no git could have


@pytest.mark.parametrize("branch", BAD_BRANCHES[:3])
def test_a_gitlab_default_branch_no_git_could_have_fails_that_project_alone(
    catalog: Catalog, gitlab: FakeGitLab, branch: str
) -> None:
    pay = gitlab.add_project("acme", "pay", files={"catalog-info.yaml": product_yaml("pay")})
    ledger = gitlab.add_project("acme", "ledger", files={"catalog-info.yaml": product_yaml("ledger")})
    use_gitlab(catalog, gitlab)
    catalog.sync()
    gitlab.misbehave.fields[pay.id] = {"default_branch": branch}
    gitlab.push(ledger, {"catalog-info.yaml": product_yaml("ledger", description="Moved on.")})

    summary = catalog.sync()

    assert summary.sources[0]["error"] is None
    error = catalog.repository("acme/pay")["last_error"]
    assert f"project acme/pay ({pay.id}): the host's default branch" in error
    assert_ledger_read_and_pay_kept(catalog)


@pytest.mark.parametrize(
    "html_url",
    [
        "javascript:alert(document.cookie)",
        "https://phish.example/acme/pay",
        "file:///etc/passwd",
        "http://127.0.0.1:1/acme/pay",
        "http://[::1/acme/pay",
        "",
    ],
)
def test_a_github_web_address_off_the_host_is_not_shown_or_linked(
    catalog: Catalog, hub: FakeGitHub, html_url: str
) -> None:
    pay = hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay")})
    hub.listed_as[pay.id] = {"html_url": html_url}
    use_github(catalog, hub)

    summary = catalog.sync()

    assert summary.errors == 0
    assert repo_rows(catalog)[hub.key(pay)]["url"] == f"{hub.origin}/acme/pay"
    entity = catalog.entity("product:default/pay")
    assert entity is not None
    location = entity["body"]["metadata"]["annotations"]["backstage.io/managed-by-location"]
    assert location == f"url:{hub.origin}/acme/pay/blob/main/catalog-info.yaml"


def test_a_github_web_address_on_the_host_is_shown_without_its_credentials(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    pay = hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay")})
    hub.listed_as[pay.id] = {"html_url": f"http://alice:s3cr3t-pass@127.0.0.1:{hub.port}/acme/pay-web"}
    use_github(catalog, hub)

    catalog.sync()

    assert repo_rows(catalog)[hub.key(pay)]["url"] == f"http://alice:***@127.0.0.1:{hub.port}/acme/pay-web"


@pytest.mark.parametrize("web_url", ["javascript:alert(1)", "https://phish.example/acme/pay", "http://h:x/"])
def test_a_gitlab_web_address_off_the_host_is_not_shown(
    catalog: Catalog, gitlab: FakeGitLab, web_url: str
) -> None:
    pay = gitlab.add_project("acme", "pay", files={"catalog-info.yaml": product_yaml("pay")})
    gitlab.misbehave.fields[pay.id] = {"web_url": web_url}
    use_gitlab(catalog, gitlab)

    catalog.sync()

    assert catalog.repository("acme/pay")["url"] == f"{gitlab.origin}/acme/pay"


def test_a_gitlab_clone_url_off_the_host_holding_a_lone_surrogate_fails_that_project_alone(
    catalog: Catalog, gitlab: FakeGitLab
) -> None:
    """JSON can carry a lone surrogate, which no store can hold: quoted raw in the project's error,
    it failed the whole pass."""
    pay = gitlab.add_project("acme", "pay", files={"catalog-info.yaml": product_yaml("pay")})
    gitlab.add_project("acme", "ledger", files={"catalog-info.yaml": product_yaml("ledger")})
    gitlab.misbehave.fields[pay.id] = {"http_url_to_repo": "http://elsewhere.example/acme/pay\ud800.git"}
    use_gitlab(catalog, gitlab)

    summary = catalog.sync()

    assert summary.errors == 1
    assert catalog.entity("product:default/ledger") is not None
    error = catalog.repository("acme/pay")["last_error"]
    assert "elsewhere.example/acme/pay\\ud800.git, another host than api_url" in error


def assert_ledger_read_and_pay_kept(catalog: Catalog) -> None:
    """The repository beside the broken one was read at its new commit; the broken one's entity is
    still in the catalog, not orphaned."""
    moved = catalog.entity("product:default/ledger")
    assert moved is not None
    assert moved["body"]["metadata"]["description"] == "Moved on."
    kept = catalog.entity("product:default/pay")
    assert kept is not None
    assert kept["orphaned_at"] is None


@pytest.mark.parametrize("tail", ["/", "?ref=main", "#readme", "/?a=1#b"])
def test_a_gitlab_web_address_with_a_query_or_a_fragment_links_its_files_below_the_project(
    catalog: Catalog, gitlab: FakeGitLab, tail: str
) -> None:
    """Files are linked below the web address (``<project>/-/blob/...``): a query or a fragment the
    host (or a proxy) left on it would end up in front of that path, and every link would lead to the
    project's page with a nonsense parameter instead of the file."""
    pay = gitlab.add_project("acme", "pay", files={"catalog-info.yaml": product_yaml("pay")})
    gitlab.misbehave.fields[pay.id] = {"web_url": f"{gitlab.web_root}/acme/pay{tail}"}
    use_gitlab(catalog, gitlab)

    catalog.sync()

    found = catalog.entity("product:default/pay")
    assert found is not None
    location = found["body"]["metadata"]["annotations"]["backstage.io/managed-by-location"]
    assert location == f"url:{gitlab.web_root}/acme/pay/-/blob/main/catalog-info.yaml"
    assert catalog.repository("acme/pay")["url"].rstrip("/") == f"{gitlab.web_root}/acme/pay"
