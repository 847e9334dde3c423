"""Pushes delivered out of order: hosts do not promise order, and a redelivery comes whenever someone
asks for it. A push whose commit is older than the one the catalog read already is settled without a
read, so the catalog never steps back to older content; a force push (history that diverged) is read.
First over hosted repositories on local git (``world``), then with the real ``github`` and ``gitlab``
sources against the local GitHub and GitLab, whose compare and merge-base answers decide."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import update

from catalog_sync.cli import build_app
from catalog_sync.config import parse_settings
from catalog_sync.store.tables import repositories
from tests.fixtures.fakegithub import FakeGitHub, FakeRepo, Fault, serving_orgs
from tests.fixtures.fakegitlab import FakeGitLab, FakeProject
from tests.fixtures.gitrepos import run_git
from tests.fixtures.hosted import body_of, github_headers, github_push, gitlab_headers, gitlab_push
from tests.integration.conftest import Catalog, product_yaml
from tests.integration.test_github_source import TOKEN, TOKEN_ENV, use_github
from tests.integration.webhooks.conftest import LAB_TOKEN, SECRET, World

PAY = "github:api.github.com:101"
LEDGER = "gitlab:gitlab.example.com:7"


def deliver(world: World, after: str) -> None:
    body = body_of(github_push(101, after=after))
    answer = world.client.post(
        "/api/webhooks/github", data=body, headers=github_headers(SECRET, body, "push")
    )
    assert answer.status_code == 202, answer.get_json()


def test_a_push_delivered_after_a_newer_one_was_read_does_not_bring_older_content_back(world: World) -> None:
    synced = world.repos["pay"].head()
    older = world.repo("gh", "pay", lifecycle="deprecated").head()
    newer = world.repo("gh", "pay", lifecycle="retired").head()
    deliver(world, newer)  # the host sent the second push first
    world.sync_due()
    assert world.lifecycle("pay") == "retired"

    deliver(world, older)
    summary = world.sync_due()
    assert world.lifecycle("pay") == "retired"
    assert older not in world.hosted("pay").reads
    assert world.row(PAY)["last_commit"] == newer
    assert world.pushes_waiting() == 0  # settled: not read again by every pass
    assert (summary.unchanged, summary.updated) == (1, 0)
    assert len(summary.push_visible_seconds) == 1  # its content was visible already
    # One question each time the pushed commit was not the one read: the host's history decides; and
    # for the older one, whether the branch still holds the commit read (no force push back).
    branch = world.hosted("pay").info.branch
    assert world.hosted("pay").compared == [(synced, newer), (newer, older), (branch, newer)]
    assert world.sync_due().repositories == 0


def test_two_pushes_delivered_out_of_order_before_a_pass_show_the_newer(world: World) -> None:
    older = world.repo("gh", "pay", lifecycle="deprecated").head()
    newer = world.repo("gh", "pay", lifecycle="retired").head()
    deliver(world, newer)
    deliver(world, older)  # arrives last, before any pass: its mark replaces the newer push's
    world.sync_due()
    assert world.lifecycle("pay") == "retired"
    assert world.row(PAY)["last_commit"] == newer
    assert older not in world.hosted("pay").reads
    assert world.hosted("pay").asked_tips == 1  # merged pushes: the branch is asked once
    assert world.pushes_waiting() == 0
    assert world.sync_due().repositories == 0


def test_a_push_read_past_stays_waiting_when_the_newer_read_fails(world: World) -> None:
    older = world.repo("gh", "pay", lifecycle="deprecated").head()
    newer = world.repo("gh", "pay", lifecycle="retired").head()
    deliver(world, newer)
    deliver(world, older)  # its mark replaces the newer push's: the pass reads the branch's tip, newer
    world.hosted("pay").unreadable = True

    failed = world.sync_due()

    assert world.hosted("pay").reads[-1] == newer
    assert failed.errors == 1
    assert world.pushes_waiting() == 1  # not settled by a read that was never written
    assert failed.push_visible_seconds == []  # nothing of it shows yet
    world.hosted("pay").unreadable = False
    with world.engine.begin() as conn:  # the failure's back-off has passed
        due = world.row(PAY)["pushed_at"] + timedelta(milliseconds=1)
        conn.execute(update(repositories).where(repositories.c.key == PAY).values(next_sync_at=due))
    time.sleep(0.01)
    read = world.sync_due()
    assert world.lifecycle("pay") == "retired"
    assert (world.pushes_waiting(), len(read.push_visible_seconds)) == (0, 1)


def test_two_pushes_delivered_in_order_before_a_pass_read_the_last(world: World) -> None:
    world.repo("gh", "pay", lifecycle="deprecated")
    deliver(world, world.repos["pay"].head())
    newer = world.repo("gh", "pay", lifecycle="retired").head()
    deliver(world, newer)
    world.hosted("pay").stale_tip = world.repos["pay"].rev("HEAD~1")  # the host's branch answer lags
    reads = len(world.hosted("pay").reads)
    world.sync_due()
    assert world.hosted("pay").reads[reads:] == [newer]
    assert world.lifecycle("pay") == "retired"
    assert world.pushes_waiting() == 0


def test_a_redelivered_push_of_the_commit_read_asks_the_host_nothing(world: World) -> None:
    after = world.repo("gh", "pay", lifecycle="deprecated").head()
    deliver(world, after)
    world.sync_due()
    world.hosted("pay").compared.clear()
    deliver(world, after)  # a manual redelivery has a delivery id of its own
    summary = world.sync_due()
    assert (summary.unchanged, world.hosted("pay").compared, world.pushes_waiting()) == (1, [], 0)


def test_a_force_push_to_older_history_is_read(world: World) -> None:
    synced = world.repos["pay"].head()
    abandoned = world.repo("gh", "pay", lifecycle="deprecated").head()
    deliver(world, abandoned)
    world.sync_due()
    world.repos["pay"].reset_hard(synced)  # a force push: the branch leaves the commit read
    rewritten = world.repo("gh", "pay", lifecycle="experimental").head()
    deliver(world, rewritten)
    world.sync_due()
    assert world.lifecycle("pay") == "experimental"
    assert world.row(PAY)["last_commit"] == rewritten


def test_a_late_push_to_a_repository_awaiting_a_rescan_is_settled_by_that_read(world: World) -> None:
    older = world.repo("gh", "pay", lifecycle="deprecated").head()
    newer = world.repo("gh", "pay", lifecycle="retired").head()
    deliver(world, newer)
    world.sync_due()
    with world.engine.begin() as conn:  # a rescan is due (say, a scorecard named now exists)
        conn.execute(update(repositories).where(repositories.c.key == PAY).values(rescan=True))
    deliver(world, older)
    world.hosted("pay").compared.clear()
    summary = world.sync_due()
    assert world.lifecycle("pay") == "retired"
    assert older not in world.hosted("pay").reads
    assert world.pushes_waiting() == 0
    # Settled by the rescan's read (the commit read descends from it), not claimed and asked again.
    assert summary.repositories == 1
    assert len(world.hosted("pay").compared) == 2
    assert world.sync_due().repositories == 0


def test_a_force_push_back_to_a_commit_the_one_read_descends_from_is_read(world: World) -> None:
    synced = world.repos["pay"].head()
    abandoned = world.repo("gh", "pay", lifecycle="deprecated").head()
    deliver(world, abandoned)
    world.sync_due()
    assert world.lifecycle("pay") == "deprecated"
    world.repos["pay"].reset_hard(synced)  # the change is undone by a force push: `after` is older
    deliver(world, synced)
    world.sync_due()
    assert world.lifecycle("pay") == "production"
    assert world.row(PAY)["last_commit"] == synced
    assert world.pushes_waiting() == 0


def test_a_late_gitlab_push_is_settled_without_a_read(world: World) -> None:
    older = world.repo("gl", "ledger", lifecycle="deprecated").head()
    newer = world.repo("gl", "ledger", lifecycle="retired").head()
    for after in (newer, older):
        body = body_of(gitlab_push(7, after=after, path="acme/ledger"))
        answer = world.client.post(
            "/api/webhooks/gitlab", data=body, headers=gitlab_headers(LAB_TOKEN, "Push Hook")
        )
        assert answer.status_code == 202, answer.get_json()
        world.sync_due()
    assert world.lifecycle("ledger") == "retired"
    assert world.row(LEDGER)["last_commit"] == newer
    assert older not in world.hosted("ledger").reads


# -- the real sources against the local hosts ------------------------------------------------------


def webhook_client(catalog: Catalog, environ: dict[str, str]) -> FlaskClient:
    """The catalog's API, configured as the sync engine is, with webhook secrets."""
    settings = parse_settings(catalog.config, str(catalog.root), environ=environ)
    return build_app(settings, catalog.engine).test_client()


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    with serving_orgs(tmp_path / "hub", monkeypatch, (TOKEN_ENV, TOKEN), "acme") as hub:
        yield hub


def push_to_github(
    client: FlaskClient, hub: FakeGitHub, repo_id: int, after: str, branch: str = "main"
) -> None:
    document = github_push(repo_id, after=after, ref=f"refs/heads/{branch}", netloc=f"127.0.0.1:{hub.port}")
    document["repository"]["default_branch"] = branch
    body = body_of(document)
    answer = client.post("/api/webhooks/github", data=body, headers=github_headers(SECRET, body, "push"))
    assert answer.get_json()["accepted"] is True, answer.get_json()


def pay_pushed_twice(
    catalog: Catalog, hub: FakeGitHub, branch: str = "main"
) -> tuple[FlaskClient, FakeRepo, str, str]:
    """The repository ``pay`` (its default branch ``branch``) synced, then pushed to twice (deprecated,
    then retired) on the host; the catalog's API and the two commits, older first."""
    pay = hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay")}, default_branch=branch)
    use_github(catalog, hub)
    catalog.sync()
    older = hub.push(pay, {"catalog-info.yaml": product_yaml("pay", lifecycle="deprecated")})
    newer = hub.push(pay, {"catalog-info.yaml": product_yaml("pay", lifecycle="retired")})
    return webhook_client(catalog, {"CATALOG_SYNC_GITHUB_WEBHOOK_SECRETS": SECRET}), pay, older, newer


def lifecycle(catalog: Catalog, name: str) -> str:
    entity = catalog.entity(f"product:default/{name}")
    assert entity is not None
    return str(entity["body"]["spec"]["lifecycle"])


@pytest.mark.parametrize("branch", ["main", "release/v1"])
def test_the_github_source_asks_two_compares_and_reads_nothing_for_a_late_push(
    catalog: Catalog, hub: FakeGitHub, branch: str
) -> None:
    client, pay, older, newer = pay_pushed_twice(catalog, hub, branch)
    push_to_github(client, hub, pay.id, newer, branch)
    catalog.sync()
    push_to_github(client, hub, pay.id, older, branch)
    hub.clear()
    catalog.sync()
    assert lifecycle(catalog, "pay") == "retired"
    asked = [s.path for s in hub.api_requests()]
    # Whether the commit read holds the pushed one, then whether the branch (its slashes as %2F, as
    # GitHub's own client, octokit, encodes a path parameter) still holds the commit read.
    assert f"/repos/acme/pay/compare/{older}...{newer}?per_page=1" in asked
    assert f"/repos/acme/pay/compare/{newer}...{branch.replace('/', '%2F')}?per_page=1" in asked
    assert not [p for p in asked if "/git/trees/" in p or "/git/blobs/" in p]  # nothing read again


def test_the_github_source_reads_a_force_push_back_to_an_older_commit(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    client, pay, kept, undone = pay_pushed_twice(catalog, hub)
    push_to_github(client, hub, pay.id, undone)
    catalog.sync()
    assert lifecycle(catalog, "pay") == "retired"
    run_git("update-ref", f"refs/heads/{pay.default_branch}", kept, cwd=pay.remote.path)  # a force push back
    push_to_github(client, hub, pay.id, kept)
    catalog.sync()
    assert lifecycle(catalog, "pay") == "deprecated"


def test_the_github_source_reads_the_newer_of_two_pushes_delivered_out_of_order_before_a_pass(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    client, pay, older, newer = pay_pushed_twice(catalog, hub)
    push_to_github(client, hub, pay.id, newer)
    push_to_github(client, hub, pay.id, older)
    hub.clear()
    catalog.sync()
    assert lifecycle(catalog, "pay") == "retired"
    asked = [s.path for s in hub.api_requests()]
    # The branch asked as the host answers now (the listing has not moved), then how it stands.
    assert "/repos/acme/pay/branches/main" in asked
    assert f"/repos/acme/pay/compare/{older}...{newer}?per_page=1" in asked
    assert not [p for p in asked if "/git/trees/" in p and older in p]


@pytest.mark.parametrize(
    "fault",
    [
        Fault(404, "/compare/", times=None),  # a commit the host no longer has, say
        *(
            Fault(200, "/compare/", body=answer, times=None)
            for answer in (
                b'{"status": "ahead "}',
                b'{"status": 1}',
                b'{"ahead_by": 1}',
                b'["ahead"]',
                b"<p>",
            )
        ),
    ],
)
def test_when_the_host_cannot_tell_how_the_commits_stand_the_pushed_commit_is_read(
    make_catalog: Callable[..., Catalog], hub: FakeGitHub, fault: Fault
) -> None:
    catalog = make_catalog()
    pay = hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay")})
    use_github(catalog, hub)
    catalog.sync()
    after = hub.push(pay, {"catalog-info.yaml": product_yaml("pay", lifecycle="deprecated")})
    hub.fail(fault)
    push_to_github(
        client=webhook_client(catalog, {"CATALOG_SYNC_GITHUB_WEBHOOK_SECRETS": SECRET}),
        hub=hub,
        repo_id=pay.id,
        after=after,
    )
    summary = catalog.sync()
    assert (summary.updated, summary.errors) == (1, 0)
    assert lifecycle(catalog, "pay") == "deprecated"


def use_gitlab(catalog: Catalog, gitlab: FakeGitLab) -> FlaskClient:
    """Point the catalog at the fake's group ``acme``; answers its API, with the webhook token."""
    catalog.config = {
        "sources": [configured_gitlab(gitlab)],
        "sync": {"allowed_protocols": ["https", "http"], "concurrency": 1},
    }
    catalog.reset_engine()
    return webhook_client(catalog, {"CATALOG_SYNC_GITLAB_WEBHOOK_TOKENS": LAB_TOKEN})


def push_to_gitlab(client: FlaskClient, gitlab: FakeGitLab, project_id: int, after: str) -> None:
    payload = gitlab_push(project_id, after=after, path="acme/ledger")
    payload["project"]["web_url"] = f"{gitlab.origin}/acme/ledger"
    headers = gitlab_headers(LAB_TOKEN, "Push Hook") | {"X-Gitlab-Instance": gitlab.origin}
    answer = client.post("/api/webhooks/gitlab", data=body_of(payload), headers=headers)
    assert answer.get_json()["accepted"] is True, answer.get_json()


def ledger_pushed_twice(catalog: Catalog, gitlab: FakeGitLab) -> tuple[FlaskClient, FakeProject, str, str]:
    """The project ``ledger`` synced, then pushed to twice (deprecated, then retired) on the host; the
    catalog's API and the two commits, older first."""
    ledger = gitlab.add_project("acme", "ledger", files={"catalog-info.yaml": product_yaml("ledger")})
    client = use_gitlab(catalog, gitlab)
    catalog.sync()
    older = gitlab.push(ledger, {"catalog-info.yaml": product_yaml("ledger", lifecycle="deprecated")})
    newer = gitlab.push(ledger, {"catalog-info.yaml": product_yaml("ledger", lifecycle="retired")})
    return client, ledger, older, newer


def test_the_gitlab_source_asks_the_merge_base_and_reads_nothing_for_a_late_push(
    catalog: Catalog, gitlab: FakeGitLab
) -> None:
    client, ledger, older, newer = ledger_pushed_twice(catalog, gitlab)
    for after in (newer, older):
        push_to_gitlab(client, gitlab, ledger.id, after)
        catalog.sync()
    assert lifecycle(catalog, "ledger") == "retired"
    asked = [r.path for r in gitlab.api_requests()]
    # One for each push, and one asking whether the branch still holds the commit read.
    assert sum(path.endswith("/repository/merge_base") for path in asked) == 3


def test_the_gitlab_source_reads_the_newer_of_two_pushes_delivered_out_of_order_before_a_pass(
    catalog: Catalog, gitlab: FakeGitLab
) -> None:
    client, ledger, older, newer = ledger_pushed_twice(catalog, gitlab)
    push_to_gitlab(client, gitlab, ledger.id, newer)
    push_to_gitlab(client, gitlab, ledger.id, older)
    catalog.sync()
    assert lifecycle(catalog, "ledger") == "retired"
    asked = [r.path for r in gitlab.api_requests()]
    assert any(path.endswith(f"/projects/{ledger.id}/repository/branches/main") for path in asked)


def test_the_gitlab_source_reads_a_force_push_back_to_an_older_commit(
    catalog: Catalog, gitlab: FakeGitLab
) -> None:
    client, ledger, kept, undone = ledger_pushed_twice(catalog, gitlab)
    push_to_gitlab(client, gitlab, ledger.id, undone)
    catalog.sync()
    assert lifecycle(catalog, "ledger") == "retired"
    run_git("update-ref", f"refs/heads/{ledger.default_branch}", kept, cwd=ledger.remote.path)
    push_to_gitlab(client, gitlab, ledger.id, kept)
    catalog.sync()
    assert lifecycle(catalog, "ledger") == "deprecated"


@pytest.mark.parametrize("answer", [{"id": 7}, {"id": "ZZ"}, {"id": "A" * 40}, ["x"], "merge", {}])
def test_a_merge_base_answer_that_names_no_commit_has_the_pushed_commit_read(
    make_catalog: Callable[..., Catalog], gitlab: FakeGitLab, answer: Any
) -> None:
    catalog = make_catalog()
    ledger = gitlab.add_project("acme", "ledger", files={"catalog-info.yaml": product_yaml("ledger")})
    client = use_gitlab(catalog, gitlab)
    catalog.sync()
    after = gitlab.push(ledger, {"catalog-info.yaml": product_yaml("ledger", lifecycle="deprecated")})
    gitlab.misbehave.merge_base = answer
    push_to_gitlab(client, gitlab, ledger.id, after)
    summary = catalog.sync()
    assert (summary.updated, summary.errors) == (1, 0)
    assert lifecycle(catalog, "ledger") == "deprecated"


def configured_gitlab(gitlab: FakeGitLab) -> dict[str, Any]:
    return {
        "name": "acme-gl",
        "type": "gitlab",
        "group": "acme",
        "api_url": gitlab.api_url,
        "auth": {"token_env": "GITLAB_TOKEN"},
    }
