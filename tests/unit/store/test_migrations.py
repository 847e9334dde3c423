"""The migrations create exactly the declared schema, on both databases, and can run any number of times."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from catalog_sync.store.engine import open_engine
from catalog_sync.store.migrate import current_revision, head_revision, upgrade
from catalog_sync.store.schema_version import HEAD_REVISION, stored_revision
from catalog_sync.store.tables import metadata
from tests.fixtures.postgres import PostgresCluster, create_database, drop_database


def _differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def test_migrated_schema_equals_the_declared_tables(store_engine: Engine) -> None:
    assert _differences(store_engine) == []
    assert current_revision(store_engine) == head_revision()


def test_upgrading_twice_changes_nothing(store_engine: Engine) -> None:
    upgrade(store_engine)
    upgrade(store_engine)
    assert _differences(store_engine) == []
    assert current_revision(store_engine) == head_revision()


def test_an_empty_sqlite_file_is_created_and_migrated(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'nested' / 'folder' / 'catalog.db'}")
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert set(inspect(engine).get_table_names()) >= set(metadata.tables)
    assert _differences(engine) == []
    engine.dispose()


@pytest.mark.postgres
def test_an_empty_postgres_database_is_migrated(postgres_cluster: PostgresCluster) -> None:
    url = create_database(postgres_cluster, template=None)
    engine = open_engine(url)
    try:
        assert current_revision(engine) is None
        upgrade(engine)
        assert _differences(engine) == []
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()
        drop_database(postgres_cluster, url)


def test_concurrent_upgrades_of_one_sqlite_file_both_succeed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    errors: list[BaseException] = []

    def run() -> None:
        engine = open_engine(url)
        try:
            upgrade(engine)
        except BaseException as exc:
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    engine = open_engine(url)
    assert _differences(engine) == []
    engine.dispose()


@pytest.mark.postgres
def test_postgres_knows_that_search_keys_and_values_go_together(pg_engine: Engine) -> None:
    with pg_engine.connect() as connection:
        names = set(connection.execute(text("SELECT stxname FROM pg_statistic_ext")).scalars())
    assert "st_search_key_value" in names


def test_the_expected_revision_is_alembics_head_and_is_read_without_alembic(sqlite_engine: Engine) -> None:
    assert head_revision() == HEAD_REVISION
    assert stored_revision(sqlite_engine) == HEAD_REVISION
    assert stored_revision(open_engine("sqlite://")) is None


def test_an_upgrade_to_0003_counts_what_was_scored_before(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'catalog.db'}")
    upgrade(engine, "0002_scoring")
    subjects = [
        (
            "product",
            True,
            "team:default/pay",
            '["capability:default/checkout", "capability:default/checkout"]',
        ),
        ("component", True, "team:default/web", '["capability:default/checkout"]'),
        ("product", False, "team:default/web", '["capability:default/checkout"]'),  # orphaned
        ("product", True, "", '["capability:default/search"]'),  # no team owner
        ("system", True, "team:default/web", '["capability:default/search"]'),  # serves nothing itself
    ]
    with engine.begin() as conn:
        for number, (kind, live, owner, capabilities) in enumerate(subjects, start=1):
            conn.execute(
                text(
                    "INSERT INTO scoring_subjects (entity_id, ref_key, kind, etag, live, owner, tier,"
                    " capabilities, runbooks_manual, runbooks_automated, tallies)"
                    " VALUES (:id, :ref, :kind, 'e', :live, :owner, 'none', :caps, 0, 0, '[]')"
                ),
                {"id": number, "ref": f"{kind}:default/e{number}", "kind": kind, "live": live, "owner": owner,
                 "caps": capabilities},
            )  # fmt: skip
    upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT capability, owner, products FROM scoring_capabilities")).all()
    engine.dispose()
    assert sorted(tuple(row) for row in rows) == [
        ("capability:default/checkout", "team:default/pay", 1),
        ("capability:default/checkout", "team:default/web", 1),
    ]


def test_an_upgrade_to_0012_counts_the_debt_already_stored(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'catalog.db'}")
    upgrade(engine, "0006_source_read_rules")
    bodies = {
        1: '{"spec": {"techDebt": [{"severity": "high"}, {"severity": "high"},'
        ' {"severity": "low"}, {"x": 1}]}}',
        2: '{"spec": {"techDebt": "not a list"}}',
        3: '{"spec": {}}',
    }
    with engine.begin() as conn:
        for number, body in bodies.items():
            conn.execute(
                text(
                    "INSERT INTO entities (id, uid, ref_key, kind, namespace, name, body, content_hash, etag,"
                    " search_text, created_at, updated_at) VALUES (:id, :uid, :ref, 'product', 'default',"
                    " :name, :body, 'h', 'e', '', '2026-01-01', '2026-01-01')"
                ),
                {"id": number, "uid": f"u{number}", "ref": f"product:default/p{number}", "name": f"p{number}",
                 "body": body},
            )  # fmt: skip
            conn.execute(
                text(
                    "INSERT INTO scoring_subjects (entity_id, ref_key, kind, etag, live, owner, tier,"
                    " capabilities, runbooks_manual, runbooks_automated, tallies)"
                    " VALUES (:id, :ref, 'product', 'e', 1, '', 'none', '[]', 0, 0, '[]')"
                ),
                {"id": number, "ref": f"product:default/p{number}"},
            )
    upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT entity_id, debt_low, debt_medium, debt_high, debt_critical FROM scoring_subjects")
        ).all()
    engine.dispose()
    assert sorted(tuple(row) for row in rows) == [(1, 1, 0, 2, 0), (2, 0, 0, 0, 0), (3, 0, 0, 0, 0)]


def test_an_upgrade_to_0015_drops_the_default_port_from_the_keys_of_hosted_sources(tmp_path: Path) -> None:
    """A source written ``https://ghe.example.com:443/api/v3`` keyed its repositories with the port;
    its API URL is now read without it, and its keys follow, so no repository is found anew."""
    engine = open_engine(f"sqlite:///{tmp_path / 'catalog.db'}")
    upgrade(engine, "0014_listing_requests")
    sources = {
        1: ("github", "https://ghe.example.com:443/api/v3/orgs/acme"),
        2: ("gitlab", "http://gl.example.com:80/api/v4/groups/acme"),
        3: ("github", "https://ghe.example.com:8443/api/v3/orgs/acme"),  # not a default port
        4: ("git", "https://git.example.com:443/acme/pay.git"),  # keys of its own
        5: ("github", "HTTPS://GHE.Example.com:0443/api/v3/orgs/beta"),  # keyed with the port as written
        6: ("gitlab", "https://GL.example.com:0443/api/v4/groups/beta"),  # keyed with the port as a number
    }
    keys = [
        (1, "github:ghe.example.com:443:7"),
        (1, "github:ghe.example.com:443:8"),
        (1, "github:ghe.example.com:8"),  # its new form already held: left as it is
        (2, "gitlab:gl.example.com:80:9"),
        (3, "github:ghe.example.com:8443:7"),
        (4, "https://git.example.com:443/acme/pay.git"),
        (5, "github:ghe.example.com:0443:11"),
        (6, "gitlab:gl.example.com:443:12"),
    ]
    with engine.begin() as conn:
        for number, (kind, target) in sources.items():
            conn.execute(
                text("INSERT INTO sources (id, name, type, target) VALUES (:id, :name, :type, :target)"),
                {"id": number, "name": f"s{number}", "type": kind, "target": target},
            )
        for number, (source, key) in enumerate(keys, start=1):
            conn.execute(
                text(
                    "INSERT INTO repositories (id, source_id, key, name, url, state, failures, rescan)"
                    " VALUES (:id, :source, :key, :key, :key, 'ok', 0, 0)"
                ),
                {"id": number, "source": source, "key": key},
            )
    upgrade(engine)
    with engine.connect() as conn:
        stored = [row.key for row in conn.execute(text("SELECT key FROM repositories ORDER BY id"))]
    engine.dispose()
    assert stored == [
        "github:ghe.example.com:7",
        "github:ghe.example.com:443:8",
        "github:ghe.example.com:8",
        "gitlab:gl.example.com:9",
        "github:ghe.example.com:8443:7",
        "https://git.example.com:443/acme/pay.git",
        "github:ghe.example.com:11",
        "gitlab:gl.example.com:12",
    ]


Row = tuple[int, str, str, str | None]
"""A repository stored before a migration: its source (1 gitlab, 2 github, 3 git), key, URL and when
it was removed (None: still held)."""


def marked_by(tmp_path: Path, before: str, after: str, rows: list[Row]) -> list[tuple[bool, bool]]:
    """``rows`` stored at the migration ``before``, then the database upgraded to ``after``: whether
    each repository is marked to be read again (``rescan``) and due at once."""
    engine = open_engine(f"sqlite:///{tmp_path / 'catalog.db'}")
    upgrade(engine, before)
    with engine.begin() as conn:
        for number, kind in ((1, "gitlab"), (2, "github"), (3, "git")):
            conn.execute(
                text("INSERT INTO sources (id, name, type, target) VALUES (:id, :name, :type, '')"),
                {"id": number, "name": f"s{number}", "type": kind},
            )
        for number, (source, key, url, removed) in enumerate(rows, start=1):
            conn.execute(
                text(
                    "INSERT INTO repositories (id, source_id, key, name, url, state, failures, rescan,"
                    " next_sync_at, removed_at) VALUES (:id, :source, :key, :key, :url, 'ok', 0, 0,"
                    " '2026-12-04 00:00:00', :removed)"
                ),
                {"id": number, "source": source, "key": key, "url": url, "removed": removed},
            )
    upgrade(engine, after)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT rescan, next_sync_at FROM repositories ORDER BY id")).all()
    engine.dispose()
    return [(bool(row.rescan), row.next_sync_at is None) for row in stored]


READ_AGAIN, LEFT = (True, True), (False, False)


def test_an_upgrade_to_0016_reads_every_gitlab_project_again(tmp_path: Path) -> None:
    """Entities stored before link a GitLab file as ``<project>/blob/...``, which GitLab 16 answers
    with a 404: their projects are read again at the next pass, at any commit, so the links follow."""
    rows: list[Row] = [
        (1, "gitlab:gl.example.com:9", "https://gl.example.com/acme/pay", None),
        (1, "gitlab:gl.example.com:10", "https://gl.example.com/acme/old", "2026-01-01 00:00:00"),  # removed
        (2, "github:ghe.example.com:7", "https://ghe.example.com/acme/pay", None),
        (3, "https://gitlab.example.com/acme/pay.git", "https://gitlab.example.com/acme/pay.git", None),
    ]
    assert marked_by(tmp_path, "0015_default_ports", "0016_gitlab_locations", rows) == [
        READ_AGAIN,
        LEFT,
        LEFT,
        LEFT,  # registered: linked as it always was
    ]


def test_an_upgrade_to_0017_reads_every_repository_named_by_an_http_clone_url_again(tmp_path: Path) -> None:
    """Entities stored before link a file of ``https://host/acme/pay.git`` as ``pay.git/blob/...``:
    those repositories are read again at the next pass, so the links drop the ``.git``."""
    urls = [
        ("https://github.example.com/acme/pay.git", None),
        ("HTTP://git.example.com/acme/cart.GIT/", None),
        ("https://github.example.com/acme/old.git", "2026-01-01 00:00:00"),  # removed
        ("https://github.example.com/acme/web", None),  # linked as it always was
        ("ssh://git@github.example.com/acme/ops.git", None),  # no web page to link
        ("/srv/git/pay.git", None),  # a local path
    ]
    rows: list[Row] = [(3, url, url, removed) for url, removed in urls]
    marked = marked_by(tmp_path, "0016_gitlab_locations", "0017_clone_url_locations", rows)
    assert marked == [READ_AGAIN, READ_AGAIN, LEFT, LEFT, LEFT, LEFT]


def test_an_upgrade_to_0018_reads_every_repository_on_gitlab_com_named_by_its_url_again(
    tmp_path: Path,
) -> None:
    """Entities stored before link a file of a registered ``https://gitlab.com/acme/pay`` as
    ``pay/blob/...``, a route GitLab no longer serves: read again, they link ``pay/-/blob/...``."""
    rows: list[Row] = [
        (3, "https://gitlab.com/acme/pay", "https://gitlab.com/acme/pay", None),
        (3, "HTTPS://GitLab.com/acme/cart.git", "HTTPS://GitLab.com/acme/cart.git", None),
        (1, "gitlab:gitlab.com:7", "https://gitlab.com/acme/web", None),  # a gitlab source's: linked so
        (3, "https://gitlab.com/acme/old", "https://gitlab.com/acme/old", "2026-01-01 00:00:00"),  # removed
        (3, "https://gitlab.example.com/acme/pay", "https://gitlab.example.com/acme/pay", None),
        (3, "git@gitlab.com:acme/ops.git", "git@gitlab.com:acme/ops.git", None),  # no web page to link
        (3, "https://gitlab.com/acme/api", "https://alice@gitlab.com/acme/api.git", None),  # a user name kept
        (3, "https://gitlab.com:443/acme/db", "https://gitlab.com:443/acme/db", None),
    ]
    assert marked_by(tmp_path, "0017_clone_url_locations", "0018_gitlab_com_locations", rows) == [
        READ_AGAIN,
        READ_AGAIN,
        LEFT,
        LEFT,
        LEFT,
        LEFT,
        READ_AGAIN,
        READ_AGAIN,
    ]
