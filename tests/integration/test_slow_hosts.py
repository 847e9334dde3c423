"""Hosts that never answer cost their own repositories a timeout, and every other repository nothing;
hosts whose names come to resolve to internal addresses are refused before git runs."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from catalog_sync.store.admin_store import SqlAdministration
from catalog_sync.store.base import Database
from catalog_sync.sync.summary import PassSummary
from tests.fixtures.gitrepos import new_remote
from tests.fixtures.http import tarpit
from tests.fixtures.smarthttp import smart_http
from tests.integration.conftest import Catalog, product_yaml

TIP_TIMEOUT = 8.0
FETCH_TIMEOUT = 6.0
TARPITS = 16
PROTOCOLS = ("http", "https", "file")
LOOPBACK = ("127.0.0.1/32",)


def _lifecycle(catalog: Catalog, ref: str) -> str | None:
    entity = catalog.entity(ref)
    return None if entity is None else str(entity["body"]["spec"]["lifecycle"])


def test_sixteen_tarpits_do_not_delay_an_unrelated_repository(
    make_catalog: Callable[..., Catalog], tmp_path: Path
) -> None:
    remote = new_remote(tmp_path / "remotes", "pay")
    remote.publish({"catalog-info.yaml": product_yaml("pay")})
    catalog = make_catalog()
    catalog.config = {
        "sources": [{"name": "pay", "type": "git", "url": remote.url}],
        "sync": {
            "allowed_protocols": list(PROTOCOLS),
            "allowed_private_networks": list(LOOPBACK),
            "tip_timeout_seconds": TIP_TIMEOUT,
        },
    }
    assert catalog.sync().added == 1
    admin = SqlAdministration(Database(catalog.engine))
    with tarpit() as port:
        for number in range(TARPITS):  # registered now, so claimed before the repository synced earlier
            admin.register_repository(
                f"http://127.0.0.1:{port}/slow/r{number}.git",
                None,
                allowed_protocols=PROTOCOLS,
                now=catalog.clock(),
                private_networks=LOOPBACK,
            )
        remote.publish({"catalog-info.yaml": product_yaml("pay", lifecycle="deprecated")})
        summaries: list[PassSummary] = []
        started = time.monotonic()
        worker = threading.Thread(target=lambda: summaries.append(catalog.sync()))
        worker.start()
        written_after = None
        while worker.is_alive():
            if written_after is None and _lifecycle(catalog, "product:default/pay") == "deprecated":
                written_after = time.monotonic() - started
            time.sleep(0.05)
        worker.join()
        pass_took = time.monotonic() - started

    assert written_after is not None, "the change was written only when the pass ended"
    assert written_after < TIP_TIMEOUT / 2, written_after
    assert pass_took >= TIP_TIMEOUT  # the tarpits were waited for, each up to its own deadline
    assert pass_took < 2 * TIP_TIMEOUT + 5  # and all at once, not one after the other
    [summary] = summaries
    assert (summary.updated, summary.errors) == (1, TARPITS)
    slow = [p for p in catalog.problems("fetch") if "/slow/" in str(p["message"])]
    assert len(slow) == TARPITS
    for problem in slow:
        assert "no answer from the host within 8 s (sync.tip_timeout_seconds)" in problem["message"]
    assert catalog.repository("r0")["state"] == "failing"


def test_a_name_that_comes_to_resolve_to_an_internal_address_is_refused_before_git_runs(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog.config = {"sources": [], "sync": {"allowed_protocols": list(PROTOCOLS)}}
    with tarpit() as port:
        url = f"http://git.example.com:{port}/acme/cart.git"
        monkeypatch.setattr("catalog_sync.sources.hosts.resolve", lambda _host: ["93.184.216.34"])
        SqlAdministration(Database(catalog.engine)).register_repository(
            url, None, allowed_protocols=PROTOCOLS, now=catalog.clock()
        )
        monkeypatch.setattr("catalog_sync.sources.hosts.resolve", lambda _host: ["127.0.0.1"])
        started = time.monotonic()
        summary = catalog.sync()
        took = time.monotonic() - started
    assert (summary.repositories, summary.errors) == (1, 1)
    assert took < 5  # refused at once: git never waited on the tarpit behind the address
    message = catalog.problems("fetch")[0]["message"]
    assert "not public" in message
    assert "sync.allowed_private_networks" in message
    assert "127.0.0.1" not in message


def test_a_fetch_that_hangs_does_not_delay_an_unrelated_repository(
    make_catalog: Callable[..., Catalog], tmp_path: Path
) -> None:
    remote = new_remote(tmp_path / "remotes", "pay")
    remote.publish({"catalog-info.yaml": product_yaml("pay")})
    catalog = make_catalog()
    with smart_http(tmp_path / "served") as host:
        hanging = host.remote("cart")
        hanging.publish({"catalog-info.yaml": product_yaml("cart")})
        catalog.config = {
            "sources": [{"name": "pay", "type": "git", "url": remote.url}],
            "sync": {
                "allowed_protocols": list(PROTOCOLS),
                "allowed_private_networks": list(LOOPBACK),
                "fetch_timeout_seconds": FETCH_TIMEOUT,
            },
        }
        SqlAdministration(Database(catalog.engine)).register_repository(
            host.url("cart"),
            None,
            allowed_protocols=PROTOCOLS,
            now=catalog.clock(),
            private_networks=LOOPBACK,
        )
        assert catalog.sync().added == 2
        hanging.publish({"catalog-info.yaml": product_yaml("cart", lifecycle="deprecated")})
        remote.publish({"catalog-info.yaml": product_yaml("pay", lifecycle="deprecated")})
        host.stall_fetch = True
        written_after, _ = _sync_watching(catalog, "product:default/pay")

    assert written_after is not None
    assert written_after < FETCH_TIMEOUT / 2, written_after
    assert _lifecycle(catalog, "product:default/cart") == "production"  # kept while its host hangs
    [problem] = [p for p in catalog.problems("fetch") if "cart" in str(p["message"])]
    assert "git fetch did not finish within 6 s (sync.fetch_timeout_seconds)" in problem["message"]


def _sync_watching(catalog: Catalog, ref: str) -> tuple[float | None, float]:
    """Run a pass in a thread; answer when ``ref`` turned deprecated, and how long the pass took."""
    started = time.monotonic()
    worker = threading.Thread(target=catalog.sync)
    worker.start()
    written_after = None
    while worker.is_alive():
        if written_after is None and _lifecycle(catalog, ref) == "deprecated":
            written_after = time.monotonic() - started
        time.sleep(0.05)
    worker.join()
    return written_after, time.monotonic() - started
