"""The in-process wake-up ``serve`` shares between the API and the sync loop."""

from __future__ import annotations

import threading
import time

from catalog_sync.sync import InProcessWakeup
from catalog_sync.sync.loop import SETTLE_LIMIT_SECONDS, run_forever, settle


def test_a_wakeup_answers_whether_it_was_woken() -> None:
    wakeup = InProcessWakeup()
    assert wakeup.wait(0.01) is False
    wakeup.notify()
    assert wakeup.wait(5) is True
    assert wakeup.wait(0.01) is False  # one notification wakes one wait


def test_the_loop_runs_a_pass_per_wakeup_and_outlives_a_failing_one() -> None:
    stop, wakeup = threading.Event(), InProcessWakeup()
    passes: list[int] = []
    ran = threading.Semaphore(0)

    def run_pass() -> None:
        passes.append(len(passes))
        ran.release()
        if len(passes) == 1:
            raise RuntimeError("a bug in one pass")

    loop = threading.Thread(
        target=run_forever, args=(run_pass, stop), kwargs={"poll_seconds": 60, "wakeup": wakeup}
    )
    loop.start()
    try:
        assert ran.acquire(timeout=5)
        wakeup.notify()
        assert ran.acquire(timeout=5), "a wake-up should start the next pass without waiting for the poll"
    finally:
        stop.set()
        wakeup.notify()
        loop.join(5)
    assert not loop.is_alive()
    assert len(passes) >= 2


def _notify_every(wakeup: InProcessWakeup, seconds: float, until: threading.Event) -> threading.Thread:
    def keep_notifying() -> None:
        while not until.wait(seconds):
            wakeup.notify()

    thread = threading.Thread(target=keep_notifying, daemon=True)
    thread.start()
    return thread


def test_settling_ends_once_wakeups_stop_coming() -> None:
    stop, wakeup = threading.Event(), InProcessWakeup()
    started = time.monotonic()
    settle(wakeup, stop, quiet_seconds=0.05, limit_seconds=5)
    assert 0.05 <= time.monotonic() - started < 2


def test_a_steady_stream_of_wakeups_settles_by_the_limit() -> None:
    stop, wakeup, done = threading.Event(), InProcessWakeup(), threading.Event()
    notifier = _notify_every(wakeup, 0.01, done)
    try:
        started = time.monotonic()
        settle(wakeup, stop, quiet_seconds=0.5, limit_seconds=0.3)
        waited = time.monotonic() - started
    finally:
        done.set()
        notifier.join(5)
    assert 0.3 <= waited < 2, "a steady stream must not hold the pass back for ever"


def test_a_stop_ends_settling_at_once() -> None:
    stop, wakeup = threading.Event(), InProcessWakeup()

    def stop_now() -> None:
        stop.set()
        wakeup.notify()

    threading.Timer(0.1, stop_now).start()
    started = time.monotonic()
    settle(wakeup, stop, quiet_seconds=30, limit_seconds=60)
    assert time.monotonic() - started < 5


def test_a_burst_of_wakeups_is_read_in_one_pass_not_one_each() -> None:
    stop, wakeup = threading.Event(), InProcessWakeup()
    passes: list[float] = []
    ran = threading.Semaphore(0)

    def run_pass() -> None:
        passes.append(time.monotonic())
        ran.release()

    loop = threading.Thread(
        target=run_forever, args=(run_pass, stop), kwargs={"poll_seconds": 60, "wakeup": wakeup}
    )
    loop.start()
    try:
        assert ran.acquire(timeout=5)
        for _ in range(20):  # twenty pushes answered 5 ms apart: within one burst
            wakeup.notify()
            time.sleep(0.005)
        assert ran.acquire(timeout=5), "the burst must be read"
        time.sleep(SETTLE_LIMIT_SECONDS + 0.2)
    finally:
        stop.set()
        wakeup.notify()
        loop.join(5)
    assert not loop.is_alive()
    assert 2 <= len(passes) <= 4, f"{len(passes) - 1} passes for one burst of 20 wake-ups"
