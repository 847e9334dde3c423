"""The sync engine over real git repositories: every way a repository changes, and nothing lost."""

from __future__ import annotations

import json

from tests.integration.conftest import Catalog, product_yaml

PAY = "product:default/pay"


def test_added_descriptor_becomes_an_entity_with_relations(catalog: Catalog) -> None:
    catalog.repo("pay", {"catalog-info.yaml": product_yaml("pay"), "README.md": "# pay\n"})
    summary = catalog.sync()
    assert (summary.repositories, summary.changed, summary.added, summary.errors) == (1, 1, 1, 0)
    entity = catalog.entity(PAY)
    assert entity is not None
    assert entity["body"]["spec"]["lifecycle"] == "production"
    annotations = entity["body"]["metadata"]["annotations"]
    assert annotations["backstage.io/managed-by-location"].endswith("/blob/main/catalog-info.yaml")
    assert catalog.relations_of(PAY) == {
        ("ownedBy", "team:default/payments"),
        ("partOf", "capability:default/checkout"),
    }
    assert ("ownerOf", PAY) in catalog.relations_of("team:default/payments")
    repo = catalog.repository("pay")
    assert repo["state"] == "ok"
    assert repo["has_descriptors"] is True
    assert json.loads(repo["facts"])["paths_present"]["README.md"] is True


def test_changed_descriptor_updates_the_entity_and_unchanged_is_not_rewritten(catalog: Catalog) -> None:
    catalog.repo("pay", {"catalog-info.yaml": product_yaml("pay")})
    catalog.sync()
    etag = catalog.entity(PAY)["etag"]  # type: ignore[index]
    catalog.repo("pay", {"README.md": "unrelated change\n"})
    summary = catalog.sync()
    assert (summary.changed, summary.updated) == (0, 0)
    assert catalog.entity(PAY)["etag"] == etag  # type: ignore[index]
    catalog.repo("pay", {"catalog-info.yaml": product_yaml("pay", lifecycle="deprecated")})
    summary = catalog.sync()
    assert (summary.changed, summary.updated) == (1, 1)
    assert catalog.entity(PAY)["body"]["spec"]["lifecycle"] == "deprecated"  # type: ignore[index]


def test_no_change_pass_only_asks_for_the_tip(catalog: Catalog) -> None:
    for name in ("a", "b", "c"):
        catalog.repo(name, {"catalog-info.yaml": product_yaml(name)})
    catalog.sync()
    summary = catalog.sync()
    assert (summary.repositories, summary.unchanged, summary.changed, summary.added) == (3, 3, 0, 0)


def test_a_no_change_pass_moves_each_repositorys_last_check_and_next_due_time(catalog: Catalog) -> None:
    from datetime import timedelta

    for name in ("a", "b"):
        catalog.repo(name, {"catalog-info.yaml": product_yaml(name)})
    catalog.sync()
    catalog.clock.advance(seconds=30)
    checked = catalog.clock.now
    summary = catalog.sync()
    assert (summary.repositories, summary.unchanged, summary.changed, summary.errors) == (2, 2, 0, 0)
    for name in ("a", "b"):
        row = catalog.repository(name)
        last = row["last_sync_at"].replace(tzinfo=None)
        assert checked.replace(tzinfo=None) < last < (checked + timedelta(seconds=1)).replace(tzinfo=None)
        assert row["last_success_at"] == row["last_sync_at"]
        assert row["next_sync_at"] == row["last_sync_at"] + timedelta(seconds=300)
        assert (row["state"], row["claimed_by"], row["claim_expires_at"]) == ("ok", None, None)


def test_a_no_change_pass_leaves_alone_a_repository_another_worker_holds(catalog: Catalog) -> None:
    from catalog_sync.store import repos as repo_store
    from catalog_sync.store.tables import repositories

    for name in ("pay", "cart"):
        catalog.repo(name, {"catalog-info.yaml": product_yaml(name)})
    catalog.sync()
    pay = catalog.repository("pay")
    now = catalog.clock()
    with catalog.engine.begin() as conn:
        conn.execute(repositories.update().where(repositories.c.id == pay["id"]).values(next_sync_at=now))
        claimed = repo_store.claim_due(
            conn, "other", now=now, lease_seconds=600, limit=5, source_ids=[pay["source_id"]]
        )
    assert [c.id for c in claimed] == [pay["id"]]
    summary = catalog.sync()
    assert (summary.repositories, summary.unchanged) == (1, 1)
    assert [(s["holder"], s["repositories"]) for s in summary.skipped] == [("other", 1)]
    after = catalog.repository("pay")
    assert (after["claimed_by"], after["last_sync_at"]) == ("other", pay["last_sync_at"])


def test_a_repository_that_failed_and_answers_again_at_its_old_commit_is_ok_again(catalog: Catalog) -> None:
    repo = catalog.repo("pay", {"catalog-info.yaml": product_yaml("pay")})
    catalog.sync()
    ref = repo.git_dir / "refs" / "heads" / "main"
    tip = ref.read_text()
    ref.write_text("not a sha\n")
    assert catalog.sync().errors == 1
    catalog.clock.advance(hours=1)  # past its back-off
    ref.write_text(tip)
    summary = catalog.sync()
    assert (summary.repositories, summary.unchanged, summary.errors) == (1, 1, 0)
    assert (catalog.repository("pay")["state"], catalog.repository("pay")["failures"]) == ("ok", 0)
    assert catalog.problems("fetch") == []


def test_changed_read_rules_reread_a_repository_whose_tip_did_not_move(catalog: Catalog) -> None:
    catalog.repo("pay", {"catalog-info.yaml": product_yaml("pay"), "OWNERS": "payments\n"})
    catalog.sync()
    assert "OWNERS" not in json.loads(catalog.repository("pay")["facts"])["paths_present"]
    catalog.config["sync"] = {"fact_paths": ["README.md", "OWNERS"]}
    catalog.reset_engine()
    summary = catalog.sync()
    assert (summary.repositories, summary.errors) == (1, 0)
    assert json.loads(catalog.repository("pay")["facts"])["paths_present"]["OWNERS"] is True


def test_uncommitted_edits_are_ignored(catalog: Catalog) -> None:
    repo = catalog.repo("pay", {"catalog-info.yaml": product_yaml("pay")})
    repo.write("catalog-info.yaml", product_yaml("pay", lifecycle="retired"))
    repo.write(".catalog/extra.yaml", product_yaml("uncommitted"))
    catalog.sync()
    assert catalog.entity(PAY)["body"]["spec"]["lifecycle"] == "production"  # type: ignore[index]
    assert catalog.entity("product:default/uncommitted") is None


def test_renamed_and_moved_descriptor_keeps_the_entity(catalog: Catalog) -> None:
    repo = catalog.repo("pay", {"catalog-info.yaml": product_yaml("pay")})
    catalog.sync()
    uid = catalog.entity(PAY)["uid"]  # type: ignore[index]
    repo.move("catalog-info.yaml", "services/pay/catalog-info.yml")
    repo.commit("move")
    summary = catalog.sync()
    entity = catalog.entity(PAY)
    assert entity is not None
    assert entity["uid"] == uid
    assert entity["orphaned_at"] is None
    assert entity["path"] == "services/pay/catalog-info.yml"
    assert summary.orphaned == 0


def test_entity_moves_between_repositories(catalog: Catalog) -> None:
    old = catalog.repo("old", {"catalog-info.yaml": product_yaml("pay")})
    catalog.sync()
    uid = catalog.entity(PAY)["uid"]  # type: ignore[index]
    catalog.repo("new", {"catalog-info.yaml": product_yaml("pay", description="moved")})
    old.delete("catalog-info.yaml")
    old.commit("hand over pay")
    catalog.sync()
    entity = catalog.entity(PAY)
    assert entity is not None
    assert entity["uid"] == uid
    assert entity["repository_id"] == catalog.repository("new")["id"]
    assert entity["orphaned_at"] is None
    assert entity["body"]["metadata"]["description"] == "moved"
    assert catalog.problems("conflict") == []


def test_invalid_after_valid_keeps_the_last_good_entity_with_the_error(catalog: Catalog) -> None:
    catalog.repo("pay", {"catalog-info.yaml": product_yaml("pay")})
    catalog.sync()
    catalog.repo("pay", {"catalog-info.yaml": product_yaml("pay", lifecycle="forever")})
    catalog.sync()
    entity = catalog.entity(PAY)
    assert entity is not None
    assert entity["body"]["spec"]["lifecycle"] == "production"
    assert entity["orphaned_at"] is None
    errors = [p for p in catalog.problems("descriptor") if p["severity"] == "error"]
    assert len(errors) == 1
    assert errors[0]["entity_id"] == entity["id"]
    assert errors[0]["path"] == "catalog-info.yaml"
    assert errors[0]["line"] == 7
    assert "spec.lifecycle" in (errors[0]["field"] or "")
    catalog.repo("pay", {"catalog-info.yaml": product_yaml("pay", lifecycle="deprecated")})
    catalog.sync()
    assert catalog.problems("descriptor") == []


def test_broken_yaml_keeps_every_entity_of_that_file(catalog: Catalog) -> None:
    catalog.repo(
        "pay", {"catalog-info.yaml": product_yaml("pay"), ".catalog/more.yaml": product_yaml("cart")}
    )
    catalog.sync()
    catalog.repo("pay", {"catalog-info.yaml": "apiVersion: catalog/v1\nkind: [unclosed\n"})
    summary = catalog.sync()
    assert summary.orphaned == 0
    assert catalog.entity(PAY)["orphaned_at"] is None  # type: ignore[index]
    assert catalog.problems("descriptor")[0]["path"] == "catalog-info.yaml"


def test_deleted_descriptor_makes_an_orphan_then_policy_deletes_it(make_catalog) -> None:
    catalog: Catalog = make_catalog(sync={"orphan_policy": "delete", "orphan_grace_seconds": 3600})
    repo = catalog.repo("pay", {"catalog-info.yaml": product_yaml("pay"), "README.md": "x\n"})
    catalog.sync()
    repo.delete("catalog-info.yaml")
    repo.commit("retire pay")
    summary = catalog.sync()
    assert summary.orphaned == 1
    entity = catalog.entity(PAY)
    assert entity is not None
    assert entity["orphaned_at"] is not None
    assert entity["body"]["metadata"]["annotations"]["backstage.io/orphan"] == "true"
    assert catalog.repository("pay")["has_descriptors"] is False
    catalog.clock.advance(minutes=30)
    assert catalog.sync().deleted == 0
    catalog.clock.advance(minutes=31)
    assert catalog.sync().deleted == 1
    assert catalog.entity(PAY) is None


def test_orphans_are_kept_under_the_default_policy(catalog: Catalog) -> None:
    repo = catalog.repo("pay", {"catalog-info.yaml": product_yaml("pay"), "README.md": "x\n"})
    catalog.sync()
    repo.delete("catalog-info.yaml")
    repo.commit("retire pay")
    catalog.sync()
    catalog.clock.advance(days=365)
    assert catalog.sync().deleted == 0
    assert catalog.entity(PAY) is not None


def test_unreachable_repository_keeps_its_entities_failing_then_stale(catalog: Catalog) -> None:
    repo = catalog.repo("pay", {"catalog-info.yaml": product_yaml("pay")})
    catalog.repo("other", {"catalog-info.yaml": product_yaml("other")})
    catalog.sync()
    (repo.git_dir / "refs" / "heads" / "main").write_text("not a sha\n")
    states = []
    for _ in range(3):
        summary = catalog.sync()
        assert summary.errors == 1
        states.append(catalog.repository("pay")["state"])
    assert states == ["failing", "failing", "stale"]
    assert catalog.entity(PAY)["orphaned_at"] is None  # type: ignore[index]
    assert catalog.problems("fetch")[0]["message"]
    assert catalog.repository("other")["state"] == "ok"


def test_mass_disappearance_removes_nothing_and_says_why(catalog: Catalog) -> None:
    for name in ("a", "b", "c", "d"):
        catalog.repo(name, {"catalog-info.yaml": product_yaml(name)})
    catalog.sync()
    for name in ("a", "b", "c"):
        (catalog.fleet / name).rename(catalog.root / f"gone-{name}")
    summary = catalog.sync()
    assert summary.orphaned == 0
    assert "max_removal_fraction" in (summary.sources[0]["error"] or "")
    assert {catalog.entity(f"product:default/{n}")["orphaned_at"] for n in "abc"} == {None}  # type: ignore[index]
    removal = catalog.problems("removal")
    assert len(removal) == 3


def test_a_few_vanished_repositories_orphan_their_entities(catalog: Catalog) -> None:
    for name in ("a", "b", "c", "d"):
        catalog.repo(name, {"catalog-info.yaml": product_yaml(name)})
    catalog.sync()
    (catalog.fleet / "a").rename(catalog.root / "gone-a")
    summary = catalog.sync()
    assert summary.sources[0]["error"] is None
    assert catalog.entity("product:default/a")["orphaned_at"] is not None  # type: ignore[index]
    assert catalog.repository("a")["removed_at"] is not None


def test_conflict_first_keeps_it_and_resolves_when_the_first_lets_go(catalog: Catalog) -> None:
    first = catalog.repo("first", {"catalog-info.yaml": product_yaml("pay", description="first")})
    catalog.sync()
    catalog.repo("second", {"catalog-info.yaml": product_yaml("pay", description="second")})
    summary = catalog.sync()
    assert summary.conflicts == 1
    conflicts = catalog.problems("conflict")
    assert [c["repository_id"] for c in conflicts] == [catalog.repository("second")["id"]]
    assert conflicts[0]["entity_ref"] == PAY
    assert catalog.entity(PAY)["body"]["metadata"]["description"] == "first"  # type: ignore[index]
    first.delete("catalog-info.yaml")
    first.commit("give pay away")
    catalog.sync()
    assert catalog.entity(PAY)["body"]["metadata"]["description"] == "second"  # type: ignore[index]
    assert catalog.problems("conflict") == []


def test_force_push_to_an_older_commit_is_followed(catalog: Catalog) -> None:
    repo = catalog.repo("pay", {"catalog-info.yaml": product_yaml("pay")})
    old = repo.head()
    repo.commit("v2", files={"catalog-info.yaml": product_yaml("pay", lifecycle="deprecated")})
    catalog.sync()
    repo.reset_hard(old)
    catalog.sync()
    entity = catalog.entity(PAY)
    assert entity["body"]["spec"]["lifecycle"] == "production"  # type: ignore[index]
    assert catalog.repository("pay")["last_commit"] == old


def test_repository_without_descriptor_is_recorded(catalog: Catalog) -> None:
    catalog.repo("legacy", {"README.md": "# reports\n"})
    catalog.sync()
    repo = catalog.repository("legacy")
    assert (repo["state"], repo["has_descriptors"]) == ("ok", False)


def test_owner_resolves_to_a_group_when_only_a_group_exists(catalog: Catalog) -> None:
    group = (
        "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: payments}\n"
        "spec: {type: team, children: []}\n"
    )
    catalog.repo("platform", {"catalog-info.yaml": group})
    catalog.sync()
    catalog.repo("pay", {"catalog-info.yaml": product_yaml("pay")})
    catalog.sync()
    assert ("ownedBy", "group:default/payments") in catalog.relations_of(PAY)


LOCATION = (
    "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: root\n"
    "spec:\n  targets: [./services/pay.yaml]\n"
)


def test_a_broken_location_keeps_the_entities_of_the_files_it_named(make_catalog) -> None:
    catalog: Catalog = make_catalog(sync={"orphan_policy": "delete", "orphan_grace_seconds": 60})
    repo = catalog.repo("pay", {"catalog-info.yaml": LOCATION, "services/pay.yaml": product_yaml("pay")})
    catalog.sync()
    repo.commit("typo", files={"catalog-info.yaml": LOCATION.replace("pay.yaml]", "pay.yaml")})
    for _ in range(2):  # and on later commits while it stays broken, past the grace period
        summary = catalog.sync()
        assert (summary.orphaned, summary.deleted) == (0, 0)
        catalog.clock.advance(hours=1)
        repo.commit("unrelated", files={"README.md": f"{catalog.clock.now}\n"})
    entity = catalog.entity(PAY)
    assert entity is not None
    assert entity["orphaned_at"] is None
    assert "malformed YAML" in catalog.problems("descriptor")[0]["message"]


def test_a_typo_in_kind_or_name_keeps_the_last_good_entity(catalog: Catalog) -> None:
    catalog.repo("pay", {"catalog-info.yaml": product_yaml("pay")})
    catalog.sync()
    for broken in (
        product_yaml("pay").replace("kind: Product", "kind: Prodct"),
        product_yaml("pay").replace("name: pay", "name: pay api"),
    ):
        catalog.repo("pay", {"catalog-info.yaml": broken})
        assert catalog.sync().orphaned == 0
        assert catalog.entity(PAY)["orphaned_at"] is None  # type: ignore[index]
        assert [p["severity"] for p in catalog.problems("descriptor")].count("error") == 1


def test_hostile_values_fail_only_their_own_descriptor_on_either_database(catalog: Catalog) -> None:
    catalog.repo("good", {"catalog-info.yaml": product_yaml("good")})
    spec_field = product_yaml("wide").replace("spec:\n", "spec:\n  " + "x" * 300 + ": 1\n")
    nul = product_yaml("nul", description='"a\\0b"')
    long_kind = product_yaml("kind").replace("kind: Product", "kind: " + "K" * 700)
    catalog.repo("bad", {"a/catalog-info.yaml": spec_field, "b/catalog-info.yaml": long_kind})
    catalog.repo("nul", {"catalog-info.yaml": nul})
    summary = catalog.sync()
    assert summary.result == "ok"
    assert catalog.entity("product:default/good") is not None
    stored = catalog.entity("product:default/nul")
    assert stored is not None
    assert stored["body"]["metadata"]["description"] == "a\x00b"  # kept in the JSON body, escaped
    errors = [p for p in catalog.problems("descriptor") if p["severity"] == "error"]
    assert {p["path"] for p in errors} == {"a/catalog-info.yaml", "b/catalog-info.yaml"}
    assert all(len(p["entity_ref"] or "") <= 600 for p in errors)
    assert catalog.repository("bad")["state"] == "ok"


def test_a_failing_pass_gives_back_its_claims(catalog: Catalog, monkeypatch) -> None:
    from sqlalchemy import select

    from catalog_sync.store.tables import repositories
    from catalog_sync.sync.batch import BatchReader

    catalog.repo("pay", {"catalog-info.yaml": product_yaml("pay")})

    def explode(*_: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(BatchReader, "read", explode)
    try:
        catalog.sync()
    except RuntimeError:
        pass
    else:
        raise AssertionError("the pass should have failed")
    with catalog.engine.connect() as conn:
        assert conn.execute(select(repositories.c.claimed_by)).scalars().all() == [None]
    monkeypatch.undo()
    assert catalog.sync().added == 1


def test_a_worker_whose_lease_lapsed_writes_nothing_for_a_taken_over_repository(catalog: Catalog) -> None:
    from datetime import timedelta

    from catalog_sync.store import repos as repo_store
    from catalog_sync.store.tables import repositories

    catalog.repo("pay", {"catalog-info.yaml": product_yaml("pay")})
    catalog.sync()
    now = catalog.clock()
    with catalog.engine.begin() as conn:
        rid = catalog.repository("pay")["id"]
        source_id = catalog.repository("pay")["source_id"]
        conn.execute(repositories.update().values(next_sync_at=now))
        assert [
            c.id
            for c in repo_store.claim_due(
                conn, "slow", now=now, lease_seconds=1, limit=5, source_ids=[source_id]
            )
        ] == [rid]
        later = now + timedelta(seconds=5)
        assert [
            c.id
            for c in repo_store.claim_due(
                conn, "fast", now=later, lease_seconds=60, limit=5, source_ids=[source_id]
            )
        ] == [rid]
        assert repo_store.hold(conn, "slow", [rid], now=later, lease_seconds=60) == set()
        assert repo_store.hold(conn, "fast", [rid], now=later, lease_seconds=60) == {rid}


def test_owner_follows_a_group_that_arrives_after_the_product_and_a_team_that_leaves(make_catalog) -> None:
    catalog: Catalog = make_catalog(sync={"orphan_policy": "delete", "orphan_grace_seconds": 60})
    catalog.repo("pay", {"catalog-info.yaml": product_yaml("pay")})
    catalog.sync()
    assert ("ownedBy", "team:default/payments") in catalog.relations_of(PAY)
    group = (
        "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: payments}\n"
        "spec: {type: team, children: []}\n"
    )
    catalog.repo("platform", {"catalog-info.yaml": group})
    catalog.sync()
    assert ("ownedBy", "group:default/payments") in catalog.relations_of(PAY)
    assert ("ownerOf", PAY) in catalog.relations_of("group:default/payments")
    assert catalog.relations_of("team:default/payments") == set()
    team = "apiVersion: catalog/v1\nkind: Team\nmetadata: {name: payments}\n"
    catalog.repo("platform", {"catalog-info.yaml": team})
    catalog.sync()
    catalog.clock.advance(minutes=2)
    catalog.sync()  # the orphaned Group is deleted: the product names the Team again
    assert catalog.entity("group:default/payments") is None
    assert ("ownedBy", "team:default/payments") in catalog.relations_of(PAY)


def test_the_loop_records_a_run_only_when_something_was_due(catalog: Catalog) -> None:
    from sqlalchemy import func, select

    from catalog_sync.store.tables import sync_runs

    catalog.repo("pay", {"catalog-info.yaml": product_yaml("pay")})
    catalog.sync()  # a one-off pass: recorded
    catalog.sync(everything=False)  # nothing due yet: an idle poll
    with catalog.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(sync_runs)).scalar_one() == 1
    catalog.clock.advance(seconds=301)  # the interval has passed: due again
    assert catalog.sync(everything=False).unchanged == 1
    with catalog.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(sync_runs)).scalar_one() == 2
