"""A github source's caches are pruned by its complete listings, against the local GitHub: a deleted
repository's tree record and shallow clone go with the repository (a clone fetched within the hour
stays until a later listing), a descriptor version no record names goes a day later (one just written
stays), a failed listing prunes nothing, a listed repository keeps its clone, a renamed one loses the
clone made under its old URL and keeps its entities, and a version pruned then pushed again is fetched
again and read right."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog_sync.sources.githubtree import BlobCache, blob_sha
from tests.fixtures.fakegithub import FakeGitHub, FakeRepo, Fault, serving_orgs
from tests.integration.conftest import Catalog, product_yaml
from tests.integration.test_github_api_read import kinds
from tests.integration.test_github_source import (
    TOKEN,
    TOKEN_ENV,
    repo_rows,
    synced_pay_and_ledger,
    use_github,
)

DAY = 24 * 3600.0


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    with serving_orgs(tmp_path / "hub", monkeypatch, (TOKEN_ENV, TOKEN), "acme") as hub:
        yield hub


def api_cache(catalog: Catalog) -> Path:
    return catalog.root / ".catalog-sync" / "repos" / "github" / "acme" / "api"


def record(catalog: Catalog, repo: FakeRepo) -> Path:
    return api_cache(catalog) / "trees" / f"{repo.id}.json"


def age_cache(catalog: Catalog, seconds: float = 2 * DAY) -> None:
    """Move every file of the API cache (records, blobs, the last prune's mark) ``seconds`` back."""
    then = time.time() - seconds
    for path in api_cache(catalog).rglob("*"):
        if path.is_file():
            os.utime(path, (then, then))


def test_a_deleted_repository_loses_its_tree_record_with_the_listing_that_removes_it(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    pay, ledger = synced_pay_and_ledger(catalog, hub)
    assert record(catalog, ledger).is_file()
    age_cache(catalog)
    hub.delete(ledger)
    catalog.sync()
    assert record(catalog, ledger).is_file()  # one listing without it: the catalog keeps it too
    assert repo_rows(catalog)[hub.key(ledger)]["removed_at"] is None
    catalog.sync()
    assert repo_rows(catalog)[hub.key(ledger)]["removed_at"] is not None
    assert not record(catalog, ledger).exists()
    assert record(catalog, pay).is_file()


def test_a_descriptor_version_no_record_names_is_pruned_and_fetched_again_when_pushed_back(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    first, second = product_yaml("pay"), product_yaml("pay", lifecycle="deprecated")
    pay = hub.add_repo("acme", "pay", {"catalog-info.yaml": first})
    use_github(catalog, hub)
    catalog.sync()
    hub.push(pay, {"catalog-info.yaml": second})
    catalog.sync()
    blobs = BlobCache(api_cache(catalog) / "blobs")
    assert blobs.has(blob_sha(first.encode()))  # pruned at most once a day: the last prune was today
    age_cache(catalog)
    writing = b"a blob another worker just fetched; its record is not written yet"
    blobs.put(blob_sha(writing), writing)

    catalog.sync()
    assert not blobs.has(blob_sha(first.encode()))
    assert blobs.has(blob_sha(second.encode()))  # named by the repository's record
    assert blobs.has(blob_sha(writing))

    hub.push(pay, {"catalog-info.yaml": first})
    hub.clear()
    summary = catalog.sync()
    assert summary.errors == 0
    assert kinds(hub) == ["blob", "branch", "list", "tree"]
    entity = catalog.entity("product:default/pay")
    assert entity is not None
    assert entity["body"]["spec"]["lifecycle"] == "production"


def test_a_listing_that_fails_part_way_prunes_nothing(catalog: Catalog, hub: FakeGitHub) -> None:
    template = hub.add_repo("acme", "template", {"README.md": "no descriptors here\n"})
    copies = hub.add_copies("acme", template, [f"svc-{i:03}" for i in range(149)])  # two pages
    use_github(catalog, hub)
    catalog.sync()
    orphan = b"a version no record names"
    blobs = BlobCache(api_cache(catalog) / "blobs")
    blobs.put(blob_sha(orphan), orphan)
    age_cache(catalog)
    hub.delete(copies[0])
    hub.fail(Fault(502, "page=2", {}, "Server Error", times=None))
    for _ in range(3):
        assert "nothing is removed" in catalog.sync().sources[0]["error"]
    assert record(catalog, copies[0]).is_file()
    assert blobs.has(blob_sha(orphan))

    hub.faults.clear()
    catalog.sync()
    catalog.sync()
    assert not record(catalog, copies[0]).exists()
    assert not blobs.has(blob_sha(orphan))
    assert record(catalog, copies[1]).is_file()


def clones(catalog: Catalog, repo: FakeRepo) -> Path:
    """Where the source keeps ``repo``'s shallow clones."""
    return api_cache(catalog).parent / "git" / str(repo.id)


def age_clones(catalog: Catalog, seconds: float = 2 * DAY) -> None:
    """Move every clone folder and file ``seconds`` back, as clones no read touched since."""
    then = time.time() - seconds
    folder = api_cache(catalog).parent / "git"
    for path in [folder, *folder.rglob("*")]:
        os.utime(path, (then, then), follow_symlinks=False)


def read_by_clone(hub: FakeGitHub, repo: FakeRepo) -> None:
    """Have the local GitHub answer ``repo``'s tree as truncated, so that it is read by a clone."""
    hub.tree_answers[repo.id] = {"sha": "0" * 40, "tree": [], "truncated": True}


def test_a_deleted_repository_loses_its_clone_at_the_second_listing_and_a_listed_one_keeps_its(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    pay = hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay")})
    mono = hub.add_repo("acme", "mono", {"catalog-info.yaml": product_yaml("mono")})
    read_by_clone(hub, pay)
    read_by_clone(hub, mono)
    use_github(catalog, hub)
    assert catalog.sync().errors == 0
    assert catalog.entity("product:default/mono") is not None
    assert clones(catalog, mono).is_dir()
    assert clones(catalog, pay).is_dir()
    age_clones(catalog)
    hub.delete(mono)
    catalog.sync()
    assert clones(catalog, mono).is_dir()  # one listing without it: the catalog keeps it too
    catalog.sync()
    assert repo_rows(catalog)[hub.key(mono)]["removed_at"] is not None
    assert not clones(catalog, mono).exists()
    (cache,) = [p for p in clones(catalog, pay).iterdir() if p.is_dir()]
    assert (cache / "shallow").is_file()
    hub.push(pay, {"catalog-info.yaml": product_yaml("pay", lifecycle="deprecated")})
    assert catalog.sync().errors == 0  # the kept clone is fetched into as before
    entity = catalog.entity("product:default/pay")
    assert entity is not None
    assert entity["body"]["spec"]["lifecycle"] == "deprecated"


def test_a_clone_written_within_the_hour_is_kept_until_a_listing_after_it(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay")})
    mono = hub.add_repo("acme", "mono", {"catalog-info.yaml": product_yaml("mono")})
    read_by_clone(hub, mono)
    use_github(catalog, hub)
    catalog.sync()
    hub.delete(mono)
    catalog.sync()
    catalog.sync()  # the catalog removes it; its clone was fetched a moment ago (another worker may)
    assert repo_rows(catalog)[hub.key(mono)]["removed_at"] is not None
    assert clones(catalog, mono).is_dir()
    age_clones(catalog)
    catalog.sync()
    assert not clones(catalog, mono).exists()


def test_a_listing_that_fails_part_way_removes_no_clone(catalog: Catalog, hub: FakeGitHub) -> None:
    template = hub.add_repo("acme", "template", {"README.md": "no descriptors here\n"})
    copies = hub.add_copies("acme", template, [f"svc-{i:03}" for i in range(149)])  # two pages
    read_by_clone(hub, copies[0])
    use_github(catalog, hub)
    catalog.sync()
    assert clones(catalog, copies[0]).is_dir()
    age_clones(catalog)
    hub.delete(copies[0])
    hub.fail(Fault(502, "page=2", {}, "Server Error", times=None))
    for _ in range(3):
        assert "nothing is removed" in catalog.sync().sources[0]["error"]
    assert clones(catalog, copies[0]).is_dir()

    hub.faults.clear()
    catalog.sync()
    assert clones(catalog, copies[0]).is_dir()  # the failed listings counted for nothing
    catalog.sync()
    assert not clones(catalog, copies[0]).exists()


def test_a_renamed_repository_loses_its_clone_under_the_old_name_and_keeps_its_entities(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    mono = hub.add_repo("acme", "mono", {"catalog-info.yaml": product_yaml("mono")})
    read_by_clone(hub, mono)
    use_github(catalog, hub)
    assert catalog.sync().errors == 0
    before = catalog.entity("product:default/mono")
    assert before is not None
    (old,) = [p for p in clones(catalog, mono).iterdir() if p.is_dir()]
    age_clones(catalog)
    hub.rename(mono, "new-name")
    hub.push(mono, {"catalog-info.yaml": product_yaml("mono", lifecycle="deprecated")})
    assert catalog.sync().errors == 0  # read by a clone under the new URL; the old one, listed, goes
    assert not old.exists()
    (new,) = [p for p in clones(catalog, mono).iterdir() if p.is_dir()]
    assert (new / "shallow").is_file()
    after = catalog.entity("product:default/mono")
    assert after is not None
    assert after["uid"] == before["uid"]
    assert after["body"]["spec"]["lifecycle"] == "deprecated"
    assert repo_rows(catalog)[hub.key(mono)]["name"] == "acme/new-name"
