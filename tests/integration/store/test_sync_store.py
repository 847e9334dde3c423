"""The ``SyncStore`` contract, on SQLite and on PostgreSQL: what a sync pass relies on the store for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text

from catalog_sync.descriptors.problems import Problem
from catalog_sync.model import Entity
from catalog_sync.plans import EntityWrite, OrphanRow, Plan, ProblemRow, RemovalDecision
from catalog_sync.reconcile import decide_removal, prepare
from catalog_sync.sources.base import RepositoryInfo
from catalog_sync.store.sync_sql import SqlSyncStore
from catalog_sync.store.sync_store import NO_COMMIT, UnmovedCandidate
from catalog_sync.store.tables import sources
from tests.fixtures.syncstore import sync_store

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
SECRET_URL = "https://robot:s3cr3t-pass@git.example.com/acme/pay.git"
GITHUB_TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4"
FAILURE = f"git ls-remote {SECRET_URL} failed; header Authorization: token {GITHUB_TOKEN}"


def info(key: str) -> RepositoryInfo:
    return RepositoryInfo(key=key, name=key, url=f"https://git.example.com/acme/{key}.git", branch="main")


def add_source(store: SqlSyncStore, keys: list[str], target: str = "https://git.example.com/acme") -> int:
    with store.transaction() as tx:
        source_id = store.ensure_source(tx, "fleet", "git", target)
        store.record_discovery(tx, source_id, [info(k) for k in keys], RemovalDecision(), now=NOW)
    return source_id


def ids_by_key(store: SqlSyncStore, source_id: int) -> dict[str, int]:
    with store.transaction() as tx:
        return {r.key: r.id for r in store.listed_repositories(tx, source_id)}


def dump(engine: Engine) -> str:
    with engine.connect() as conn:
        return "\n".join(
            str(tuple(row))
            for table in ("sources", "repositories", "problems", "sync_runs")
            for row in conn.execute(text(f"SELECT * FROM {table}"))
        )


def test_every_stored_failure_text_comes_back_without_credentials(store_engine: Engine) -> None:
    store = sync_store(store_engine)
    source_id = add_source(store, ["pay", "cart"], target=SECRET_URL)
    ids = ids_by_key(store, source_id)
    with store.transaction() as tx:
        store.record_failures(tx, [(ids["pay"], FAILURE)], NOW, 300)
        store.record_source_failure(tx, source_id, FAILURE, NOW)
        problem = Problem(path="catalog-info.yaml", severity="error", message=FAILURE)
        plan = Plan(repository_id=ids["cart"], commit="c0ffee", problems=[ProblemRow("descriptor", problem)])
        store.apply_plans(tx, [plan], now=NOW, interval_seconds=300, exists=lambda _ref: False)
    run_id = store.start_run("w1", NOW)
    store.finish_run(run_id, now=NOW, result="failed", counts={}, duration=1.0, message=FAILURE)
    stored = dump(store_engine)
    assert "s3cr3t-pass" not in stored
    assert GITHUB_TOKEN not in stored
    assert stored.count("https://robot:***@git.example.com/acme/pay.git") >= 4  # each text is kept, redacted


def test_a_refused_removal_keeps_the_repositories_and_says_why_on_each(store_engine: Engine) -> None:
    store = sync_store(store_engine)
    source_id = add_source(store, ["a", "b", "c"])
    with store.transaction() as tx:
        decision = decide_removal(store.listed_repositories(tx, source_id), ["a"], max_removal_fraction=0.5)
        store.record_discovery(tx, source_id, [info("a")], decision, now=NOW)
    assert set(ids_by_key(store, source_id)) == {"a", "b", "c"}
    with store_engine.connect() as conn:
        removal = (
            conn.execute(text("SELECT message FROM problems WHERE category = 'removal'")).scalars().all()
        )
        error = conn.execute(sources.select().where(sources.c.id == source_id)).one().last_error
    assert len(removal) == 2
    assert error == decision.refused
    with store.transaction() as tx:
        store.record_discovery(tx, source_id, [info(k) for k in "abc"], RemovalDecision(), now=NOW)
    with store_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM problems")).scalar_one() == 0


def test_a_claimed_repository_is_not_claimed_by_another_worker_until_its_lease_lapses(
    store_engine: Engine,
) -> None:
    store = sync_store(store_engine)
    source_id = add_source(store, ["pay"])
    with store.transaction() as tx:
        first = store.claim_due(tx, "w1", now=NOW, lease_seconds=60, limit=10, source_ids=[source_id])
    with store.transaction() as tx:
        assert store.claim_due(tx, "w2", now=NOW, lease_seconds=60, limit=10, source_ids=[source_id]) == []
    later = NOW + timedelta(seconds=61)
    with store.transaction() as tx:
        second = store.claim_due(tx, "w2", now=later, lease_seconds=60, limit=10, source_ids=[source_id])
        assert store.hold(tx, "w1", [first[0].id], now=later, lease_seconds=60) == set()
    assert [c.id for c in first] == [c.id for c in second]


def test_make_due_makes_one_repository_due_now_for_a_full_read(store_engine: Engine) -> None:
    store = sync_store(store_engine)
    source_id = add_source(store, ["pay", "cart"])
    ids = ids_by_key(store, source_id)
    with store.transaction() as tx:
        store.claim_due(tx, "w1", now=NOW, lease_seconds=60, limit=10, source_ids=[source_id])
        store.record_unchanged(tx, list(ids.values()), NOW, 300)
    assert store.make_due(ids["pay"], now=NOW + timedelta(seconds=1))
    assert not store.make_due(999_999, now=NOW)
    with store.transaction() as tx:
        due = store.claim_due(
            tx, "w1", now=NOW + timedelta(seconds=2), lease_seconds=60, limit=10, source_ids=[source_id]
        )
    assert [(c.key, c.rescan) for c in due] == [("pay", True)]


def test_an_orphan_is_listed_with_its_time_and_deleted_by_id(store_engine: Engine) -> None:
    store = sync_store(store_engine)
    source_id = add_source(store, ["platform"])
    rid = ids_by_key(store, source_id)["platform"]
    group = Entity("backstage.io/v1alpha1", "Group", {"name": "payments"}, {"type": "team", "children": []})
    write = EntityWrite(prepare(group, "url:x"), "catalog-info.yaml", 1, None, None)
    with store.transaction() as tx:
        store.apply_plans(
            tx, [Plan(rid, "c1", writes=[write])], now=NOW, interval_seconds=300, exists=lambda _: False
        )
        own, _ = store.load_known(tx, [rid], [])
    entity_id = own[rid]["group:default/payments"].id
    with store.transaction() as tx:
        store.apply_plans(
            tx,
            [Plan(rid, "c2", orphan_ids=[entity_id])],
            now=NOW,
            interval_seconds=300,
            exists=lambda _: False,
        )
    with store.transaction() as tx:
        assert store.list_orphans(tx) == [OrphanRow(entity_id, NOW)]
        assert store.delete_orphans(tx, [entity_id, 999_999]) == 1
    with store.transaction() as tx:
        assert store.list_orphans(tx) == []
    assert "group:default/payments" not in store.catalog_ref_keys()


def test_missed_listings_are_counted_and_a_listing_that_has_it_again_starts_over(
    store_engine: Engine,
) -> None:
    store = sync_store(store_engine)
    source_id = add_source(store, ["github:h:1", "github:h:2", "github:h:3"])
    for expected in (1, 0):
        with store.transaction() as tx:
            previous = store.listed_repositories(tx, source_id)
            keys = ["github:h:1", "github:h:2"] if expected else ["github:h:1", "github:h:2", "github:h:3"]
            decision = decide_removal(previous, keys, max_removal_fraction=0.5, removal_listings=2)
            store.record_discovery(tx, source_id, [info(k) for k in keys], decision, now=NOW)
        with store.transaction() as tx:
            missed = {r.key: r.missed for r in store.listed_repositories(tx, source_id)}
        assert missed == {"github:h:1": 0, "github:h:2": 0, "github:h:3": expected}


def test_a_hosted_repository_listed_by_another_source_moves_there_once_its_first_source_missed_it(
    store_engine: Engine,
) -> None:
    store = sync_store(store_engine)
    first = add_source(store, ["github:h:1", "github:h:2", "github:h:3"])
    with store.transaction() as tx:
        second = store.ensure_source(tx, "other", "github", "https://h/orgs/other")
        store.record_discovery(tx, second, [info("github:h:1")], RemovalDecision(), now=NOW)
    assert ids_by_key(store, second) == {}  # its first source still lists it: not held twice
    moved_id = ids_by_key(store, first)["github:h:1"]
    with store.transaction() as tx:
        previous = store.listed_repositories(tx, first)
        decision = decide_removal(
            previous, ["github:h:2", "github:h:3"], max_removal_fraction=0.5, removal_listings=2
        )
        store.record_discovery(tx, first, [info("github:h:2"), info("github:h:3")], decision, now=NOW)
        store.record_discovery(tx, second, [info("github:h:1")], RemovalDecision(), now=NOW)
    assert ids_by_key(store, second) == {"github:h:1": moved_id}
    assert "github:h:1" not in ids_by_key(store, first)


def test_only_an_unmoved_repository_in_good_standing_is_recorded_without_a_claim(
    store_engine: Engine,
) -> None:
    store = sync_store(store_engine)
    source_id = add_source(
        store, ["calm", "moved", "flagged", "held", "failing", "pushed", "empty", "filled"]
    )
    ids = ids_by_key(store, source_id)
    with store.transaction() as tx:
        store.claim_due(tx, "w1", now=NOW, lease_seconds=60, limit=10, source_ids=[source_id])
        plans = [Plan(repository_id=rid, commit="c1") for rid in ids.values()]
        store.apply_plans(tx, plans, now=NOW, interval_seconds=300, exists=lambda _ref: False)
    due = NOW + timedelta(seconds=301)
    assert store.make_due(ids["flagged"], now=NOW)
    with store.transaction() as tx:
        store.record_failures(tx, [(ids["failing"], "the host did not answer")], NOW, 1)
    with store_engine.begin() as conn:
        conn.execute(
            text("UPDATE repositories SET pushed_commit = 'c2' WHERE id = :id"), {"id": ids["pushed"]}
        )
        for read_as_empty in ("empty", "filled"):  # read as having no commit yet
            conn.execute(
                text("UPDATE repositories SET last_commit = NULL WHERE id = :id"), {"id": ids[read_as_empty]}
            )
        conn.execute(
            text("UPDATE repositories SET claimed_by = 'w2', claim_expires_at = :until WHERE id = :id"),
            {"id": ids["held"], "until": due + timedelta(seconds=60)},
        )
    asked: list[str] = []

    def tip_of(candidate: UnmovedCandidate) -> str | None:
        asked.append(candidate.key)
        # "empty" is still empty (NO_COMMIT), "filled" got its first commit.
        return {"calm": "c1", "moved": "c9", "empty": NO_COMMIT, "filled": "c3"}.get(candidate.key, "c1")

    with store.transaction() as tx:
        recorded = store.record_unmoved(
            tx, "w1", tip_of, now=due, interval_seconds=300, source_ids=[source_id], started_before=None
        )
    # Only those in good standing with nothing else asked; an empty one still empty costs no claim.
    assert sorted(asked) == ["calm", "empty", "filled", "moved"]
    assert recorded == 2
    with store_engine.connect() as conn:
        rows = {
            r.key: r
            for r in conn.execute(
                text("SELECT key, last_sync_at, next_sync_at, claimed_by, state FROM repositories")
            )
        }
    for settled in ("calm", "empty"):
        assert str(rows[settled].next_sync_at)[:19] == str(due + timedelta(seconds=300))[:19]
    assert all(str(rows[k].last_sync_at)[:19] != str(due)[:19] for k in rows if k not in ("calm", "empty"))
    assert rows["held"].claimed_by == "w2"
    asked.clear()
    with store.transaction() as tx:
        again = store.record_unmoved(
            tx, "w1", tip_of, now=due, interval_seconds=300, source_ids=[source_id], started_before=None
        )
    assert (again, sorted(asked)) == (0, ["filled", "moved"])  # those recorded are not due yet


def test_a_listing_is_beside_another_exactly_when_the_stored_mark_changed_since_its_start(
    store_engine: Engine,
) -> None:
    store = sync_store(store_engine)
    with store.transaction() as tx:
        source_id = store.ensure_source(tx, "fleet", "git", "https://git.example.com/acme")
        assert store.last_listed(tx, source_id) is None  # never listed
        assert not store.listed_beside(tx, source_id, None)
    # Recorded with a host clock far from any other: the mark comes back exactly as written.
    odd = datetime(2026, 11, 1, 12, 0, 0, 123457, tzinfo=UTC) + timedelta(hours=5)
    with store.transaction() as tx:
        store.record_discovery(tx, source_id, [info("pay")], RemovalDecision(), now=odd)
    with store.transaction() as tx:
        seen = store.last_listed(tx, source_id)
    assert seen == odd
    with store.transaction() as tx:
        store.record_source_failure(tx, source_id, "the host answered 502", NOW)  # no listing recorded
    with store.transaction() as tx:
        assert not store.listed_beside(tx, source_id, seen)
    with store.transaction() as tx:  # another worker, its clock behind: still a listing meanwhile
        store.record_discovery(tx, source_id, [info("pay")], RemovalDecision(), now=NOW - timedelta(hours=1))
    with store.transaction() as tx:
        assert store.listed_beside(tx, source_id, seen)
