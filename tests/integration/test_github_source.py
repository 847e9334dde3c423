"""A github source synced by the real engine against a local GitHub that serves real git: filters,
economy counted by the host, partial listings that remove nothing (a page that failed or was too large
to read), rate limits, lifecycle changes on the host, GitHub App tokens, and tokens that appear nowhere."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from catalog_sync.store.tables import entities, repositories, sources
from tests.fixtures.fakegithub import FakeGitHub, FakeRepo, Fault, serving_orgs
from tests.fixtures.tools import app_with_metrics
from tests.integration.conftest import Catalog, product_yaml
from tests.integration.portal.html import parse

TOKEN = "ghp_" + "S3cr3tT0k3n" * 3
TOKEN_ENV = "CATALOG_TEST_GITHUB_TOKEN"


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    with serving_orgs(tmp_path / "hub", monkeypatch, (TOKEN_ENV, TOKEN), "acme", "beta") as hub:
        yield hub


def use_github(catalog: Catalog, hub: FakeGitHub, *extra: dict[str, Any], **keys: Any) -> None:
    """Point the catalog at the fake's ``acme`` organisation (and ``extra`` sources)."""
    source = {"name": "acme", "type": "github", "org": "acme", "api_url": hub.api_url}
    catalog.config = {
        "sources": [source | {"auth": {"token_env": TOKEN_ENV}} | keys, *extra],
        # Scans inline: a scanning pool forked from this process would inherit the fake host's open
        # connections (it serves from threads of the test process) and hold them open.
        "sync": {"allowed_protocols": ["http"], "concurrency": 1},
    }
    catalog.reset_engine()


def refused_unasked(catalog: Catalog, hub: FakeGitHub) -> str:
    """The error of the configured source, which fails when it is built (its credentials refused):
    ``acme/pay`` is on the host, and no request ever reaches it."""
    hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay")})
    error = catalog.sync().sources[0]["error"]
    assert hub.seen == []
    return str(error)


def synced_pay_and_ledger(catalog: Catalog, hub: FakeGitHub) -> tuple[FakeRepo, FakeRepo]:
    """Two repositories of ``acme``, each with its product, read once by a github source."""
    pay = hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay")})
    ledger = hub.add_repo("acme", "ledger", {"catalog-info.yaml": product_yaml("ledger")})
    use_github(catalog, hub)
    catalog.sync()
    return pay, ledger


def repo_rows(catalog: Catalog) -> dict[str, dict[str, Any]]:
    with catalog.engine.connect() as conn:
        rows = conn.execute(select(repositories)).all()
    return {r.key: dict(r._mapping) for r in rows}


def uid_of(catalog: Catalog, ref: str) -> str:
    entity = catalog.entity(ref)
    assert entity is not None
    return str(entity["uid"])


def test_every_filter_of_the_source_decides_which_repositories_are_read(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    kept = hub.add_repo("acme", "svc-pay", {"catalog-info.yaml": product_yaml("pay")}, topics=["catalog"])
    hub.add_repo(
        "acme", "svc-ledger", {"catalog-info.yaml": product_yaml("ledger")}, topics=["catalog", "legacy"]
    )
    hub.add_repo("acme", "svc-sandbox", {"catalog-info.yaml": product_yaml("sandbox")}, topics=["catalog"])
    hub.add_repo("acme", "web-shop", {"catalog-info.yaml": product_yaml("shop")}, topics=["catalog"])
    hub.add_repo("acme", "svc-untagged", {"catalog-info.yaml": product_yaml("untagged")})
    fork = hub.add_repo(
        "acme", "svc-fork", {"catalog-info.yaml": product_yaml("fork")}, topics=["catalog"], fork=True
    )
    old = hub.add_repo(
        "acme", "svc-old", {"catalog-info.yaml": product_yaml("old")}, topics=["catalog"], archived=True
    )
    filters = {
        "include": "^svc-",
        "exclude": "-sandbox$",
        "topics": {"include": ["catalog"], "exclude": ["legacy"]},
    }
    use_github(catalog, hub, **filters)
    summary = catalog.sync()
    assert summary.sources[0]["error"] is None
    assert set(repo_rows(catalog)) == {hub.key(kept)}
    assert {r for r in catalog.refs() if r.startswith("product:")} == {"product:default/pay"}
    use_github(catalog, hub, **filters, forks=True, archived=True)
    catalog.sync()
    assert set(repo_rows(catalog)) == {hub.key(kept), hub.key(fork), hub.key(old)}
    assert {"product:default/fork", "product:default/old"} <= catalog.refs()


def test_a_repository_is_keyed_by_the_hosts_id_and_read_at_its_default_branch(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    repo = hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay")}, default_branch="trunk")
    use_github(catalog, hub)
    catalog.sync()
    row = repo_rows(catalog)[f"github:127.0.0.1:{hub.port}:{repo.id}"]
    assert (row["name"], row["url"], row["branch"]) == ("acme/pay", f"{hub.origin}/acme/pay", "trunk")
    entity = catalog.entity("product:default/pay")
    assert entity is not None
    assert entity["repository_id"] == row["id"]


def test_a_pass_where_nothing_changed_sends_one_conditional_request_per_hundred_repositories(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    template = hub.add_repo("acme", "template", {"README.md": "no descriptors here\n"})
    hub.add_copies("acme", template, [f"svc-{i:03}" for i in range(249)])
    use_github(catalog, hub)
    first = catalog.sync()
    assert first.sources[0]["repositories"] == 250
    hub.clear()
    again = catalog.sync()
    assert again.unchanged == 250
    seen = hub.api_requests()
    assert [(s.conditional, s.status) for s in seen] == [(True, 304)] * 3
    assert hub.git_requests() == []
    hub.clear()
    catalog.reset_engine()  # a restarted worker: the ETags and tips are read from the cache folder
    assert catalog.sync().unchanged == 250
    assert [(s.conditional, s.status) for s in hub.api_requests()] == [(True, 304)] * 3
    assert hub.git_requests() == []


def test_a_push_costs_one_branch_request_one_tree_and_the_changed_blob(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    pay = hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay")})
    hub.add_repo("acme", "ledger", {"catalog-info.yaml": product_yaml("ledger")})
    use_github(catalog, hub)
    catalog.sync()
    hub.push(pay, {"catalog-info.yaml": product_yaml("pay", lifecycle="deprecated")})
    hub.clear()
    summary = catalog.sync()
    assert summary.updated == 1
    entity = catalog.entity("product:default/pay")
    assert entity is not None
    assert entity["body"]["spec"]["lifecycle"] == "deprecated"
    paths = [s.path for s in hub.api_requests()]
    assert paths[:2] == ["/orgs/acme/repos?per_page=100&type=all", "/repos/acme/pay/branches/main"]
    assert paths[2].startswith("/repos/acme/pay/git/trees/")
    assert paths[2].endswith("?recursive=1")
    assert paths[3].startswith("/repos/acme/pay/git/blobs/")
    assert len(paths) == 4
    assert hub.git_requests() == []  # the history is never read


def sync_then_shrink_and_grow(catalog: Catalog, hub: FakeGitHub) -> None:
    """Sync 250 repositories (three list pages), then delete 100 and add 150 on the host: a listing that
    stopped part way would miss some of the 250 still there."""
    template = hub.add_repo("acme", "template", {"README.md": "no descriptors here\n"})
    copies = hub.add_copies("acme", template, [f"svc-{i:03}" for i in range(249)])
    use_github(catalog, hub)
    catalog.sync()
    for repo in copies[:100]:
        hub.delete(repo)
    hub.add_copies("acme", template, [f"late-{i:03}" for i in range(150)])  # the list needs 3 pages again


def test_a_listing_that_fails_on_page_three_removes_nothing_and_says_why(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    sync_then_shrink_and_grow(catalog, hub)
    hub.fail(Fault(502, "page=3", {}, "Server Error", times=None))
    for _ in range(3):
        summary = catalog.sync()
        assert "HTTP 502" in summary.sources[0]["error"]
        assert "nothing is removed" in summary.sources[0]["error"]
    rows = repo_rows(catalog)
    assert len(rows) == 250
    assert all(r["removed_at"] is None for r in rows.values())
    with catalog.engine.connect() as conn:
        error = conn.execute(select(sources.c.last_error).where(sources.c.name == "acme")).scalar_one()
    assert "HTTP 502" in error
    assert TOKEN not in error


def test_the_portal_shows_a_source_whose_listing_fails_and_why_and_its_repositories_kept(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    synced_pay_and_ledger(catalog, hub)
    client = app_with_metrics(catalog.settings, catalog.engine).test_client()
    listed = parse(client.get("/repositories").data).row("acme")
    assert (listed[1], listed[3]) == ("github", "ok")
    assert listed[2].endswith("/orgs/acme")
    assert listed[5:] == ["2", "—"]

    hub.fail(Fault(502, "/orgs/acme/repos", {}, "Server Error", times=None))
    catalog.sync()
    page = parse(client.get("/repositories").data)

    source = page.row("acme")
    assert source[3].startswith("failing ")
    assert "HTTP 502" in source[3]
    assert "nothing is removed" in source[3]
    assert source[5] == "2"  # kept
    assert page.href("acme") == "/repositories?source=acme"


def test_a_listing_answered_502_reads_0_in_the_metric_until_the_host_answers_again(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    synced_pay_and_ledger(catalog, hub)
    client = app_with_metrics(catalog.settings, catalog.engine).test_client()

    def listing_ok() -> dict[str, float]:
        text = client.get("/metrics").get_data(as_text=True)
        return {
            sample.labels["source"]: sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == "catalog_source_listing_ok"
        }

    assert listing_ok() == {"acme": 1}
    hub.fail(Fault(502, "/orgs/acme/repos", {}, "Server Error", times=None))
    assert "HTTP 502" in (catalog.sync().sources[0]["error"] or "")
    assert listing_ok() == {"acme": 0}
    hub.faults.clear()
    assert catalog.sync().sources[0]["error"] is None
    assert listing_ok() == {"acme": 1}


def test_the_budget_left_and_when_its_window_resets_are_shown_as_the_host_said(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    hub.reset_at = 1_900_000_000.0
    synced_pay_and_ledger(catalog, hub)
    text = (
        app_with_metrics(catalog.settings, catalog.engine)
        .test_client()
        .get("/metrics")
        .get_data(as_text=True)
    )
    shown = {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.labels.get("source") == "acme" and sample.name.startswith("catalog_scm_rate_limit")
    }
    assert shown["catalog_scm_rate_limit_reset_timestamp_seconds"] == 1_900_000_000
    assert hub.remaining <= shown["catalog_scm_rate_limit_remaining"] < hub.rate_limit


def test_a_listing_page_too_large_to_read_removes_nothing_and_says_why(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    sync_then_shrink_and_grow(catalog, hub)
    huge = 64 * 1024 * 1024
    hub.fail(Fault(200, "page=3", size=huge, framing="chunked", times=None))
    for _ in range(2):
        summary = catalog.sync()
        assert "the host's answer (HTTP 200) is larger than 16 MiB; not read" in summary.sources[0]["error"]
        assert "nothing is removed" in summary.sources[0]["error"]
    rows = repo_rows(catalog)
    assert len(rows) == 250
    assert all(r["removed_at"] is None for r in rows.values())
    assert hub.flooded < huge  # each pass stopped reading past the bound


def test_rate_limits_are_waited_out_and_one_over_the_bound_fails_the_listing_cleanly(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay")})
    use_github(catalog, hub)
    catalog.config["sync"]["rate_limit_max_wait_seconds"] = 5
    hub.fail(Fault(429, "/orgs/", {"Retry-After": "1"}))
    hub.fail(Fault(403, "/orgs/", {"Retry-After": "1"}, "You have exceeded a secondary rate limit."))
    started = time.monotonic()
    summary = catalog.sync()
    assert summary.sources[0]["error"] is None
    assert time.monotonic() - started >= 2
    assert catalog.entity("product:default/pay") is not None
    hub.fail(Fault(429, "/orgs/", {"Retry-After": "600"}))
    started = time.monotonic()
    summary = catalog.sync()
    assert time.monotonic() - started < 5
    assert "longer than sync.rate_limit_max_wait_seconds (5 s)" in summary.sources[0]["error"]
    assert catalog.entity("product:default/pay") is not None
    assert all(r["removed_at"] is None for r in repo_rows(catalog).values())


def test_a_host_that_keeps_refusing_costs_one_request_per_repository_not_its_waits(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    repos = [
        hub.add_repo("acme", f"svc-{n}", {"catalog-info.yaml": product_yaml(f"svc-{n}")}) for n in range(8)
    ]
    use_github(catalog, hub)
    catalog.config["sync"]["rate_limit_max_wait_seconds"] = 30
    catalog.sync()
    for repo in repos:
        hub.push(repo, {"catalog-info.yaml": product_yaml(repo.name, lifecycle="deprecated")})
    secondary = "You have exceeded a secondary rate limit."
    hub.fail(Fault(403, "/repos/acme/", {"Retry-After": "1"}, secondary, times=None))
    hub.clear()
    summary = catalog.sync()
    asked = [s for s in hub.api_requests() if s.path.startswith("/repos/acme/")]
    errors = [r["last_error"] or "" for r in repo_rows(catalog).values()]
    # Once one request was refused through its three waits (3 s), the refusals that follow fail at
    # once: the repositories already waiting give up at their next refusal, the others ask once each
    # (17 requests, 4 s here). Waiting each one out costs four requests per repository (32), 10 s.
    assert len(asked) <= 20
    assert sum("not waited for" in e for e in errors) >= 5
    assert summary.errors == 8
    assert all(catalog.entity(f"product:default/{repo.name}") is not None for repo in repos)
    hub.faults.clear()  # the host answers again: so does the source, with its waits
    hub.fail(Fault(429, "/git/trees/", {"Retry-After": "1"}))
    summary = catalog.sync()
    assert (summary.errors, summary.updated) == (0, 8)  # waited for, once


def test_an_archived_repository_is_removed_at_once_and_a_deleted_one_after_two_listings(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    names = ["pay", "ledger", "shop", "risk", "search"]
    repos = {n: hub.add_repo("acme", n, {"catalog-info.yaml": product_yaml(n)}) for n in names}
    use_github(catalog, hub)
    catalog.sync()
    hub.archive(repos["pay"])
    hub.delete(repos["ledger"])
    catalog.sync()
    rows = repo_rows(catalog)
    assert rows[hub.key(repos["pay"])]["removed_at"] is not None
    assert catalog.entity("product:default/pay")["orphaned_at"] is not None  # type: ignore[index]
    assert rows[hub.key(repos["ledger"])]["removed_at"] is None  # one listing without it: kept
    assert catalog.entity("product:default/ledger")["orphaned_at"] is None  # type: ignore[index]
    catalog.sync()
    assert repo_rows(catalog)[hub.key(repos["ledger"])]["removed_at"] is not None
    assert catalog.entity("product:default/ledger")["orphaned_at"] is not None  # type: ignore[index]
    assert catalog.entity("product:default/shop")["orphaned_at"] is None  # type: ignore[index]


def test_a_repository_github_disabled_is_removed_at_once_not_failed_at_every_pass(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    pay, _ = synced_pay_and_ledger(catalog, hub)
    hub.disable(pay)
    hub.touch(pay)  # its content is asked again: GitHub answers 403

    summary = catalog.sync()

    assert summary.errors == 0
    assert repo_rows(catalog)[hub.key(pay)]["removed_at"] is not None
    assert catalog.entity("product:default/pay")["orphaned_at"] is not None  # type: ignore[index]
    assert catalog.entity("product:default/ledger")["orphaned_at"] is None  # type: ignore[index]


def test_a_repository_missing_once_then_listed_again_is_never_removed(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    repos = [hub.add_repo("acme", n, {"catalog-info.yaml": product_yaml(n)}) for n in ("pay", "shop", "risk")]
    use_github(catalog, hub, include="^(pay|shop|risk)$")
    catalog.sync()
    hub.rename(repos[0], "pay-moving")
    catalog.sync()
    hub.rename(repos[0], "pay")
    catalog.sync()
    catalog.sync()
    assert repo_rows(catalog)[hub.key(repos[0])]["removed_at"] is None
    assert catalog.entity("product:default/pay")["orphaned_at"] is None  # type: ignore[index]


def test_a_renamed_repository_keeps_its_row_entities_and_uids(catalog: Catalog, hub: FakeGitHub) -> None:
    pay = hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay")})
    use_github(catalog, hub)
    catalog.sync()
    before = repo_rows(catalog)[hub.key(pay)]
    uid = uid_of(catalog, "product:default/pay")
    hub.rename(pay, "payments")
    hub.push(pay, {"catalog-info.yaml": product_yaml("pay", description="renamed")})
    catalog.sync()
    after = repo_rows(catalog)[hub.key(pay)]
    assert after["id"] == before["id"]
    assert (after["name"], after["url"]) == ("acme/payments", f"{hub.origin}/acme/payments")
    assert uid_of(catalog, "product:default/pay") == uid
    assert catalog.entity("product:default/pay")["body"]["metadata"]["description"] == "renamed"  # type: ignore[index]


def test_a_repository_transferred_between_two_configured_owners_keeps_its_entities(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    pay = hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay")})
    hub.add_repo("beta", "other", {"catalog-info.yaml": product_yaml("other")})
    beta = {
        "name": "beta",
        "type": "github",
        "org": "beta",
        "api_url": hub.api_url,
        "auth": {"token_env": TOKEN_ENV},
    }
    use_github(catalog, hub, beta)
    catalog.sync()
    before = repo_rows(catalog)[hub.key(pay)]
    uid = uid_of(catalog, "product:default/pay")
    hub.transfer(pay, "beta")
    catalog.sync()
    catalog.sync()
    after = repo_rows(catalog)[hub.key(pay)]
    assert after["id"] == before["id"]
    assert after["source_id"] != before["source_id"]
    assert after["removed_at"] is None
    assert after["name"] == "beta/pay"
    assert uid_of(catalog, "product:default/pay") == uid
    assert catalog.entity("product:default/pay")["orphaned_at"] is None  # type: ignore[index]
    assert catalog.problems("conflict") == []


def test_a_github_app_mints_an_installation_token_and_renews_it_before_it_expires(
    catalog: Catalog, hub: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = hub.add_app(token_seconds=306)  # renewed 300 s before expiry: good for 6 s
    hub.tokens.clear()
    hub.require_auth = True
    monkeypatch.setenv("CATALOG_TEST_APP_KEY", app.private_key_pem)
    hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay")})
    hub.tree_limit = 0  # a truncated tree: read by a shallow fetch, which needs the token too
    auth = {"app": {"app_id": app.app_id, "private_key_env": "CATALOG_TEST_APP_KEY", "installation_id": 5678}}
    use_github(catalog, hub)
    catalog.config["sources"][0]["auth"] = auth
    summary = catalog.sync()
    assert summary.sources[0]["error"] is None
    assert catalog.entity("product:default/pay") is not None
    assert len(app.minted) == 1
    first = app.minted[0]
    mints = [s for s in hub.seen if s.path.startswith("/app/")]
    assert len(mints) == 1
    assert mints[0].authorization is not None
    assert first not in mints[0].authorization  # the JWT, not the token
    listed = [s for s in hub.api_requests() if s.method == "GET"]
    assert listed
    assert all(s.authorization == f"Bearer {first}" for s in listed)
    assert hub.git_requests()  # the truncated tree is fetched, with the installation token
    assert all(
        s.authorization is not None and s.authorization.startswith("Basic ") for s in hub.git_requests()
    )
    catalog.sync()
    assert len(app.minted) == 1  # still good: not minted again
    renewal = hub.expiring[first] - 300  # when the first token enters its last 300 s, by the host's clock
    time.sleep(max(0.0, renewal + 0.2 - time.time()))
    hub.clear()
    catalog.sync()
    assert len(app.minted) == 2
    assert all(s.authorization == f"Bearer {app.minted[1]}" for s in hub.api_requests() if s.method == "GET")


def test_a_wrong_app_key_fails_the_source_naming_the_problem(
    catalog: Catalog, hub: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.add_app(app_id=1234)
    other = FakeGitHub(hub.root).add_app(app_id=1234)  # another key for the same id
    hub.require_auth = True
    monkeypatch.setenv("CATALOG_TEST_APP_KEY", other.private_key_pem)
    use_github(catalog, hub)
    catalog.config["sources"][0]["auth"] = {
        "app": {"app_id": 1234, "private_key_env": "CATALOG_TEST_APP_KEY", "installation_id": 5678}
    }
    summary = catalog.sync()
    assert "HTTP 401" in summary.sources[0]["error"]
    assert "BEGIN" not in summary.sources[0]["error"]


def test_a_missing_token_variable_fails_the_source_naming_the_key(
    catalog: Catalog, hub: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TOKEN_ENV)
    use_github(catalog, hub)
    assert f"auth.token_env names {TOKEN_ENV}, which is not set" in refused_unasked(catalog, hub)


UNSENDABLE = [
    pytest.param(f"{TOKEN}\nX-Forwarded-For: 10.0.0.1", id="line-break"),
    pytest.param(f"{TOKEN} {TOKEN}", id="two-tokens"),
    pytest.param(f"{TOKEN}\x7f", id="delete"),
    pytest.param(f"{TOKEN}\u00e9", id="non-ascii"),
]


@pytest.mark.parametrize("value", UNSENDABLE)
def test_a_token_no_header_may_carry_fails_the_source_unshown_and_is_never_sent(
    catalog: Catalog, hub: FakeGitHub, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(TOKEN_ENV, value)
    use_github(catalog, hub)
    error = refused_unasked(catalog, hub)
    assert f"auth.token_env names {TOKEN_ENV}, whose value holds a space, a line break" in error
    assert "S3cr3tT0k3n" not in error


def test_an_installation_token_no_header_may_carry_is_refused_unshown(
    catalog: Catalog, hub: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = hub.add_app()
    app.token_suffix = "\r\nX-Injected: 1"
    hub.require_auth = True
    monkeypatch.setenv("CATALOG_TEST_APP_KEY", app.private_key_pem)
    hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay")})
    use_github(catalog, hub)
    catalog.config["sources"][0]["auth"] = {
        "app": {"app_id": app.app_id, "private_key_env": "CATALOG_TEST_APP_KEY", "installation_id": 5678}
    }
    error = catalog.sync().sources[0]["error"]
    assert "the host's answer carries no valid installation token" in error
    assert not [t for t in app.minted if t.partition("\r")[0] in error]
    assert [s.path for s in hub.seen] == ["/app/installations/5678/access_tokens"]


def test_the_token_appears_in_no_answer_log_error_or_metric(
    catalog: Catalog, hub: FakeGitHub, caplog: pytest.LogCaptureFixture
) -> None:
    from prometheus_client import generate_latest

    from catalog_sync.cli import build_app
    from catalog_sync.metrics import EVENT_REGISTRY, sync_event_metrics

    sync_event_metrics()
    caplog.set_level(logging.DEBUG)
    hub.echo_authorization = True  # a host that puts the header into its answers
    pay = hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay")})
    use_github(catalog, hub)
    catalog.sync()
    hub.push(pay, {"catalog-info.yaml": "::: not yaml"})
    hub.fail(Fault(401, "/orgs/", {}, f"Bad credentials {TOKEN}", times=None))
    summary = catalog.sync()
    assert "HTTP 401" in summary.sources[0]["error"]
    with catalog.engine.connect() as conn:
        stored = [
            str(v)
            for table in (repositories, sources, entities)
            for row in conn.execute(select(table))
            for v in row
        ]
    client = build_app(catalog.settings, catalog.engine).test_client()
    answers = [
        client.get(path).get_data(as_text=True)
        for path in ("/api/sources", "/api/repositories", "/api/catalog/entities", "/metrics")
    ]
    assert "acme/pay" in answers[1]
    metrics = generate_latest(EVENT_REGISTRY).decode()
    assert 'catalog_scm_requests_total{source="acme",status="401"}' in metrics
    assert "catalog_scm_rate_limit_remaining" in metrics
    texts = [*stored, *answers, metrics, caplog.text, str(summary.sources), str(summary.errors)]
    assert not [t for t in texts if TOKEN in t]
    assert not [t for t in texts if "S3cr3tT0k3n" in t]
