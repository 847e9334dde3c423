"""The in-process wake-up ``serve`` shares between the API and the sync loop."""

from __future__ import annotations

import threading

from catalog_sync.sync import InProcessWakeup
from catalog_sync.sync.loop import run_forever


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
