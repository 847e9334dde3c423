"""Credentials fed through every path the product has are found nowhere a person or a scraper can read.

The world is built for real: a configuration whose git sources carry a password, a GitLab token in a
query parameter and a GitHub token; clones that fail against an unreachable port (so git's own error
text, which quotes the URL, is stored); registrations through ``POST /api/repositories`` with
credentials in the URL; requests whose query strings carry a token. Sync passes run through the real
``catalog-sync sync`` and the API and portal through the real ``catalog-sync serve``. Then the database
(every text column of every table), the API, the portal, the metrics, the program's output and the
server's log are searched for the secrets, and the redacted text is checked to be where the URL is
shown, so each path is proven to have been taken rather than simply silent.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

pytestmark = pytest.mark.slow

PASSWORD = "S3cretPass"
GITLAB_TOKEN = "glpat-AAAAAAAAAAAAAAAAAAAA"
GITHUB_TOKEN = "ghp_" + "Abc123XyZ0" * 3 + "a1B2c3"
SECRETS = (PASSWORD, GITLAB_TOKEN, GITHUB_TOKEN)
WRITE_TOKEN = "writer-token-0123456789abcdef"

PAY_URL = f"https://alice:{PASSWORD}@127.0.0.1:9/acme/pay.git?private_token={GITLAB_TOKEN}"
"""A git source: userinfo and a secret query parameter; port 9 refuses, so git's error quotes it."""
TOOLS_URL = f"http://127.0.0.1:9/acme/tools.git?access={GITHUB_TOKEN}"
"""A git source refused before git runs (http is not allowed): the refusal quotes the URL, whose
parameter name says nothing of a secret, so only the token's own shape gives it away."""
REGISTERED_URL = "https://127.0.0.1:9/acme/registered.git"


def catalog_sync_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("CATALOG_SYNC_")}


def run_sync(root: Path) -> subprocess.CompletedProcess[str]:
    """``catalog-sync sync`` as a user types it, with the configuration named relative to the folder."""
    result = subprocess.run(
        [sys.executable, "-m", "catalog_sync", "sync", "--config", "catalog-sync.yaml", "--format", "json"],
        cwd=root,
        env=catalog_sync_env(),
        text=True,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result


@dataclass
class World:
    """Everything a reader could see after the secrets went through the product."""

    database: Path
    outputs: list[str] = field(default_factory=list)
    """The sync passes' stdout and stderr."""
    server_log: str = ""
    answers: dict[str, str] = field(default_factory=dict)
    """Response bodies by the request that produced them."""
    repository_ids: dict[str, int] = field(default_factory=dict)

    def json(self, key: str) -> Any:
        return json.loads(self.answers[key])


def register(base: str, url: str) -> requests.Response:
    return requests.post(
        f"{base}/api/repositories",
        json={"url": url},
        headers={"Authorization": f"Bearer {WRITE_TOKEN}"},
        timeout=30,
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("credentials")
    config = {
        "database": f"sqlite:///{root / 'catalog.db'}",
        "sources": [
            {"name": "pay", "type": "git", "url": PAY_URL},
            {"name": "tools", "type": "git", "url": TOOLS_URL},
        ],
        "sync": {"allowed_protocols": ["https"]},
        "api": {"tokens": [WRITE_TOKEN]},
    }
    (root / "catalog-sync.yaml").write_text(yaml.safe_dump(config))
    world = World(root / "catalog.db")
    first = run_sync(root)
    world.outputs += [first.stdout, first.stderr]

    serve = ["serve", "--config", "catalog-sync.yaml", "--no-sync", "--port", "0"]
    server = subprocess.Popen(
        [sys.executable, "-m", "catalog_sync", *serve],
        cwd=root,
        env=catalog_sync_env(),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert server.stdout is not None
        banner = server.stdout.readline()
        assert banner.startswith("serving on "), banner
        base = banner.split()[-1]
        for name, url in (
            ("register-userinfo", f"https://bob:{PASSWORD}@127.0.0.1:9/acme/mine.git"),
            ("register-query", f"https://127.0.0.1:9/acme/mine.git?private_token={GITLAB_TOKEN}"),
            ("register-token-user", f"https://{GITHUB_TOKEN}@127.0.0.1:9/acme/mine.git"),
        ):
            answer = register(base, url)
            world.answers[name] = f"{answer.status_code} {answer.text}"
        accepted = register(base, REGISTERED_URL)
        assert accepted.status_code == 201, accepted.text
        world.repository_ids["registered"] = accepted.json()["id"]

        second = run_sync(root)  # reads the registration too; every clone fails again
        world.outputs += [second.stdout, second.stderr]

        # A token in a query string and in a path: the access log and the error answers quote both.
        for path in (f"/api/repositories?private_token={GITLAB_TOKEN}", f"/api/nowhere/{GITHUB_TOKEN}"):
            answer = requests.get(base + path, timeout=30)
            world.answers[f"GET {path}"] = answer.text

        repositories = requests.get(f"{base}/api/repositories", timeout=30).json()["items"]
        world.repository_ids["pay"] = next(r["id"] for r in repositories if "/acme/pay.git" in r["url"])
        pages = ["/api/sources", "/api/repositories", "/api/sync/runs", "/api/catalog/locations", "/"]
        pages += ["/repositories", "/metrics"]
        for repository_id in world.repository_ids.values():
            pages += [f"/api/repositories/{repository_id}", f"/repositories/{repository_id}"]
        for path in pages:
            answer = requests.get(base + path, timeout=30)
            assert answer.status_code == 200, (path, answer.text)
            world.answers[path] = answer.text
    finally:
        with contextlib.suppress(ProcessLookupError):  # it may have failed to start
            os.killpg(server.pid, signal.SIGTERM)
        out, err = server.communicate(timeout=30)
    world.server_log = out + err
    return world


def leaked(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


def test_no_secret_in_any_text_column_of_any_table(world: World) -> None:
    found: list[tuple[str, str, list[str]]] = []
    with sqlite3.connect(world.database) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        assert {"repositories", "sources", "sync_runs", "problems"} <= set(tables)
        for table in tables:
            for row in db.execute(f'SELECT * FROM "{table}"'):
                for value in row:
                    if isinstance(value, str | bytes) and leaked(str(value)):
                        found.append((table, str(value), leaked(str(value))))
        pay_error, pay_url = db.execute(
            "SELECT last_error, url FROM repositories WHERE url LIKE '%/acme/pay.git%'"
        ).fetchone()
    assert found == []
    # git was run and its error, which quotes the URL, was stored without the credentials in it.
    assert pay_url == "https://***@127.0.0.1:9/acme/pay.git?private_token=***"
    assert "unable to access 'https://127.0.0.1:9/acme/pay.git?private_token=***" in pay_error
    assert "127.0.0.1 port 9" in pay_error


def test_no_secret_in_the_api_and_the_failing_clone_is_shown_redacted(world: World) -> None:
    for path, body in world.answers.items():
        assert leaked(body) == [], path
    pay = world.json(f"/api/repositories/{world.repository_ids['pay']}")
    assert pay["state"] == "failing"
    messages = " ".join(problem["message"] for problem in pay["errors"])
    assert "unable to access 'https://127.0.0.1:9/acme/pay.git?private_token=***" in messages
    assert "127.0.0.1 port 9" in messages
    assert pay["url"].startswith("https://***@127.0.0.1:9/acme/pay.git")
    registered = world.json(f"/api/repositories/{world.repository_ids['registered']}")
    assert registered["state"] == "failing"
    sources = {s["name"]: s for s in world.json("/api/sources")["items"]}
    assert sources["pay"]["target"] == "https://***@127.0.0.1:9/acme/pay.git?private_token=***"
    assert "tools.git?access=***" in sources["tools"]["lastError"]
    assert "refused" in sources["tools"]["lastError"]
    runs = world.json("/api/sync/runs")["items"]
    assert len(runs) == 2


def test_a_registration_with_credentials_is_refused_without_echoing_them(world: World) -> None:
    for name in ("register-userinfo", "register-query", "register-token-user"):
        answer = world.answers[name]
        assert answer.startswith("400 "), answer
        assert "credentials in repository URLs are not stored" in answer
        assert leaked(answer) == []
    not_found = world.answers[f"GET /api/nowhere/{GITHUB_TOKEN}"]
    assert "/api/nowhere/***" in not_found


def test_no_secret_in_the_portal_or_the_metrics(world: World) -> None:
    for path in ("/", "/repositories", f"/repositories/{world.repository_ids['pay']}", "/metrics"):
        assert leaked(world.answers[path]) == [], path
    assert "127.0.0.1 port 9" in world.answers[f"/repositories/{world.repository_ids['pay']}"]
    assert "catalog_sync_" in world.answers["/metrics"]


def test_no_secret_in_the_program_output_or_the_server_log(world: World) -> None:
    for text in world.outputs:
        assert leaked(text) == []
    summary = json.loads(world.outputs[0])
    tools = next(s for s in summary["sources"] if s["name"] == "tools")
    assert "tools.git?access=***" in tools["error"]
    assert leaked(world.server_log) == []
    # The access log quoted the request line with its query string, redacted.
    assert "/api/repositories?private_token=***" in world.server_log
