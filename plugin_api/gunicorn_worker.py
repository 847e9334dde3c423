"""gunicorn's threaded worker, taking a new connection only while one of its threads is free.

gunicorn's processes share one listening socket, and each takes connections from it as fast as its
main thread can: under a burst (50 webhook deliveries at once), the process that wins the race took 35
to 48 of them while the other idled, and a Python process uses one core at most, so the burst's last
answers waited for one core (``benchmarks/webhook_bench.py``). This worker stops taking connections
while every one of its threads is busy and takes them again as soon as one is done, so the rest of a
burst waits in the kernel's queue, where the first process with a free thread takes it. The socket
stays shared: a process that hangs or dies leaves its waiting connections to the others, which one
socket per process (``--reuse-port``) would not.

A connection held open between requests (keep-alive) is not a busy thread, so idle clients never stop
the process taking new ones: a cap on connections (``--worker-connections``) counts them and, below
the number a burst holds open, left the burst waiting for keep-alive timeouts (seconds).

A stopping process (``SIGTERM``, a reload, ``--max-requests``) first takes every connection waiting in
the kernel's queue and answers it before it exits: gunicorn's own worker had taken those already, and
when every process stops at once (a pod's ``SIGTERM``) nobody else would, so closing the socket reset
them after their clients had sent the request. A process whose arbiter is gone stops the same way.

Run with ``gunicorn --worker-class plugin_api.gunicorn_worker.FreeThreadWorker``. It overrides five
methods of gunicorn's ``ThreadWorker`` (``enqueue_req``, ``finish_request``, ``wait_for_and_dispatch_events``,
``set_accept_enabled``, ``is_parent_alive``), which run on the worker's main thread only.
"""

from __future__ import annotations

from typing import Any

from gunicorn.workers.gthread import ThreadWorker  # type: ignore[import-untyped]


class FreeThreadWorker(ThreadWorker):  # type: ignore[misc]
    """A ``gthread`` worker that listens only while a thread is free (see the module's docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_flight = 0
        """Requests handed to the threads and not finished: counted on the main thread alone."""

    def enqueue_req(self, conn: Any) -> None:
        """Hand a connection's request to the threads, counting it."""
        self._in_flight += 1
        super().enqueue_req(conn)

    def finish_request(self, conn: Any, fs: Any) -> None:
        """A thread is done with a request (run on the main thread through gunicorn's queue)."""
        self._in_flight -= 1
        super().finish_request(conn, fs)

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        """Listen only while a thread is free; a finished request wakes this wait, so the listener
        comes back at once. A stopping worker has stopped listening for good."""
        if self.alive:
            free = self._in_flight < self.cfg.threads and self.nr_conns < self.worker_connections
            self.set_accept_enabled(free)
        super().wait_for_and_dispatch_events(timeout)

    def set_accept_enabled(self, enabled: bool) -> None:
        """Stop or resume listening; a stopping worker takes the connections already waiting first, since
        its threads can still answer them and its peers may be stopping too (see the module's docstring)."""
        if not enabled and not self.alive:
            self.take_waiting_connections()
        super().set_accept_enabled(enabled)

    def is_parent_alive(self) -> bool:
        """Whether gunicorn's arbiter still runs. gunicorn stops a worker it left behind without marking
        it stopping, and ``wait_for_and_dispatch_events`` would listen again while its connections end."""
        if super().is_parent_alive():
            return True
        self.alive = False
        return False

    def take_waiting_connections(self) -> None:
        """Accept what the kernel's queue holds now, up to ``--worker-connections``, without waiting."""
        for listener in self.sockets:
            listener.setblocking(False)
            while self.nr_conns < self.worker_connections:
                before = self.nr_conns
                self.accept(listener)  # counts a connection it took; none waiting (EAGAIN) is no error
                if self.nr_conns == before:
                    break


__all__ = ["FreeThreadWorker"]
