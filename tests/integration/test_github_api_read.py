"""A github source reads each changed repository through the REST API (one recursive tree, then only the
descriptor blobs it has not read before), counted by the local GitHub; a truncated tree, or one too
large to read, is fetched instead, and a hostile tree answer fails its repository alone with the field
named."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.fakegithub import FakeGitHub, Fault, serving_orgs
from tests.integration.conftest import Catalog, product_yaml
from tests.integration.test_github_source import TOKEN, TOKEN_ENV, repo_rows, use_github

LISTING = "/orgs/acme/repos?per_page=100&type=all"


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    with serving_orgs(tmp_path / "hub", monkeypatch, (TOKEN_ENV, TOKEN), "acme") as hub:
        yield hub


def kinds(hub: FakeGitHub) -> list[str]:
    """What each API request asked for: list, branch, tree, blob or commit."""
    out = []
    for seen in hub.api_requests():
        path = seen.path
        out.append(
            "list" if path == LISTING
            else "tree" if "/git/trees/" in path
            else "blob" if "/git/blobs/" in path
            else "commit" if "/commits/" in path
            else "branch" if "/branches/" in path
            else path
        )  # fmt: skip
    return sorted(out)


def test_a_full_sync_reads_descriptors_and_facts_through_the_api_without_git(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    hub.add_repo(
        "acme",
        "pay",
        {"catalog-info.yaml": product_yaml("pay"), "README.md": "# pay\n", "docs/index.md": "docs\n"},
    )
    hub.add_repo(
        "acme",
        "ledger",
        {"catalog-info.yaml": product_yaml("ledger"), "api/catalog-info.yaml": product_yaml("ledger-api")},
    )
    use_github(catalog, hub)
    summary = catalog.sync()
    assert summary.errors == 0
    assert {"product:default/pay", "product:default/ledger", "product:default/ledger-api"} <= catalog.refs()
    # Per repository: its branch, one tree, one blob per descriptor; the commit's time came with the branch.
    assert kinds(hub) == sorted(["list"] + ["branch", "tree"] * 2 + ["blob"] * 3)
    assert hub.git_requests() == []
    # Blobs are asked for their bytes (no base64 JSON to decode), and checked against their sha.
    blobs = [s for s in hub.api_requests() if "/git/blobs/" in s.path]
    assert {s.accept for s in blobs} == {"application/vnd.github.raw+json"}
    pay = catalog.repository("acme/pay")
    facts = json.loads(pay["facts"])
    assert facts["paths_present"]["README.md"] is True
    assert facts["history_truncated"] is True
    assert facts["last_commit_at"] is not None


def test_a_push_to_a_non_descriptor_file_fetches_no_blob(catalog: Catalog, hub: FakeGitHub) -> None:
    pay = hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay"), "README.md": "one\n"})
    use_github(catalog, hub)
    catalog.sync()
    hub.push(pay, {"README.md": "two\n"})
    hub.clear()
    summary = catalog.sync()
    assert summary.errors == 0
    assert kinds(hub) == ["branch", "list", "tree"]
    assert hub.git_requests() == []
    assert catalog.entity("product:default/pay") is not None
    hub.push(pay, {"catalog-info.yaml": product_yaml("pay", lifecycle="deprecated")})
    hub.clear()
    catalog.sync()
    assert kinds(hub) == ["blob", "branch", "list", "tree"]
    entity = catalog.entity("product:default/pay")
    assert entity is not None
    assert entity["body"]["spec"]["lifecycle"] == "deprecated"


def test_a_location_names_a_file_outside_the_patterns_and_it_is_read(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    location = (
        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: more\n"
        "spec:\n  targets:\n    - ./teams/extra.yaml\n"
    )
    hub.add_repo("acme", "pay", {"catalog-info.yaml": location, "teams/extra.yaml": product_yaml("extra")})
    use_github(catalog, hub)
    summary = catalog.sync()
    assert summary.errors == 0
    assert catalog.entity("product:default/extra") is not None
    assert hub.git_requests() == []


def read_by_shallow_fetch(catalog: Catalog, hub: FakeGitHub) -> None:
    """Sync, and check ``acme/pay`` was read whole by git alone: its product is there, no blob was
    asked through the API, and git was asked for that repository only."""
    summary = catalog.sync()
    assert summary.errors == 0
    assert catalog.entity("product:default/pay") is not None
    assert "blob" not in kinds(hub)
    assert {s.path.split(".git/")[0] for s in hub.git_requests()} == {"/acme/pay"}


def test_file_names_git_allows_are_read_through_the_api_like_any_other(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    """A backslash, a line break or letters outside ASCII in a file's name (Windows tools commit the
    first) are a git path like any other: the repository is read, as a fetch would read it."""
    odd = {"docs\\notes.md": "x\n", "weird\nname.md": "y\n", "ünï/çödé.md": "z\n"}
    pay = hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay"), **odd})
    use_github(catalog, hub)
    summary = catalog.sync()
    assert summary.errors == 0, repo_rows(catalog)[hub.key(pay)]["last_error"]
    assert "product:default/pay" in catalog.refs()
    assert hub.git_requests() == []


def test_an_enterprise_api_below_api_v3_is_read_below_it_and_git_at_the_root(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    hub.api_prefix = "/api/v3"
    hub.add_repo("acme", "ledger", {"catalog-info.yaml": product_yaml("ledger")})
    hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay"), "README.md": "x\n"})
    hub.tree_limit = 1  # pay's tree comes truncated: it is fetched by git
    use_github(catalog, hub)
    assert catalog.sync().errors == 0
    assert {"product:default/ledger", "product:default/pay"} <= catalog.refs()
    asked = [s.path.partition("?")[0] for s in hub.api_requests()]
    assert all(path.startswith("/api/v3/") for path in asked)
    assert any("/git/blobs/" in path for path in asked)
    assert {s.path.split(".git/")[0] for s in hub.git_requests()} == {"/acme/pay"}
    assert all(s.status < 400 for s in hub.seen)


def test_a_truncated_tree_is_read_by_a_shallow_fetch_instead(catalog: Catalog, hub: FakeGitHub) -> None:
    pay = hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay"), "README.md": "x\n"})
    hub.tree_limit = 1
    use_github(catalog, hub)
    read_by_shallow_fetch(catalog, hub)
    clones = catalog.root / ".catalog-sync" / "repos" / "github" / "acme" / "git" / str(pay.id)
    (cache,) = [p for p in clones.iterdir() if p.is_dir()]
    assert (cache / "shallow").is_file()


def test_a_tree_too_large_to_read_is_read_by_a_shallow_fetch_instead(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay")})
    huge = 64 * 1024 * 1024
    hub.fail(Fault(200, "/git/trees/", size=huge, framing="chunked", times=None))
    use_github(catalog, hub)
    read_by_shallow_fetch(catalog, hub)
    assert hub.flooded < huge


def _row(**keys: Any) -> dict[str, Any]:
    return {"path": "catalog-info.yaml", "mode": "100644", "type": "blob", "sha": "a" * 40, "size": 10} | keys


HOSTILE = [
    pytest.param({"sha": "b" * 40, "tree": "nope"}, "has no 'tree' list", id="tree-not-a-list"),
    pytest.param({"tree": [_row(path="../escape/catalog-info.yaml")]}, "'path'", id="climbing-path"),
    pytest.param({"tree": [_row(path="/etc/catalog-info.yaml")]}, "'path'", id="absolute-path"),
    pytest.param({"tree": [_row(path="a//catalog-info.yaml")]}, "'path'", id="empty-part"),
    pytest.param({"tree": [_row(path="x\ud800/catalog-info.yaml")]}, "'path'", id="lone-surrogate"),
    pytest.param({"tree": [_row(type="tree")]}, "'mode' '100644' and 'type' 'tree'", id="wrong-type"),
    pytest.param({"tree": [_row(mode=420)]}, "'mode'", id="mode-not-text"),
    pytest.param({"tree": [_row(sha="zz")]}, "'sha' is not a 40-hex object id", id="bad-sha"),
    pytest.param({"tree": [_row(size=-1)]}, "'size' is not a byte count", id="negative-size"),
    pytest.param({"tree": ["catalog-info.yaml"]}, "is not an object", id="row-not-an-object"),
    pytest.param({"truncated": "false", "tree": [_row()]}, "true or false 'truncated'", id="truncated-text"),
    pytest.param({"truncated": 1, "tree": [_row()]}, "true or false 'truncated'", id="truncated-number"),
    pytest.param(
        {"tree": [_row(), _row(sha="b" * 40)]}, "lists 'catalog-info.yaml' twice", id="duplicate-path"
    ),
    pytest.param(b"[" * 100_000, "nested too deeply", id="nested-past-the-parser"),
    pytest.param(
        {"tree": [_row(path=f"f{i}.txt") for i in range(120)]},
        "more than 100 (descriptors.max_tree_entries)",
        id="huge",
    ),
]


@pytest.mark.parametrize(("answer", "message"), HOSTILE)
def test_a_hostile_tree_answer_fails_its_repository_alone_naming_the_field(
    catalog: Catalog, hub: FakeGitHub, answer: dict[str, Any] | bytes, message: str
) -> None:
    bad = hub.add_repo("acme", "bad", {"catalog-info.yaml": product_yaml("bad")})
    hub.add_repo("acme", "good", {"catalog-info.yaml": product_yaml("good")})
    whole = {"sha": "c" * 40, "truncated": False}
    hub.tree_answers[bad.id] = answer if isinstance(answer, bytes) else whole | answer
    use_github(catalog, hub)
    catalog.config["descriptors"] = {"max_tree_entries": 100}
    catalog.reset_engine()
    summary = catalog.sync()
    assert summary.errors == 1
    assert catalog.entity("product:default/good") is not None
    assert catalog.entity("product:default/bad") is None
    error = repo_rows(catalog)[hub.key(bad)]["last_error"]
    assert "acme/bad" in error
    assert message in error
    assert kinds(hub).count("blob") == 1  # the good repository's descriptor only
    assert hub.git_requests() == []
    assert not any(p.name.startswith("..") for p in (catalog.root / ".catalog-sync").rglob("*"))


def test_a_nearly_spent_rate_limit_reads_by_shallow_fetch_keeping_the_budget_for_tips(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay")})
    hub.remaining = 300  # below the reserve kept for listings and tips
    use_github(catalog, hub)
    summary = catalog.sync()
    assert summary.errors == 0
    assert catalog.entity("product:default/pay") is not None
    assert kinds(hub) == ["branch", "list"]
    assert {s.path.split(".git/")[0] for s in hub.git_requests()} == {"/acme/pay"}


def test_a_tree_record_damaged_nested_too_deeply_costs_one_tree_request(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    """A tree record that does not parse is read again from the host; one damaged into JSON nested
    deeper than the parser goes failed its repository with an internal RecursionError at every pass,
    since the record was never written again."""
    pay = hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay"), "README.md": "one\n"})
    use_github(catalog, hub)
    catalog.sync()
    (record,) = catalog.root.glob("**/trees/*.json")
    record.write_text("[" * 5000 + "]" * 5000, encoding="utf-8")
    hub.push(pay, {"README.md": "two\n"})
    hub.clear()

    summary = catalog.sync()

    assert summary.errors == 0, repo_rows(catalog)[hub.key(pay)]["last_error"]
    assert summary.sources[0]["error"] is None
    assert kinds(hub) == ["branch", "list", "tree"]
    assert catalog.entity("product:default/pay") is not None
