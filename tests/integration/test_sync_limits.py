"""Values longer than the catalog stores fail only what carries them, never the pass (both databases).

A branch of 301 characters once failed every pass on PostgreSQL (``value too long for type character
varying(255)``), and a descriptor path over 1,024 characters failed its whole repository.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from catalog_sync.cli import build_sync_engine
from catalog_sync.store.limits import max_length
from catalog_sync.store.tables import repositories, scorecard_results, scorecards
from tests.fixtures.gitrepos import new_remote
from tests.integration.conftest import Catalog, product_yaml

LONG_BRANCH = "x" * 200 + "/" + "y" * 100
DEEP = "/".join(["d" * 50] * 21)  # 1,070 characters before the file name


def test_an_over_long_branch_fails_its_repository_and_the_others_sync(catalog: Catalog) -> None:
    catalog.repo("ok", {"catalog-info.yaml": product_yaml("ok")})
    catalog.repo("bad", {"catalog-info.yaml": product_yaml("bad")}).git("branch", "-m", "main", LONG_BRANCH)

    for _ in range(2):
        summary = catalog.sync()
        assert summary.result == "ok"
        assert summary.errors == 1
        assert "branch name is 301 characters; at most 255 are stored" in str(summary.sources[0]["error"])
    assert catalog.refs() == {"product:default/ok"}
    bad = catalog.repository("bad")
    assert bad["state"] == "failing"
    assert bad["last_error"].startswith("branch name is 301 characters; at most 255 are stored")

    catalog.repo("bad").git("branch", "-m", LONG_BRANCH, "main")
    summary = catalog.sync()
    assert summary.errors == 0
    assert catalog.refs() == {"product:default/ok", "product:default/bad"}
    assert catalog.repository("bad")["state"] == "ok"


def test_a_remote_whose_default_branch_is_over_long_fails_alone_pass_after_pass(
    catalog: Catalog, tmp_path: Path
) -> None:
    remote = new_remote(tmp_path, "long")
    remote.publish({"catalog-info.yaml": product_yaml("far")})
    remote.work.git("branch", "-m", "main", LONG_BRANCH)
    remote.work.push(LONG_BRANCH)
    remote.work.git("--git-dir", str(remote.path), "symbolic-ref", "HEAD", f"refs/heads/{LONG_BRANCH}")
    catalog.repo("ok", {"catalog-info.yaml": product_yaml("ok")})
    catalog.config["sources"].append({"name": "far", "type": "git", "url": remote.url})
    catalog.config["sync"] = {"allowed_protocols": ["file"]}

    summaries = [catalog.sync() for _ in range(3)]  # the git source learns the branch at its first read

    assert [s.result for s in summaries] == ["ok", "ok", "ok"]
    assert [s.errors for s in summaries[1:]] == [1, 1]
    assert "product:default/ok" in catalog.refs()
    with catalog.engine.connect() as conn:
        far = conn.execute(select(repositories).where(repositories.c.url == remote.url)).one()
    assert far.state == "failing"
    assert far.last_error.startswith("branch name is 301 characters; at most 255 are stored")


def test_an_over_long_descriptor_path_fails_that_file_and_its_siblings_sync(catalog: Catalog) -> None:
    catalog.repo(
        "deep",
        {"catalog-info.yaml": product_yaml("top"), f"{DEEP}/catalog-info.yaml": product_yaml("buried")},
    )
    catalog.repo("other", {"catalog-info.yaml": product_yaml("other")})

    summary = catalog.sync()

    assert summary.errors == 0
    assert catalog.refs() == {"product:default/top", "product:default/other"}
    assert catalog.repository("deep")["state"] == "ok"
    messages = [p["message"] for p in catalog.problems("descriptor")]
    assert messages == ["descriptor path is 1088 characters; at most 1024 are stored; the file is not read"]
    assert catalog.sync().errors == 0


def scorecard_yaml(level: str) -> str:
    return (
        "apiVersion: catalog/v1\nkind: Scorecard\nmetadata: {name: long-levels}\nspec:\n"
        f"  appliesTo: [kind=product]\n  levels: [{level}]\n  checks:\n"
        f"    - {{id: typed, title: Typed, level: {level}, rule: {{field: spec.type, exists: true}}}}\n"
    )


def test_a_scorecard_level_longer_than_stored_fails_that_descriptor_and_scoring_goes_on(
    catalog: Catalog,
) -> None:
    limit = max_length(scorecard_results.c.level)
    assert limit == 63
    catalog.repo(
        "pay", {"catalog-info.yaml": product_yaml("pay"), "card.yaml": scorecard_yaml("l" * (limit + 1))}
    )
    catalog.config["descriptors"] = {"patterns": ["catalog-info.yaml", "card.yaml"]}

    summary = build_sync_engine(catalog.settings, catalog.engine).run_pass()

    assert summary.result == "ok"
    problems = [p for p in catalog.problems("descriptor") if p["path"] == "card.yaml"]
    assert problems
    assert "must be 1 to 63 characters" in problems[0]["message"]
    with catalog.engine.connect() as conn:
        cards = set(conn.execute(select(scorecards.c.name)).scalars())
        scored = conn.execute(select(scorecard_results.c.entity_ref)).scalars().all()
    assert "product-readiness" in cards
    assert "long-levels" not in cards
    assert "product:default/pay" in scored


def test_an_entity_whose_file_cannot_be_stored_claims_nothing_from_one_that_can(catalog: Catalog) -> None:
    """The same entity at an over-long path in one repository and at a short one in another, read in
    one group: the one that can be stored holds it, with no conflict for either."""
    catalog.repo("a-deep", {f"{DEEP}/catalog-info.yaml": product_yaml("shared")})
    catalog.repo("b-short", {"catalog-info.yaml": product_yaml("shared")})

    catalog.sync()

    assert catalog.refs() == {"product:default/shared"}
    assert catalog.problems("conflict") == []
    shared = catalog.entity("product:default/shared")
    assert shared is not None
    assert shared["repository_id"] == catalog.repository("b-short")["id"]
