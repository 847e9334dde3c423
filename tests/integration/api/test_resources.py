"""catalog-sync's own endpoints: sources, repositories, sync, validation, export and probes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
import yaml
from flask.testing import FlaskClient
from sqlalchemy import select

from catalog_sync.cli import build_app
from catalog_sync.config import parse_settings
from catalog_sync.store.engine import open_engine
from catalog_sync.store.tables import repositories
from plugin_api.state import STATE_KEY
from tests.integration.api.conftest import AUTH
from tests.integration.api.test_catalog_query import assert_backstage_error


def names(page: dict[str, Any]) -> list[str]:
    return [item["name"] for item in page["items"]]


def test_sources_count_repositories_by_state(client: FlaskClient) -> None:
    body = client.get("/api/sources").get_json()
    assert body["totalItems"] == 1
    assert body["pageInfo"] == {}
    [source] = body["items"]
    assert (source["name"], source["type"], source["repositories"]) == ("local", "local", 5)
    assert source["states"] == {"ok": 5, "failing": 0, "stale": 0, "pending": 0}
    assert source["target"].endswith("/repos")
    assert source["lastError"] is None


def test_repositories_show_state_commit_entities_and_errors(client: FlaskClient) -> None:
    body = client.get("/api/repositories").get_json()
    assert body["totalItems"] == 5
    assert names(body) == ["broken", "copycat", "empty", "payments", "shop"]
    by_name = {item["name"]: item for item in body["items"]}
    payments = by_name["payments"]
    assert payments["state"] == "ok"
    assert len(payments["lastCommit"]) == 40
    assert (payments["entities"], payments["errors"], payments["hasDescriptors"]) == (3, [], True)
    assert datetime.fromisoformat(payments["lastSuccessAt"]).tzinfo is not None
    assert by_name["empty"]["hasDescriptors"] is False
    conflict = [e for e in by_name["copycat"]["errors"] if e["category"] == "conflict"]
    assert conflict
    assert conflict[0]["entityRef"] == "product:default/payments-api"
    lifecycle = [e for e in by_name["broken"]["errors"] if e["severity"] == "error"]
    assert {(e["path"], e["line"], e["field"], e["entityRef"]) for e in lifecycle} == {
        ("catalog-info.yaml", 4, "spec.lifecycle", "product:default/broken"),
        ("catalog-info.yaml", 9, "spec.lifecycle", "product:default/fine-product"),
    }
    one = client.get(f"/api/repositories/{payments['id']}").get_json()
    assert one == payments


def test_repositories_filter_and_page_with_a_cursor_that_keeps_the_filter(client: FlaskClient) -> None:
    first = client.get("/api/repositories?state=ok&source=local&limit=2").get_json()
    assert names(first) == ["broken", "copycat"]
    assert first["totalItems"] == 5
    second = client.get(f"/api/repositories?cursor={first['pageInfo']['nextCursor']}&limit=2").get_json()
    assert names(second) == ["empty", "payments"]
    third = client.get(f"/api/repositories?cursor={second['pageInfo']['nextCursor']}&limit=2").get_json()
    assert names(third) == ["shop"]
    assert third["pageInfo"] == {}
    assert client.get("/api/repositories?state=failing").get_json() == {
        "items": [],
        "totalItems": 0,
        "pageInfo": {},
    }
    assert client.get("/api/repositories?source=elsewhere").get_json()["totalItems"] == 0


def test_repository_list_refusals(client: FlaskClient) -> None:
    assert_backstage_error(client.get("/api/repositories?state=broken"), 400, "InputError", mentions="state")
    assert_backstage_error(client.get("/api/repositories?limit=0"), 400, "InputError", mentions="limit")
    assert_backstage_error(client.get("/api/repositories?cursor=zzz"), 400, "InputError", mentions="cursor")
    runs_cursor = client.get("/api/sync/runs?limit=1").get_json()["pageInfo"]["nextCursor"]
    assert_backstage_error(
        client.get(f"/api/repositories?cursor={runs_cursor}"), 400, "InputError", mentions="cursor"
    )
    assert_backstage_error(client.get("/api/repositories/999"), 404, "NotFoundError", mentions="999")
    assert_backstage_error(client.get("/api/repositories/abc"), 404, "NotFoundError")
    assert_backstage_error(client.get(f"/api/repositories/{2**64}"), 404, "NotFoundError")


def test_registering_a_repository_answers_201_and_lists_it_under_registered(writable: FlaskClient) -> None:
    url = "https://git.example.com/acme/billing.git"
    response = writable.post("/api/repositories", json={"url": url, "branch": "release"}, headers=AUTH)
    assert response.status_code == 201, response.get_data(as_text=True)
    created = response.get_json()
    assert (created["url"], created["branch"], created["name"], created["state"]) == (
        url,
        "release",
        "billing",
        "pending",
    )
    assert created["source"] == "registered"
    assert created["entities"] == 0
    assert writable.get(f"/api/repositories/{created['id']}").get_json() == created
    registered = [s for s in writable.get("/api/sources").get_json()["items"] if s["name"] == "registered"]
    assert registered
    assert registered[0]["states"]["pending"] == 1
    again = writable.post("/api/repositories", json={"url": url, "branch": "release"}, headers=AUTH)
    assert_backstage_error(again, 409, "ConflictError", mentions="already registered")


def test_registering_refuses_dangerous_or_malformed_urls_and_stores_nothing(writable: FlaskClient) -> None:
    refusals = [
        ({"url": "ext::sh -c touch% /tmp/pwned"}, "refused"),
        ({"url": "file:///etc"}, "refused"),
        ({"url": "-uhelp"}, ""),
        ({"url": "https://user:hunter2@git.example.com/x.git"}, "credentials"),
        ({"url": "https://git.example.com/x.git", "branch": "--upload-pack=evil"}, "branch"),
        ({"url": "https://git.example.com/x.git", "brnach": "main"}, "brnach"),
        ({}, "url"),
        ({"url": ""}, "url"),
    ]
    for body, mentions in refusals:
        response = writable.post("/api/repositories", json=body, headers=AUTH)
        assert_backstage_error(response, 400, "InputError", mentions=mentions)
        assert "hunter2" not in response.get_data(as_text=True)
    assert writable.get("/api/repositories").get_json()["totalItems"] == 5


@pytest.mark.parametrize(
    ("branch", "says"),
    [
        ("@", "'@{'"),
        ("HEAD", "HEAD"),
        ("refs/heads/main", "not refs/heads/main"),
        ("main\u200b", "unprintable"),
        ("feature/.hidden", "starts with '.'"),
        ("x" * 256, "255"),
    ],
)
def test_registering_refuses_a_branch_git_would_not_take_saying_why(
    writable: FlaskClient, branch: str, says: str
) -> None:
    """Judged as a configured branch is: stored, it would fail at every sync as a branch not found."""
    body = {"url": "https://git.example.com/x.git", "branch": branch}
    response = writable.post("/api/repositories", json=body, headers=AUTH)
    assert_backstage_error(response, 400, "InputError", mentions=says)
    assert writable.get("/api/repositories").get_json()["totalItems"] == 5


def test_a_github_or_gitlab_repository_spelled_in_another_case_is_the_one_registered(
    writable: FlaskClient,
) -> None:
    """GitHub and GitLab name owners and repositories alike in any case: registered twice, the two
    would claim the same entities; other hosts may tell cases apart and keep both."""
    for host in ("github.com", "gitlab.com"):
        first = writable.post("/api/repositories", json={"url": f"https://{host}/Acme/Pay"}, headers=AUTH)
        assert first.status_code == 201, first.get_data(as_text=True)
        for spelling in (f"https://{host}/acme/pay.git", f"https://{host.upper()}/ACME/PAY"):
            again = writable.post("/api/repositories", json={"url": spelling}, headers=AUTH)
            assert_backstage_error(again, 409, "ConflictError", mentions="already registered")
    other = writable.post("/api/repositories", json={"url": "https://git.example.com/Acme/Pay"}, headers=AUTH)
    assert other.status_code == 201
    lower = writable.post("/api/repositories", json={"url": "https://git.example.com/acme/pay"}, headers=AUTH)
    assert lower.status_code == 201  # a host that tells cases apart: another repository
    assert writable.get("/api/repositories").get_json()["totalItems"] == 9


def test_registering_needs_a_token(writable: FlaskClient) -> None:
    response = writable.post("/api/repositories", json={"url": "https://git.example.com/a.git"})
    assert_backstage_error(response, 401, "AuthenticationError")
    assert writable.get("/api/repositories").get_json()["totalItems"] == 5


def test_refreshing_a_repository_schedules_it_and_wakes_the_sync_loop(make_app: Any) -> None:
    woken: list[str] = []
    app = make_app(sync_trigger=lambda: woken.append("wake"))
    client = app.test_client()
    engine = open_engine(app.extensions[STATE_KEY].settings.database)
    payments = next(i for i in client.get("/api/repositories").get_json()["items"] if i["name"] == "payments")
    response = client.post(f"/api/repositories/{payments['id']}/refresh", headers=AUTH)
    assert (response.status_code, response.get_json()) == (202, {"scheduled": 1})
    try:
        with engine.connect() as connection:
            query = select(repositories.c.rescan).where(repositories.c.id == payments["id"])
            assert connection.execute(query).scalar_one() is True
    finally:
        engine.dispose()
    assert woken == ["wake"]
    assert_backstage_error(client.post("/api/repositories/999/refresh", headers=AUTH), 404, "NotFoundError")
    assert_backstage_error(
        client.post(f"/api/repositories/{payments['id']}/refresh"), 401, "AuthenticationError"
    )


def test_sync_now_makes_every_repository_due(make_app: Any) -> None:
    woken: list[str] = []
    client = make_app(sync_trigger=lambda: woken.append("wake")).test_client()
    before = {i["name"]: i["nextSyncAt"] for i in client.get("/api/repositories").get_json()["items"]}
    response = client.post("/api/sync", headers=AUTH)
    assert (response.status_code, response.get_json()) == (202, {"scheduled": 5})
    after = {i["name"]: i["nextSyncAt"] for i in client.get("/api/repositories").get_json()["items"]}
    assert all(datetime.fromisoformat(after[n]) < datetime.fromisoformat(before[n]) for n in before)
    assert woken == ["wake"]


def test_sync_runs_are_listed_newest_first_with_counts(client: FlaskClient) -> None:
    body = client.get("/api/sync/runs").get_json()
    assert body["totalItems"] == 2
    newest, oldest = body["items"]
    assert newest["id"] > oldest["id"]
    assert newest["result"] == oldest["result"] == "ok"
    assert oldest["changed"] == 3
    assert newest["changed"] >= 1
    assert newest["durationSeconds"] >= 0
    assert newest["finishedAt"] >= newest["startedAt"]
    first = client.get("/api/sync/runs?limit=1").get_json()
    assert first["items"] == [newest]
    rest = client.get(f"/api/sync/runs?cursor={first['pageInfo']['nextCursor']}").get_json()
    assert rest["items"] == [oldest]
    assert rest["pageInfo"] == {}


def test_validate_answers_problems_with_lines_for_any_content_type(client: FlaskClient) -> None:
    text = "apiVersion: catalog/v1\nkind: Product\nmetadata:\n  name: p\n"
    text += "spec:\n  type: service\n  lifecycle: soon\n"
    for content_type in ("application/yaml", "text/plain", None):
        response = client.post(
            "/api/validate?path=svc/catalog-info.yaml", data=text, content_type=content_type
        )
        assert response.status_code == 200
        body = response.get_json()
        assert body["valid"] is False
        errors = [p for p in body["problems"] if p["severity"] == "error"]
        assert [(p["path"], p["line"], p["field"]) for p in errors] == [
            ("svc/catalog-info.yaml", 7, "spec.lifecycle")
        ]
        assert errors[0]["entityRef"] == "product:default/p"
        assert body["counts"] == {
            "documents": 1,
            "entities": 0,
            "errors": 1,
            "warnings": body["counts"]["warnings"],
        }


def test_validate_accepts_warnings_and_reports_broken_yaml(client: FlaskClient) -> None:
    ok = client.post(
        "/api/validate",
        data="apiVersion: backstage.io/v1alpha1\nkind: System\nmetadata: {name: s}\nspec: {owner: web}\n",
    ).get_json()
    assert ok["valid"] is True
    assert ok["counts"]["entities"] == 1
    broken = client.post("/api/validate", data="a: [1, 2\n").get_json()
    assert broken["valid"] is False
    assert broken["problems"][0]["path"] == "catalog-info.yaml"
    assert_backstage_error(client.post("/api/validate", data=b""), 400, "InputError", mentions="empty")


def test_export_is_multi_document_backstage_yaml(client: FlaskClient) -> None:
    response = client.get("/api/export/backstage")
    assert response.status_code == 200
    assert response.mimetype == "application/yaml"
    documents = [d for d in yaml.safe_load_all(response.get_data(as_text=True)) if d]
    pairs = {(d["kind"], d["metadata"]["name"]) for d in documents}
    assert ("Component", "web-shop") in pairs
    assert ("API", "shop-api") in pairs
    assert all(d["apiVersion"].startswith("backstage.io/") for d in documents)


def test_probes(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json() == {"status": "ok"}


def test_readyz_is_503_when_the_database_does_not_answer() -> None:
    engine = open_engine("postgresql+psycopg://nobody@127.0.0.1:1/nothing")
    client = build_app(parse_settings({}), engine).test_client()
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert_backstage_error(response, 503, "ServiceUnavailableError", mentions="database")
    assert "nobody" not in response.get_data(as_text=True)
    assert_backstage_error(client.get("/api/repositories"), 503, "ServiceUnavailableError")
