"""A worker SIGKILLed between writing an event and delivering it: the next worker delivers it, once.

Real processes (``catalog-sync worker``), a real receiver on a loopback port, on SQLite and
PostgreSQL. The first worker syncs, re-scores (the level drop is committed to the outbox), claims the
row and posts it; the receiver holds the request without answering, and the worker is killed. The
second worker takes the row once the dead worker's claim has expired and the receiver answers 200:
one delivery, with the same delivery id as the unanswered try.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml
from sqlalchemy import select

from catalog_sync.store.engine import open_engine
from catalog_sync.store.tables import notifications
from tests.e2e.test_sync_after_crash import database_url  # noqa: F401 - the fixture, on both databases
from tests.fixtures.gitrepos import GitRepo
from tests.fixtures.receivers import receiver

CARD = """\
apiVersion: catalog/v1
kind: Scorecard
metadata: {name: basics}
spec:
  appliesTo: [kind=product]
  levels: [bronze, silver]
  checks:
    - {id: owner, title: An owner, level: bronze, rule: {field: spec.owner, exists: true}}
    - {id: readme, title: A README, level: silver, rule: {repoFile: {paths: [README.md]}}}
"""
PRODUCT = """\
apiVersion: catalog/v1
kind: Product
metadata: {name: pay}
spec: {type: service, lifecycle: production, owner: payments}
"""
SECRET = "a-secret-the-receiver-checks-0001"


def _wait(condition: Callable[[], bool], timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; the workers said:\n{log.read_text()}")
        time.sleep(0.1)


def _worker(config: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "catalog_sync",
                "worker",
                "--config",
                str(config),
                "--poll-seconds",
                "0.5",
            ],
            cwd=config.parent,
            env=env,
            stdout=output,
            stderr=output,
            start_new_session=True,
        )


def test_a_worker_killed_before_delivering_leaves_the_event_to_the_next_worker_once(
    tmp_path: Path,
    database_url: str,  # noqa: F811 - the fixture imported above
) -> None:
    fleet = tmp_path / "fleet"
    GitRepo(fleet / "platform").commit("scorecard", files={"catalog-info.yaml": CARD})
    pay = GitRepo(fleet / "pay")
    pay.commit("pay", files={"catalog-info.yaml": PRODUCT, "README.md": "# pay\n"})
    with receiver(["hang", 200], secret=SECRET) as hook:
        config = tmp_path / "catalog-sync.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "database": database_url,
                    "sources": [{"name": "fleet", "type": "local", "path": str(fleet)}],
                    "sync": {"interval_seconds": 1, "concurrency": 1, "cache_dir": str(tmp_path / "cache")},
                    "scorecards": {"builtin": False, "trusted_sources": ["fleet"]},
                    "notifications": {
                        "channels": [
                            {
                                "name": "ops",
                                "type": "webhook",
                                "url_env": "OPS_URL",
                                "secret_env": "OPS_SECRET",
                                "events": ["level_dropped"],
                            }
                        ],
                        "timeout_seconds": 1,
                        "batch_size": 1,
                        "concurrency": 1,
                        "poll_seconds": 0.2,
                        "backoff_seconds": 0.5,
                    },
                }
            )
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("CATALOG_SYNC_")}
        env.update({"OPS_URL": hook.url, "OPS_SECRET": SECRET})
        done = subprocess.run(
            [sys.executable, "-m", "catalog_sync", "sync", "--config", str(config)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        pay.delete("README.md")
        pay.commit("no README")

        log = tmp_path / "workers.log"
        first = _worker(config, env, log)
        try:
            _wait(lambda: len(hook.requests) == 1, 60, "the first worker to post the event", log)
        finally:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(10)
        engine = open_engine(database_url)
        with engine.connect() as conn:
            (row,) = conn.execute(select(notifications)).all()
        assert (row.event, row.status, row.attempts) == ("level_dropped", "pending", 0)

        second = _worker(config, env, log)
        try:
            _wait(lambda: len(hook.delivered) == 1, 60, "the second worker to deliver it", log)
            time.sleep(2)  # and nothing more arrives
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(30)
        with engine.connect() as conn:
            (row,) = conn.execute(select(notifications)).all()
        engine.dispose()
    assert (row.status, row.attempts) == ("delivered", 1)
    assert len(hook.requests) == 2
    assert len(hook.delivered) == 1
    assert {r.headers["X-Catalog-Delivery"] for r in hook.requests} == {
        hook.requests[0].headers["X-Catalog-Delivery"]
    }
    assert all(r.signature_ok for r in hook.requests)
    assert hook.delivered[0].document["entity"] == {"ref": "product:default/pay"}
