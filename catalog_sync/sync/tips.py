"""Asking a batch of repositories for their tips so that a slow host never holds up the others.

A tip is one ``git ls-remote``: quick for a healthy host, up to ``sync.tip_timeout_seconds`` for a host
that accepts the connection and never answers (a tarpit). Two rules keep a tarpit's cost its own:

- answers are handed on as they arrive, in groups, so a repository that answered is scanned and
  written while the slow ones are still waiting (nobody waits for the whole batch);
- a repository whose tip moved has the new commit fetched in the same thread (``prefetch``), so a
  slow transfer (up to ``sync.fetch_timeout_seconds``) holds its own thread only, never a scan group;
- ``sync.concurrency`` bounds the tips that are making progress: a tip still waiting after
  ``PATIENCE`` seconds gives its place to the next one (its thread keeps waiting, up to its own
  deadline), so a handful of tarpits cannot occupy every place while healthy repositories queue.
"""

from __future__ import annotations

import functools
import itertools
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

from catalog_sync.errors import CatalogSyncError
from catalog_sync.sources.base import Repository
from catalog_sync.sync.workers import ask_tip

PATIENCE = 1.0
"""Seconds after which a tip (with its fetch) still running stops counting against ``sync.concurrency``."""
WAITING_PER_PLACE = 8
"""Threads per place of ``sync.concurrency``: how many slow tips may wait at once before healthy ones
queue behind them (each costs an idle thread and an idle git process)."""
GATHER_SECONDS = 0.05
"""How long answers arriving together are gathered into one group (one transaction, one scan batch)."""

TipAnswer = tuple[int, str | None, str | None]
"""A repository id with its tip, or with why it has none; with neither, the repository is empty (its
branch has no commit yet)."""
WantsRead = Callable[[int, str], bool]
"""Whether a repository must be read at the tip it answered (its tip moved, or a rescan is due)."""


def ask_and_fetch(repository: Repository, wants_read: Callable[[str], bool]) -> tuple[str | None, str | None]:
    """The tip, with its commit fetched when it will be read; a failed fetch is that repository's error."""
    tip, error = ask_tip(repository)
    prefetch = getattr(repository, "prefetch", None)
    if tip is None or prefetch is None or not wants_read(tip):
        return tip, error
    try:
        prefetch(tip)
    except CatalogSyncError as exc:
        return None, str(exc)
    except Exception as exc:  # one repository, one error
        return None, f"internal error while fetching: {type(exc).__name__}: {exc}"
    return tip, None


class TipAsker:
    """The threads that ask for tips, kept for one pass; ``ask`` yields answers as they arrive."""

    def __init__(
        self, concurrency: int, *, patience: float = PATIENCE, keepalive: float | None = None
    ) -> None:
        """``keepalive``: seconds without an answer after which ``ask`` yields an empty group, so the
        pass can renew its claims while slow hosts are waited for (a tip and two fetches can outlast a
        lease)."""
        self._keepalive = keepalive
        self._concurrency = max(1, concurrency)
        self._places = Places(self._concurrency, patience)
        self._threads: ThreadPoolExecutor | None = None
        self._stopped = threading.Event()

    def __enter__(self) -> TipAsker:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        """Wait for the threads after a whole pass; after a failed one (a database outage, Ctrl-C)
        drop the tips still queued, so the failure is not held up by hosts nobody will hear from."""
        if kind is not None:
            self._stopped.set()
        if self._threads is not None:
            self._threads.shutdown(wait=True, cancel_futures=kind is not None)
        self._places.close()

    def ask(
        self, repositories: dict[int, Repository], wants_read: WantsRead = lambda _rid, _tip: True
    ) -> Iterator[list[TipAnswer]]:
        """Every repository's answer, in groups as they arrive; cheap tips (local ref files) at once.
        A tip ``wants_read`` says will be read is fetched before it is answered."""
        if not repositories:
            return
        cheap = all(getattr(r, "tip_is_cheap", False) for r in repositories.values())
        if cheap or len(repositories) == 1:
            yield [
                (rid, *ask_and_fetch(repository, functools.partial(wants_read, rid)))
                for rid, repository in repositories.items()
            ]
            return
        if self._threads is None:
            self._threads = ThreadPoolExecutor(
                self._concurrency * WAITING_PER_PLACE, thread_name_prefix="catalog-tip"
            )
        arrived: queue.SimpleQueue[Future[tuple[str | None, str | None]]] = queue.SimpleQueue()
        futures: dict[Future[tuple[str | None, str | None]], int] = {}
        for rid, repository in repositories.items():
            future = self._threads.submit(self._ask_one, repository, functools.partial(wants_read, rid))
            futures[future] = rid
            future.add_done_callback(arrived.put)
        left = len(futures)
        while left:
            group = _gather(arrived, left, self._keepalive)
            if not group:
                yield []  # nothing yet: the caller renews its claims
                continue
            left -= len(group)
            yield [(futures[f], *f.result()) for f in group]

    def _ask_one(
        self, repository: Repository, wants_read: Callable[[str], bool]
    ) -> tuple[str | None, str | None]:
        """One tip, holding a place of ``sync.concurrency`` until it answers or runs out of patience."""
        token = self._places.take()
        try:
            if self._stopped.is_set():  # the pass failed while this one waited for a place
                return None, "not asked: the pass stopped"
            return ask_and_fetch(repository, wants_read)
        finally:
            self._places.give_back(token)


def _gather(
    arrived: queue.SimpleQueue[Future[tuple[str | None, str | None]]], left: int, keepalive: float | None
) -> list[Future[tuple[str | None, str | None]]]:
    """The answers arriving within ``GATHER_SECONDS`` of the first (waited for up to ``keepalive``),
    at most ``left``. Each answer is handed over once, through a queue: ``concurrent.futures.wait``
    would visit every pending future twice per group, thousands in a full pass of a hosted source."""
    try:
        group = [arrived.get(timeout=keepalive)]
    except queue.Empty:
        return []
    deadline = time.monotonic() + GATHER_SECONDS
    while len(group) < left:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            group.append(arrived.get(timeout=remaining))
        except queue.Empty:
            break
    return group


class Places:
    """The places of ``sync.concurrency``: a holder still running after ``patience`` seconds gives its
    place back. One watching thread serves every holder (a timer thread per tip would cost a thread
    start and a wake-up for each repository of the fleet)."""

    def __init__(self, count: int, patience: float) -> None:
        self._free = threading.Semaphore(count)
        self._patience = patience
        self._lock = threading.Lock()
        self._held: dict[int, float] = {}
        """Token -> when its holder runs out of patience (monotonic seconds)."""
        self._tokens = itertools.count()
        self._watcher: threading.Thread | None = None
        self._closed = threading.Event()

    def take(self) -> int:
        """Wait for a place; answers the token that gives it back."""
        self._free.acquire()
        with self._lock:
            token = next(self._tokens)
            self._held[token] = time.monotonic() + self._patience
            if self._watcher is None:
                self._watcher = threading.Thread(target=self._watch, name="catalog-tip-patience", daemon=True)
                self._watcher.start()
        return token

    def give_back(self, token: int) -> None:
        """Free the place, unless patience already did."""
        with self._lock:
            if self._held.pop(token, None) is None:
                return
        self._free.release()

    def close(self) -> None:
        """Stop the watching thread."""
        self._closed.set()

    def _watch(self) -> None:
        """Free the places of holders past their patience; sleep until the next one is due (a holder
        taken later is due later, so no taking needs to wake this thread)."""
        while not self._closed.is_set():
            now = time.monotonic()
            with self._lock:
                late = [token for token, due in self._held.items() if due <= now]
                for token in late:
                    del self._held[token]
                soonest = min(self._held.values(), default=now + self._patience)
            for _ in late:
                self._free.release()
            self._closed.wait(max(soonest - now, 0.01))


__all__ = ["PATIENCE", "Places", "TipAnswer", "TipAsker"]
