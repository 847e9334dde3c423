"""What one push delivery costs the API process, in figures the machine's load does not move.

```sh
.venv/bin/python -m benchmarks.webhook_statements                  # SQLite and PostgreSQL
.venv/bin/python -m benchmarks.webhook_statements --skip-postgres  # SQLite only
```

``webhook_bench`` measures answers between processes, where the CPU per delivery of one run can differ
from the next by a third on a shared machine. This benchmark sends the same signed pushes to the WSGI
app in its own process (``wsgi_app()``, as gunicorn loads it; no HTTP server) and counts, per delivery:

- the **SQL statements** sent to the database (``before_cursor_execute``): exact, so a change that
  adds a query to the answer shows here whatever the load;
- the **Python function calls** made while answering (``cProfile``): exact too, for the code path
  around the statements;
- the **CPU milliseconds** (``time.process_time``), the one figure the load still moves, beside the
  load average.

Deliveries are answered one at a time (each its own transaction), so the figures are those of the
worst case; under a burst the group commit shares one transaction among several deliveries.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from benchmarks.webhook_bench import SECRET, Organisation, postgres_database
from tests.fixtures.hosted import body_of, github_push, sign

WARM_UP = 30


def measure(org: Organisation, deliveries: int) -> dict[str, float]:
    """Send ``deliveries`` pushes to known repositories (after a warm-up) and count what they cost."""
    import sqlalchemy
    from sqlalchemy import event

    os.environ.clear()
    os.environ.update({**org.env, "CATALOG_SYNC_CONFIG": str(org.config)})
    from catalog_sync.cli import wsgi_app
    from tests.fixtures.hosted import install_hosted_sources

    install_hosted_sources()
    statements = [0]

    def count(*_: Any) -> None:
        statements[0] += 1

    event.listen(sqlalchemy.engine.Engine, "before_cursor_execute", count)
    try:
        client = wsgi_app().test_client()
        send = _sender(org, client)
        for n in range(WARM_UP):
            send(n)
        statements[0] = 0
        started = time.process_time()
        for n in range(deliveries):
            send(n)
        cpu = time.process_time() - started
        sent = statements[0]
        profile = cProfile.Profile()
        profile.enable()
        for n in range(deliveries):
            send(n)
        profile.disable()
        calls = pstats.Stats(profile).total_calls  # type: ignore[attr-defined]
    finally:
        event.remove(sqlalchemy.engine.Engine, "before_cursor_execute", count)
    return {
        "deliveries": deliveries,
        "statements_per_delivery": round(sent / deliveries, 2),
        "calls_per_delivery": round(calls / deliveries),
        "cpu_ms_per_delivery": round(cpu * 1000 / deliveries, 3),
        "load_average": round(os.getloadavg()[0], 2),
    }


def _sender(org: Organisation, client: Any) -> Callable[[int], None]:
    names = list(org.repos)
    heads = {name: org.repos[name].head() for name in names}

    def send(n: int) -> None:
        name = names[n % len(names)]
        body = body_of(github_push(org.ids[name], after=heads[name], name=f"acme/{name}"))
        headers = {
            "Content-Type": "application/json",
            "X-GitHub-Event": "push",
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": sign(SECRET, body),
        }
        answer = client.post("/api/webhooks/github", data=body, headers=headers)
        if answer.status_code != 202:
            raise SystemExit(f"a delivery was answered {answer.status_code}: {answer.get_data(as_text=True)}")

    return send


def main(argv: list[str] | None = None) -> int:
    """Measure on each database and print one row each."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.webhook_statements")
    parser.add_argument("--deliveries", type=int, default=300)
    parser.add_argument("--repositories", type=int, default=50)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args(argv)
    databases = ["sqlite"] + ([] if args.skip_postgres else ["postgresql"])
    rows = {}
    kept = dict(os.environ)
    for database in databases:
        with tempfile.TemporaryDirectory(prefix="webhook-statements-") as tmp, ExitStack() as stack:
            root = Path(tmp) / database
            url = (
                f"sqlite:///{tmp}/catalog.db"
                if database == "sqlite"
                else stack.enter_context(postgres_database())
            )
            org = Organisation(root, url, args.repositories)
            try:
                rows[database] = measure(org, args.deliveries)
            finally:
                os.environ.clear()
                os.environ.update(kept)
        print(f"{database}: {rows[database]}", file=sys.stderr, flush=True)
    print("| database | statements per delivery | Python calls per delivery | CPU ms per delivery | load |")
    print("|---|---|---|---|---|")
    for database, row in rows.items():
        print(
            f"| {database} | {row['statements_per_delivery']} | {row['calls_per_delivery']} | "
            f"{row['cpu_ms_per_delivery']} | {row['load_average']} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
