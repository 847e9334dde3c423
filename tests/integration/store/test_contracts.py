"""One round-trip suite over the store's protocols, run against SQLite and a real PostgreSQL.

Whatever implements ``CatalogReads``, ``Administration`` and ``MetricsReads`` must give these answers;
the catalog is built for real (git repositories, a sync pass) and read back through the protocols.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from catalog_sync.errors import ConflictError, NotFoundError, ProtocolNotAllowedError, SourceError
from catalog_sync.store.base import Database
from catalog_sync.store.stores import Stores, open_stores
from tests.integration.conftest import Catalog, product_yaml

GROUP = (
    "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: payments}\n"
    "spec: {type: team, children: []}\n"
)
TEAM = "apiVersion: catalog/v1\nkind: Team\nmetadata: {name: payments}\n"
URL = "https://git.example.com/acme/cart.git"
NOW = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
ALLOWED = ("https", "ssh", "file")


@pytest.fixture
def stores(catalog: Catalog) -> Stores:
    """The protocols over the catalog's database (SQLite or PostgreSQL)."""
    return open_stores(Database(catalog.engine))


def test_a_registered_repository_is_listed_and_read_back(stores: Stores, catalog: Catalog) -> None:
    registration = stores.administration.register_repository(URL, "main", allowed_protocols=ALLOWED, now=NOW)

    with Database(catalog.engine).reading() as tx:
        page = stores.catalog.list_repositories(
            source="registered", state=None, after_id=None, limit=10, connection=tx
        )
        record = stores.catalog.get_repository(registration.id, connection=tx)
        sources = stores.catalog.list_sources((), connection=tx)
    assert [item.id for item in page.items] == [registration.id]
    assert (record.url, record.branch, record.state, record.source) == (URL, "main", "pending", "registered")
    assert record.next_sync_at == NOW
    assert [(s.name, s.repositories, s.states["pending"]) for s in sources] == [("registered", 1, 1)]


def test_registering_twice_or_with_credentials_or_a_local_path_is_refused(stores: Stores) -> None:
    admin = stores.administration
    admin.register_repository(URL, None, allowed_protocols=ALLOWED, now=NOW)
    with pytest.raises(ConflictError, match="already registered"):
        admin.register_repository(URL, None, allowed_protocols=ALLOWED, now=NOW)
    with pytest.raises(SourceError, match="credentials"):
        admin.register_repository(
            "https://user:s3cret@git.example.com/x.git", None, allowed_protocols=ALLOWED, now=NOW
        )
    with pytest.raises(ProtocolNotAllowedError):
        admin.register_repository("file:///srv/repos/x", None, allowed_protocols=ALLOWED, now=NOW)
    with pytest.raises(SourceError, match="branch"):
        admin.register_repository(URL + "2", "-evil", allowed_protocols=ALLOWED, now=NOW)


def test_scheduling_makes_repositories_due_now(stores: Stores, catalog: Catalog) -> None:
    catalog.repo("pay", {"catalog-info.yaml": product_yaml("pay")})
    catalog.sync()
    repository_id = int(catalog.repository("pay")["id"])

    stores.administration.schedule_repository(repository_id, NOW)
    with Database(catalog.engine).reading() as tx:
        assert stores.catalog.get_repository(repository_id, connection=tx).next_sync_at == NOW
    assert bool(catalog.repository("pay")["rescan"]) is True
    assert stores.administration.schedule_all(NOW) == 1
    assert stores.administration.refresh_entity("product:default/pay", NOW) == repository_id
    with pytest.raises(NotFoundError):
        stores.administration.schedule_repository(repository_id + 1000, NOW)
    with pytest.raises(NotFoundError):
        stores.administration.refresh_entity("product:default/nothing", NOW)


def test_deleting_an_orphan_re_points_what_named_it(stores: Stores, catalog: Catalog) -> None:
    catalog.repo("pay", {"catalog-info.yaml": product_yaml("pay")})
    catalog.repo("platform", {"catalog-info.yaml": GROUP})
    catalog.sync()
    catalog.repo("platform", {"catalog-info.yaml": TEAM})
    catalog.sync()
    assert ("ownedBy", "group:default/payments") in catalog.relations_of("product:default/pay")
    group = catalog.entity("group:default/payments")
    assert group is not None
    assert group["orphaned_at"] is not None

    stores.administration.delete_orphan(group["uid"])

    assert catalog.entity("group:default/payments") is None
    assert ("ownedBy", "team:default/payments") in catalog.relations_of("product:default/pay")
    assert ("ownedBy", "group:default/payments") not in catalog.relations_of("product:default/pay")
    with pytest.raises(NotFoundError):
        stores.administration.delete_orphan(group["uid"])


def test_an_entity_whose_descriptor_exists_is_not_an_orphan(stores: Stores, catalog: Catalog) -> None:
    catalog.repo("pay", {"catalog-info.yaml": product_yaml("pay")})
    catalog.sync()
    found = catalog.entity("product:default/pay")
    assert found is not None

    with pytest.raises(ConflictError, match="not an orphan"):
        stores.administration.delete_orphan(found["uid"])
    assert catalog.entity("product:default/pay") is not None


def test_entities_are_read_by_ref_uid_refs_query_and_facets(stores: Stores, catalog: Catalog) -> None:
    catalog.repo("pay", {"catalog-info.yaml": product_yaml("pay")})
    catalog.repo("platform", {"catalog-info.yaml": GROUP})
    catalog.sync()
    reads = stores.catalog
    with Database(catalog.engine).reading() as tx:
        by_ref = reads.get_by_ref("Product:default/PAY", connection=tx)
        assert by_ref is not None
        by_uid = reads.get_by_uid(by_ref.to_entity_dict()["metadata"]["uid"], connection=tx)
        assert by_uid is not None
        assert by_uid.to_entity_dict() == by_ref.to_entity_dict()
        refs = reads.get_by_refs(["group:default/payments", "product:default/none"], connection=tx)
        assert [e.to_entity_dict()["kind"] if e else None for e in refs] == ["Group", None]
        page = reads.query_entities(fields=["metadata.name"], limit=1, connection=tx)
        assert page.total_items == 2
        assert len(page.items) == 1
        assert page.next_cursor
        rest = reads.query_entities(cursor=page.next_cursor, limit=1, connection=tx)
        assert {page.items[0]["metadata"]["name"], rest.items[0]["metadata"]["name"]} == {"pay", "payments"}
        assert dict(reads.facets(["kind"], connection=tx)["kind"]) == {"Group": 1, "Product": 1}
        locations = reads.list_locations(connection=tx)
        assert len(locations) == 2
        assert reads.get_location(locations[0].id, connection=tx) == locations[0]
        assert reads.list_sync_runs(before_id=None, limit=5, connection=tx).total_items == 1
        documents = list(reads.iter_documents(excluded=("group",), connection=tx))
        assert [d["metadata"]["name"] for d in documents] == ["pay"]
        assert reads.ref_keys_of_kinds(["group"], connection=tx) == ["group:default/payments"]


def test_metrics_reads_count_what_the_catalog_holds(stores: Stores, catalog: Catalog) -> None:
    catalog.repo("pay", {"catalog-info.yaml": product_yaml("pay")})
    catalog.repo("platform", {"catalog-info.yaml": GROUP})
    catalog.sync()
    with stores.metrics.reading() as tx:
        assert sorted(stores.metrics.entity_counts(tx), key=str) == sorted(
            [("group", None, 1), ("product", "production", 1)], key=str
        )
        assert stores.metrics.repository_counts(tx) == {"ok": 2}
        assert stores.metrics.problem_count(tx, "descriptor", "error") == 0
        assert stores.metrics.source_listings(tx) == {"fleet": True}
        last = stores.metrics.last_success(tx)
        assert last is not None
        assert last.tzinfo is not None


def test_registrations_at_once_never_pass_the_limit(stores: Stores) -> None:
    def register(number: int) -> str:
        url = f"https://git.example.com/acme/r{number}.git"
        try:
            stores.administration.register_repository(
                url, None, allowed_protocols=ALLOWED, now=NOW, max_registered=3
            )
        except ConflictError:
            return "refused"
        return "registered"

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(register, range(16)))

    assert results.count("registered") == 3
    assert results.count("refused") == 13
