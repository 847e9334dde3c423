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
import http.server
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

pytestmark = pytest.mark.slow

PASSWORDS = (
    "S3cret'Quote",
    'S3cret"Double',
    "S3cret<Angle>",
    "S3cret Space",
    "S3cret@At",
    "S3cret%40Encoded",
    "S3cret\u0441\u0435\u043a\u0440\u0435\u0442",
    "S3cret\nNewline",
)
"""Passwords a character class once stopped at: each must vanish whole."""
JWT = "eyJhbGciOiJIUzI1NiJ9.S3cretJwtBody.S3cretJwtSig"
PASS_PARAM = "S3cretPassParam"
GITLAB_TOKEN = "glpat-AAAAAAAAAAAAAAAAAAAA"
GITHUB_TOKEN = "ghp_" + "Abc123XyZ0" * 3 + "a1B2c3"
SECRETS = (*PASSWORDS, JWT, PASS_PARAM, GITLAB_TOKEN, GITHUB_TOKEN)
WRITE_TOKEN = "writer-token-0123456789abcdef"

PAY_URL = "https://127.0.0.1:9/acme/pay.git"
"""A git source on a port that refuses: git's error, which quotes the URL, is stored."""
REGISTERED_URL = "https://127.0.0.1:9/acme/registered.git"
ECHOED = " and ".join(
    [f"https://bob:{password}@internal.example/x.git" for password in PASSWORDS]
    + [f"https://internal.example/y.git?jwt={JWT}&pass={PASS_PARAM}", f"token {GITHUB_TOKEN}"]
)
"""What a hostile git host answers (a smart-HTTP ``ERR`` packet): git prints it as its own error."""


def _packet(text: str) -> bytes:
    data = text.encode()
    return b"%04x" % (len(data) + 4) + data


class _EchoingHost(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = _packet("# service=git-upload-pack\n") + b"0000" + _packet(f"ERR access denied: {ECHOED}\n")
        self.send_response(200)
        self.send_header("Content-Type", "application/x-git-upload-pack-advertisement")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@contextlib.contextmanager
def echoing_host() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _EchoingHost)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/echo.git"
    finally:
        server.shutdown()
        server.server_close()


def catalog_sync_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("CATALOG_SYNC_")}


def run_sync(
    root: Path, config: str = "catalog-sync.yaml", *, status: int = 0
) -> subprocess.CompletedProcess[str]:
    """``catalog-sync sync`` as a user types it, with the configuration named relative to the folder."""
    result = subprocess.run(
        [sys.executable, "-m", "catalog_sync", "sync", "--config", config, "--format", "json"],
        cwd=root,
        env=catalog_sync_env(),
        text=True,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == status, result.stderr
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
    refusals: list[str] = field(default_factory=list)
    """What ``sync`` printed when started with a configured URL carrying a password."""

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
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with echoing_host() as echo_url:
        yield build_world(tmp_path_factory.mktemp("credentials"), echo_url)


def build_world(root: Path, echo_url: str) -> World:
    config = {
        "database": f"sqlite:///{root / 'catalog.db'}",
        "sources": [
            {"name": "pay", "type": "git", "url": PAY_URL},
            {"name": "echo", "type": "git", "url": echo_url},
        ],
        "sync": {"allowed_protocols": ["https", "http"], "allowed_private_networks": ["127.0.0.1/32"]},
        "api": {"tokens": [WRITE_TOKEN]},
    }
    (root / "catalog-sync.yaml").write_text(yaml.safe_dump(config))
    world = World(root / "catalog.db")
    for number, password in enumerate(PASSWORDS):
        refused = dict(
            config, sources=[{"name": "pay", "type": "git", "url": f"https://bob:{password}@h.example/r.git"}]
        )
        (root / f"refused-{number}.yaml").write_text(yaml.safe_dump(refused))
        result = run_sync(root, f"refused-{number}.yaml", status=1)
        world.refusals.append(result.stderr)
        world.outputs += [result.stdout, result.stderr]
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
        hostile = [
            (f"register-userinfo-{n}", f"https://bob:{p}@127.0.0.1:9/acme/mine.git")
            for n, p in enumerate(PASSWORDS)
        ]
        hostile += [
            ("register-query", f"https://127.0.0.1:9/acme/mine.git?private_token={GITLAB_TOKEN}"),
            ("register-pass", f"https://127.0.0.1:9/acme/mine.git?pass={PASS_PARAM}"),
            ("register-jwt", f"https://127.0.0.1:9/acme/mine.git?jwt={JWT}"),
            ("register-token-user", f"https://{GITHUB_TOKEN}@127.0.0.1:9/acme/mine.git"),
        ]
        for name, url in hostile:
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
        world.repository_ids["echo"] = next(r["id"] for r in repositories if "/echo.git" in r["url"])
        pages = ["/api/sources", "/api/repositories", "/api/sync/runs", "/api/catalog/locations", "/"]
        pages += ["/repositories", "/metrics"]
        for repository_id in world.repository_ids.values():  # pay, echo and the registered one
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


ECHO_SHOWN = (
    "access denied: https://bob:***@internal.example/x.git and https://bob:***@internal.example/x.git"
)


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
        (echo_error,) = db.execute(
            "SELECT last_error FROM repositories WHERE url LIKE '%/echo.git'"
        ).fetchone()
    assert found == []
    # git was run and its errors were stored: the refused port's, and the hostile host's own words,
    # which quoted URLs with every kind of password, a jwt, a pass parameter and a token.
    assert pay_url == PAY_URL
    assert "127.0.0.1 port 9" in pay_error
    assert ECHO_SHOWN in echo_error
    assert "y.git?jwt=***&pass=*** and token ***" in echo_error


def test_no_secret_in_the_api_and_the_failing_clone_is_shown_redacted(world: World) -> None:
    for path, body in world.answers.items():
        assert leaked(body) == [], path
    pay = world.json(f"/api/repositories/{world.repository_ids['pay']}")
    assert pay["state"] == "failing"
    messages = " ".join(problem["message"] for problem in pay["errors"])
    assert "127.0.0.1 port 9" in messages
    assert pay["url"] == PAY_URL
    echo = world.json(f"/api/repositories/{world.repository_ids['echo']}")
    assert ECHO_SHOWN in " ".join(problem["message"] for problem in echo["errors"])
    assert "jwt=***&pass=***" in world.answers["/api/repositories"]
    registered = world.json(f"/api/repositories/{world.repository_ids['registered']}")
    assert registered["state"] == "failing"
    sources = {s["name"]: s for s in world.json("/api/sources")["items"]}
    assert sources["pay"]["target"] == PAY_URL
    runs = world.json("/api/sync/runs")["items"]
    assert len(runs) == 2


def test_a_registration_with_credentials_is_refused_without_echoing_them(world: World) -> None:
    names = [name for name in world.answers if name.startswith("register-")]
    assert len(names) == len(PASSWORDS) + 4
    for name in names:
        answer = world.answers[name]
        assert answer.startswith("400 "), answer
        assert "credentials are never stored" in answer
        assert "credential helper" in answer
        assert leaked(answer) == []
    not_found = world.answers[f"GET /api/nowhere/{GITHUB_TOKEN}"]
    assert "/api/nowhere/***" in not_found


def test_a_configured_url_with_a_password_is_refused_at_start_naming_its_key(world: World) -> None:
    assert len(world.refusals) == len(PASSWORDS)
    for refusal in world.refusals:
        assert "configuration error: sources.0.url: the URL carries a password" in refusal
        assert leaked(refusal) == []


def test_no_secret_in_the_portal_or_the_metrics(world: World) -> None:
    for path in ("/", "/repositories", f"/repositories/{world.repository_ids['pay']}", "/metrics"):
        assert leaked(world.answers[path]) == [], path
    assert "127.0.0.1 port 9" in world.answers[f"/repositories/{world.repository_ids['pay']}"]
    assert "bob:***@internal.example" in world.answers[f"/repositories/{world.repository_ids['echo']}"]
    assert "catalog_sync_" in world.answers["/metrics"]


def test_no_secret_in_the_program_output_or_the_server_log(world: World) -> None:
    for text in world.outputs:
        assert leaked(text) == []
    summary = json.loads(world.outputs[2 * len(PASSWORDS)])
    assert {s["name"] for s in summary["sources"]} >= {"pay", "echo"}
    assert leaked(world.server_log) == []
    # The access log quoted the request line with its query string, redacted.
    assert "/api/repositories?private_token=***" in world.server_log
