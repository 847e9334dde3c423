"""The worker loop: a repository made due (a push, a refresh) is read at once, not at the next poll."""

from __future__ import annotations

import threading
import time

from catalog_sync.sync import InProcessWakeup, SyncEngine, utcnow
from tests.fixtures.syncstore import sync_store
from tests.integration.conftest import Catalog, product_yaml

POLL_SECONDS = 60.0


def test_a_repository_made_due_is_read_by_the_loop_without_waiting_for_the_poll(catalog: Catalog) -> None:
    catalog.repo("pay", {"catalog-info.yaml": product_yaml("pay")})
    store = sync_store(catalog.engine)
    engine = SyncEngine(catalog.settings, store)
    assert engine.run_pass().added == 1
    stop, wakeup = threading.Event(), InProcessWakeup()
    loop = threading.Thread(
        target=engine.run_forever, args=(stop,), kwargs={"poll_seconds": POLL_SECONDS, "wakeup": wakeup}
    )
    loop.start()
    try:
        catalog.repo("pay", {"catalog-info.yaml": product_yaml("pay", lifecycle="deprecated")})
        assert store.make_due(catalog.repository("pay")["id"], now=utcnow())
        wakeup.notify()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and _lifecycle(catalog) != "deprecated":
            time.sleep(0.1)
        assert _lifecycle(catalog) == "deprecated"
    finally:
        stop.set()
        wakeup.notify()
        loop.join(30)
    assert not loop.is_alive()


def _lifecycle(catalog: Catalog) -> str | None:
    entity = catalog.entity("product:default/pay")
    return None if entity is None else str(entity["body"]["spec"]["lifecycle"])
