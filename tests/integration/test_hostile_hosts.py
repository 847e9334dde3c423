"""A hosting API that lies or breaks, through the real engine on SQLite and PostgreSQL: what the catalog
shows when a local GitHub answers a listing with something no parser should be trusted with. The pass
always finishes, the source at fault says why, and nothing else is lost."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.fakegithub import FakeGitHub, Fault, serving_orgs
from tests.integration.conftest import Catalog, product_yaml
from tests.integration.test_github_source import TOKEN, TOKEN_ENV, repo_rows, use_github


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
