"""A GitHub App's own webhook receives ``installation`` and ``installation_repositories`` events
whatever it subscribes to: repositories given to the installation are read at once (its sources list
now), an installation no source is authenticated as is answered ignored, never refused, and a
malformed one is refused. Run with the real ``github`` source authenticated as an App installation
against the local GitHub, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.fixtures.fakegithub import FakeGitHub
from tests.fixtures.hosted import body_of, github_headers
from tests.integration.conftest import Catalog, product_yaml
from tests.integration.test_github_app_auth import KEY_ENV, use_app
from tests.integration.webhooks.conftest import SECRET
from tests.integration.webhooks.test_push_order import webhook_client

INSTALLATION = 5678


@pytest.fixture
def hub(app_hub: FakeGitHub) -> FakeGitHub:
    """The local GitHub that takes App installation tokens alone."""
    return app_hub


@pytest.fixture
def client(catalog: Catalog, hub: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> FlaskClient:
    """``acme/pay`` listed and read once through the App's installation; answers the catalog's API."""
    app = hub.add_app(installation_id=INSTALLATION)
    monkeypatch.setenv(KEY_ENV, app.private_key_pem)
    hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay")})
    use_app(catalog, hub, app, INSTALLATION)
    assert catalog.sync().sources[0]["error"] is None
    return webhook_client(
        catalog, {"CATALOG_SYNC_GITHUB_WEBHOOK_SECRETS": SECRET, KEY_ENV: app.private_key_pem}
    )


def installation_event(event: str, action: str, installation: Any, account_url: str) -> dict[str, Any]:
    """An ``installation`` or ``installation_repositories`` payload as GitHub sends an App."""
    document: dict[str, Any] = {
        "action": action,
        "installation": {"id": installation, "account": {"login": "acme", "url": account_url}},
        "sender": {"login": "octocat"},
    }
    if event == "installation_repositories":
        document |= {"repository_selection": "selected", "repositories_added": [], "repositories_removed": []}
    return document


def deliver(client: FlaskClient, event: str, document: dict[str, Any]) -> tuple[int, Any]:
    body = body_of(document)
    answer = client.post("/api/webhooks/github", data=body, headers=github_headers(SECRET, body, event))
    return answer.status_code, answer.get_json()


def test_a_repository_given_to_the_installation_is_read_at_the_next_pass(
    catalog: Catalog, hub: FakeGitHub, client: FlaskClient
) -> None:
    hub.add_repo("acme", "fresh", {"catalog-info.yaml": product_yaml("fresh")})
    catalog.sync(everything=False)
    assert catalog.entity("product:default/fresh") is None  # the interval has not passed: not listed

    account = f"{hub.api_url}/orgs/acme"
    status, answer = deliver(
        client,
        "installation_repositories",
        installation_event("installation_repositories", "added", INSTALLATION, account),
    )
    summary = catalog.sync(everything=False)

    assert (status, answer) == (202, {"accepted": True, "repositories": [], "listing": ["acme"]})
    assert [s["name"] for s in summary.sources] == ["acme"]
    assert catalog.entity("product:default/fresh") is not None


@pytest.mark.parametrize("event", ["installation", "installation_repositories"])
def test_an_installation_no_source_is_authenticated_as_is_ignored_not_refused(
    catalog: Catalog, hub: FakeGitHub, client: FlaskClient, event: str
) -> None:
    other_host = "https://api.github.com/orgs/acme"
    for document in (
        installation_event(event, "created", INSTALLATION + 1, f"{hub.api_url}/orgs/acme"),
        installation_event(event, "created", INSTALLATION, other_host),  # the same id on another host
    ):
        status, answer = deliver(client, event, document)
        assert status == 202
        assert answer == {
            "ignored": "no github source of this host is authenticated as this app installation"
        }
    assert catalog.sync(everything=False).sources == []


@pytest.mark.parametrize("installation", [None, "5678", -1, True, 2**63, {"id": 5678}])
def test_an_installation_event_without_a_valid_id_is_refused(
    catalog: Catalog, client: FlaskClient, installation: Any
) -> None:
    document = installation_event("installation", "deleted", installation, "https://api.github.com/orgs/acme")
    if installation is None:
        del document["installation"]["id"]
    status, answer = deliver(client, "installation", document)
    assert status == 400
    assert "installation.id" in answer["error"]["message"]
    assert catalog.sync(everything=False).sources == []
