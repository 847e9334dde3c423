"""Reconcile's rules, on plain records: what a repository's scan means for the catalog."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from catalog_sync.descriptors.parsed import ParsedDocument, ParsedFile
from catalog_sync.descriptors.problems import Problem
from catalog_sync.model import ORPHAN_ANNOTATION, Entity
from catalog_sync.plans import KnownEntity, ListedRepository, OrphanRow, mark_orphan
from catalog_sync.reconcile import (
    decide_removal,
    expired_orphans,
    location_url,
    plan_repository,
    prepare_entity,
)

NOW = datetime(2026, 11, 1, tzinfo=UTC)
URL = "https://git.example.com/acme/pay"


def product(name: str, **spec: object) -> Entity:
    return Entity(
        "catalog/v1",
        "Product",
        {"name": name},
        {"type": "service", "lifecycle": "production", "owner": "payments", **spec},
    )


def doc(
    entity: Entity | None, *, ref: str | None = None, line: int = 1, problems: list[Problem] | None = None
) -> ParsedDocument:
    return ParsedDocument(
        index=0,
        line=line,
        column=1,
        entity=entity,
        ref=ref or (str(entity.ref) if entity else None),
        problems=problems or [],
    )


def known(
    entity: Entity,
    *,
    id_: int,
    repo: int | None = 1,
    path: str = "catalog-info.yaml",
    orphaned: bool = False,
    removed: bool = False,
) -> KnownEntity:
    stored = prepare_entity(entity, location_url(URL, "main", path))
    return KnownEntity(
        id=id_,
        ref_key=entity.ref.key,
        repository_id=repo,
        path=path,
        content_hash=stored.content_hash(),
        orphaned_at=NOW if orphaned else None,
        repository_removed=removed,
    )


def plan(
    files: list[ParsedFile],
    own: dict[str, KnownEntity] | None = None,
    others: dict[str, KnownEntity] | None = None,
    contested_since: datetime | None = None,
):
    return plan_repository(
        1,
        commit="c1",
        repo_url=URL,
        branch="main",
        files=files,
        descriptor_changed={},
        facts={},
        own=own or {},
        others=others or {},
        contested_since=contested_since,
    )


def test_new_entity_is_written_with_location_annotations() -> None:
    result = plan([ParsedFile("catalog-info.yaml", [doc(product("pay"))], blob_sha="b1")])
    assert len(result.writes) == 1
    annotations = result.writes[0].prepared.entity.metadata["annotations"]
    assert annotations["backstage.io/managed-by-location"] == f"url:{URL}/blob/main/catalog-info.yaml"
    assert result.writes[0].prepared.entity.metadata["namespace"] == "default"
    assert result.descriptor_files == {"catalog-info.yaml": ("b1", None)}
    assert result.has_descriptors


def test_unchanged_entity_is_not_rewritten() -> None:
    pay = product("pay")
    result = plan([ParsedFile("catalog-info.yaml", [doc(pay)])], own={pay.ref.key: known(pay, id_=7)})
    assert result.writes == []
    assert result.unchanged_ids == [7]
    assert not result.changed


def test_changed_entity_is_rewritten_in_place() -> None:
    old, new = product("pay"), product("pay", tier=1)
    result = plan([ParsedFile("catalog-info.yaml", [doc(new)])], own={old.ref.key: known(old, id_=7)})
    assert [w.existing_id for w in result.writes] == [7]


def test_disappeared_descriptor_makes_an_orphan() -> None:
    pay = product("pay")
    result = plan([], own={pay.ref.key: known(pay, id_=7)})
    assert result.orphan_ids == [7]
    assert not result.has_descriptors


def test_already_orphaned_entity_is_not_orphaned_again() -> None:
    pay = product("pay")
    assert plan([], own={pay.ref.key: known(pay, id_=7, orphaned=True)}).orphan_ids == []


def test_invalid_document_keeps_last_good_entity_with_error_attached() -> None:
    pay = product("pay")
    error = Problem(
        "catalog-info.yaml",
        "error",
        "must be one of ...",
        line=5,
        column=3,
        field="spec.lifecycle",
        entity_ref="product:default/pay",
    )
    broken = doc(None, ref="product:default/pay", problems=[error])
    result = plan([ParsedFile("catalog-info.yaml", [broken])], own={pay.ref.key: known(pay, id_=7)})
    assert result.orphan_ids == []
    assert result.writes == []
    assert [(r.problem.line, r.entity_id) for r in result.problems] == [(5, 7)]


def test_unreadable_file_keeps_every_entity_it_held() -> None:
    pay, cart = product("pay"), product("cart")
    broken = ParsedFile("catalog-info.yaml", [], [Problem("catalog-info.yaml", "error", "not YAML", line=3)])
    own = {pay.ref.key: known(pay, id_=7), cart.ref.key: known(cart, id_=8, path="other/catalog-info.yaml")}
    result = plan([broken], own=own)
    assert result.orphan_ids == [8]  # only the entity whose own file is gone
    assert result.problems[0].problem.message == "not YAML"


def test_entity_claimed_by_another_repository_is_a_conflict_for_the_second() -> None:
    pay = product("pay")
    result = plan(
        [ParsedFile("catalog-info.yaml", [doc(pay, line=4)])], others={pay.ref.key: known(pay, id_=9, repo=2)}
    )
    assert result.writes == []
    assert result.conflicts == 1
    conflict = result.problems[0]
    assert conflict.category == "conflict"
    assert conflict.problem.line == 4
    assert conflict.problem.entity_ref == "product:default/pay"


def test_orphan_of_another_repository_moves_here() -> None:
    pay = product("pay")
    result = plan(
        [ParsedFile("catalog-info.yaml", [doc(pay)])],
        others={pay.ref.key: known(pay, id_=9, repo=2, orphaned=True)},
    )
    assert [w.existing_id for w in result.writes] == [9]
    assert result.writes[0].claimed, "its holding starts now, so a claimant of the same pass is ranked"
    assert result.conflicts == 0


def test_entity_of_a_removed_repository_moves_here() -> None:
    pay = product("pay")
    result = plan(
        [ParsedFile("catalog-info.yaml", [doc(pay)])],
        others={pay.ref.key: known(pay, id_=9, repo=2, removed=True)},
    )
    assert [w.existing_id for w in result.writes] == [9]
    assert result.writes[0].claimed


def test_an_entity_rewritten_by_its_own_repository_keeps_its_holding() -> None:
    pay = product("pay")
    result = plan(
        [ParsedFile("catalog-info.yaml", [doc(product("pay", tier=1))])], own={pay.ref.key: known(pay, id_=7)}
    )
    assert [(w.existing_id, w.claimed) for w in result.writes] == [(7, False)]


def test_same_entity_twice_in_one_repository_keeps_the_first() -> None:
    first, second = product("pay"), product("Pay", tier=2)
    result = plan(
        [
            ParsedFile("a/catalog-info.yaml", [doc(first, line=1)]),
            ParsedFile("b/catalog-info.yaml", [doc(second, line=9)]),
        ]
    )
    assert [w.path for w in result.writes] == ["a/catalog-info.yaml"]
    assert (
        "defined twice in this repository (first at a/catalog-info.yaml:1)"
        in result.problems[0].problem.message
    )


def test_refs_are_compared_case_insensitively() -> None:
    old = product("Pay")
    result = plan(
        [ParsedFile("catalog-info.yaml", [doc(product("pay"))])], own={old.ref.key: known(old, id_=7)}
    )
    assert [w.existing_id for w in result.writes] == [7]
    assert result.orphan_ids == []


def test_mark_orphan_adds_backstage_annotation_without_touching_the_original() -> None:
    body = prepare_entity(product("pay"), "url:x").to_dict()
    marked = mark_orphan(body)
    assert marked["metadata"]["annotations"][ORPHAN_ANNOTATION] == "true"
    assert ORPHAN_ANNOTATION not in body["metadata"]["annotations"]


def test_returning_descriptor_clears_orphan_mark() -> None:
    pay = product("pay")
    result = plan(
        [ParsedFile("catalog-info.yaml", [doc(pay)])], own={pay.ref.key: known(pay, id_=7, orphaned=True)}
    )
    assert [w.existing_id for w in result.writes] == [7]
    assert ORPHAN_ANNOTATION not in result.writes[0].prepared.entity.metadata["annotations"]


def listed(*keys: str) -> list[ListedRepository]:
    return [ListedRepository(i + 1, key) for i, key in enumerate(keys)]


def test_a_listing_that_drops_a_few_repositories_removes_them() -> None:
    decision = decide_removal(listed("a", "b", "c", "d"), ["a", "b", "c"], max_removal_fraction=0.5)
    assert decision.removed_ids == (4,)
    assert decision.refused is None


def test_a_listing_that_drops_more_than_the_fraction_removes_nothing_and_says_why() -> None:
    decision = decide_removal(listed("a", "b", "c", "d"), ["a"], max_removal_fraction=0.5)
    assert decision.removed_ids == ()
    assert decision.kept_ids == (2, 3, 4)
    assert decision.refused is not None
    assert "lists 1 repositories where it listed 4" in decision.refused
    assert "sync.max_removal_fraction (0.5)" in decision.refused


def test_an_empty_listing_removes_nothing() -> None:
    decision = decide_removal(listed("a", "b"), [], max_removal_fraction=0.5)
    assert decision.removed_ids == ()
    assert decision.kept_ids == (1, 2)
    assert decision.refused is not None


def test_a_listing_with_nothing_gone_refuses_nothing() -> None:
    assert decide_removal(listed("a"), ["a", "new"], max_removal_fraction=0.0) == decide_removal(
        [], [], max_removal_fraction=0.0
    )


def test_a_listing_with_an_entry_it_could_not_read_removes_and_misses_nothing() -> None:
    previous = [*listed("a", "b", "c"), ListedRepository(4, "d", missed=1)]
    decision = decide_removal(
        previous,
        ["a"],
        max_removal_fraction=1.0,
        removal_listings=2,
        retired_keys=["c"],
        skipped_entries=["repository 7 has no valid full_name", "another"],
    )
    assert decision.removed_ids == (3,)  # the host said it was archived: that needs no complete listing
    assert decision.kept_ids == (2, 4)
    assert decision.missed_ids == ()
    assert decision.refused is not None
    assert "2 entries of the listing could not be read" in decision.refused
    assert "(first: repository 7 has no valid full_name)" in decision.refused
    assert "nothing is removed" in decision.refused


def test_a_listing_beside_another_counts_no_missed_listing_but_applies_what_the_host_said() -> None:
    previous = [ListedRepository(1, "a"), ListedRepository(2, "b", missed=1), ListedRepository(3, "c")]
    alone = decide_removal(previous, ["a"], max_removal_fraction=1.0, removal_listings=2, retired_keys=["c"])
    assert (alone.removed_ids, alone.missed_ids) == ((3, 2), ())
    beside = decide_removal(
        previous, ["a"], max_removal_fraction=1.0, removal_listings=2, retired_keys=["c"], beside_another=True
    )
    assert (beside.removed_ids, beside.missed_ids, beside.refused) == ((3,), (), None)


def test_expiry_picks_only_orphans_past_their_grace_period() -> None:
    orphans = [
        OrphanRow(1, NOW - timedelta(days=8)),
        OrphanRow(2, NOW - timedelta(days=7)),
        OrphanRow(3, NOW - timedelta(days=6, hours=23)),
    ]
    assert expired_orphans(orphans, now=NOW, grace_seconds=7 * 86400) == [1, 2]
    assert expired_orphans(orphans, now=NOW, grace_seconds=30 * 86400) == []


def test_two_repositories_new_in_one_pass_rank_by_repository_id() -> None:
    pay = product("pay")
    files = [ParsedFile("catalog-info.yaml", [doc(pay)])]
    since = NOW - timedelta(minutes=1)
    younger = replace(known(pay, id_=9, repo=2), created_at=NOW)  # written earlier in this pass
    older = replace(known(pay, id_=9, repo=0), created_at=NOW)

    def decide(other: KnownEntity):
        return plan(files, others={pay.ref.key: other}, contested_since=since)

    taken = decide(younger)
    assert [w.existing_id for w in taken.writes] == [9]
    assert taken.taken_from == {2}
    kept = decide(older)
    assert kept.writes == []
    assert kept.conflicts == 1
    assert "defined it first keeps it" in kept.problems[0].problem.message
    established = decide(replace(younger, created_at=since - timedelta(days=1)))
    assert established.writes == []
    assert established.conflicts == 1


def test_a_hosted_source_keeps_a_repository_missing_from_one_listing_and_counts_it() -> None:
    decision = decide_removal(
        listed("a", "b", "c", "d"), ["a", "b", "c"], max_removal_fraction=0.5, removal_listings=2
    )
    assert decision.removed_ids == ()
    assert decision.missed_ids == (4,)
    assert decision.refused is None


def test_a_hosted_source_removes_a_repository_missing_from_two_listings() -> None:
    previous = [*listed("a", "b", "c"), ListedRepository(4, "d", missed=1)]
    decision = decide_removal(previous, ["a", "b", "c"], max_removal_fraction=0.5, removal_listings=2)
    assert decision.removed_ids == (4,)
    assert decision.missed_ids == ()


def test_a_mass_disappearance_over_two_listings_is_still_refused() -> None:
    previous = [ListedRepository(1, "a"), *(ListedRepository(i, f"r{i}", missed=1) for i in range(2, 6))]
    decision = decide_removal(previous, ["a"], max_removal_fraction=0.5, removal_listings=2)
    assert decision.removed_ids == ()
    assert decision.kept_ids == (2, 3, 4, 5)
    assert decision.refused is not None
    assert "sync.max_removal_fraction" in decision.refused


def test_a_retired_repository_is_removed_at_once_whatever_the_count() -> None:
    decision = decide_removal(
        listed("a", "b"), ["b"], max_removal_fraction=0.0, removal_listings=2, retired_keys=["a"]
    )
    assert decision.removed_ids == (1,)
    assert decision.missed_ids == ()
    assert decision.refused is None
