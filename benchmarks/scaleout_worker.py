"""``catalog-sync worker`` with its claims counted, for the scale-out benchmark.

The worker is the shipped one (``catalog_sync.cli.main(["worker", ...])``); only the store's
``claim_due`` is wrapped to count, per claim, whether it was contended: it came back with fewer
repositories than it asked for while unread repositories it did not get remained (held or locked by
another worker at that moment). With ``FOR UPDATE SKIP LOCKED`` a contended claim costs no wait, only
a smaller batch; the figure says how often workers stepped on each other. The counts are written as
JSON to the file named by ``--claims-out`` when the worker stops.

    python -m benchmarks.scaleout_worker --claims-out claims.json -- --config F --poll-seconds 0.5
"""

from __future__ import annotations

import atexit
import json
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select

from catalog_sync.cli import main as catalog_sync_main
from catalog_sync.store import sync_sql
from catalog_sync.store.base import Transaction, connection_of
from catalog_sync.store.sync_store import ClaimedRepository
from catalog_sync.store.tables import repositories

COUNTS: dict[str, int] = {"claims": 0, "contended": 0, "claimed": 0}


def _unread_elsewhere(tx: Transaction, worker: str) -> int:
    """Repositories not read yet and not this worker's: what a short claim could have taken."""
    table = repositories
    query = (
        select(func.count())
        .select_from(table)
        .where(
            table.c.removed_at.is_(None),
            table.c.last_sync_at.is_(None),
            or_(table.c.claimed_by.is_(None), table.c.claimed_by != worker),
        )
    )
    return int(connection_of(tx).execute(query).scalar_one())


def count_claims() -> None:
    """Wrap the store's ``claim_due`` so every claim is counted, and whether it was contended."""
    original = sync_sql.SqlSyncStore.claim_due

    def counted(self: Any, tx: Transaction, worker: str, **kwargs: Any) -> list[ClaimedRepository]:
        claimed = original(self, tx, worker, **kwargs)
        COUNTS["claims"] += 1
        COUNTS["claimed"] += len(claimed)
        if len(claimed) < kwargs["limit"] and _unread_elsewhere(tx, worker) > 0:
            COUNTS["contended"] += 1
        return claimed

    sync_sql.SqlSyncStore.claim_due = counted  # type: ignore[method-assign]


def run(argv: list[str]) -> int:
    """Run the worker with ``argv`` after ``--``; write the claim counts to ``--claims-out`` at exit."""
    if len(argv) < 3 or argv[0] != "--claims-out" or argv[2] != "--":
        print("usage: python -m benchmarks.scaleout_worker --claims-out FILE -- WORKER-ARGS", file=sys.stderr)
        return 2
    out = Path(argv[1])
    count_claims()
    atexit.register(lambda: out.write_text(json.dumps(COUNTS)))
    return catalog_sync_main(["worker", *argv[3:]])


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
