"""Bursts of deliveries arriving at the same instant: 50 concurrent deliveries, as a host sends them.

A host delivers a push as it happens; 50 deliveries in flight at once is a burst (a bot pushing to 50
repositories, a release train, a host redelivering a backlog after an outage). Each burst here sends
``connections`` signed deliveries at once, each on a connection of its own opened for it (as a host's
deliveries come), from one thread with prepared bytes (a few microseconds each, so the cores go to the
server), and times each from the opening of its connection to the last byte of its answer. The next
burst is sent ``pause`` seconds after the last answer of the one before, so every burst meets a server
that has finished the previous one.

This is not the closed loop of ``webhook_wrk``, where each connection sends again the moment it is
answered: that loop keeps 50 deliveries queued forever, and its latency is 50 divided by the server's
throughput (Little's law), a throughput figure whatever the answer itself costs (``--client wrk``).
"""

from __future__ import annotations

import math
import resource
import selectors
import socket
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

HEADER_END = b"\r\n\r\n"


def _request(host: str, body: bytes, signature: str, delivery: str) -> bytes:
    head = (
        f"POST /api/webhooks/github HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"X-GitHub-Event: push\r\nX-GitHub-Delivery: {delivery}\r\nX-Hub-Signature-256: {signature}\r\n"
        f"User-Agent: GitHub-Hookshot/bench\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class _Answer:
    """One connection's answer as it arrives: complete once its headers and Content-Length bytes are in."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.status = 0
        self.done_at = 0.0

    def feed(self, chunk: bytes, now: float) -> bool:
        self.data += chunk
        end = self.data.find(HEADER_END)
        if end < 0:
            return False
        head = bytes(self.data[:end]).decode("latin-1").split("\r\n")
        self.status = int(head[0].split()[1])
        length = next(
            (int(line.split(":", 1)[1]) for line in head[1:] if line.lower().startswith("content-length:")), 0
        )
        if len(self.data) < end + len(HEADER_END) + length:
            return False
        self.done_at = now
        return True


def run_bursts(
    url: str, signed: list[tuple[bytes, str]], *, connections: int, bursts: int, pause: float = 0.2
) -> dict[str, Any]:
    """Send ``bursts`` bursts of ``connections`` deliveries (bodies round-robin, each with its own id
    and connection);
    answer the latencies in ``webhook_wrk``'s shape (microseconds) and this process's CPU seconds."""
    parts = urlsplit(url)
    address = (parts.hostname or "127.0.0.1", parts.port or 80)
    prefix = uuid.uuid4().hex
    latencies: list[float] = []
    errors = 0
    busy = 0.0
    before = resource.getrusage(resource.RUSAGE_SELF)
    with selectors.DefaultSelector() as selector:
        for n in range(bursts):
            prepared = [
                _request(parts.netloc, *signed[(n * connections + c) % len(signed)], f"{prefix}-{n}-{c}")
                for c in range(connections)
            ]
            answers: dict[socket.socket, tuple[float, _Answer]] = {}
            for request in prepared:
                opened = time.perf_counter()
                sock = socket.create_connection(address, timeout=60)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sock.sendall(request)
                selector.register(sock, selectors.EVENT_READ)
                answers[sock] = (opened, _Answer())
            started = min(opened for opened, _ in answers.values())
            waiting = len(answers)
            while waiting:
                for key, _ in selector.select(timeout=60):
                    ready = key.fileobj
                    assert isinstance(ready, socket.socket)
                    chunk = ready.recv(65536)
                    if not chunk:
                        raise SystemExit("the server closed a connection before answering")
                    if answers[ready][1].feed(chunk, time.perf_counter()):
                        selector.unregister(ready)
                        waiting -= 1
            busy += max(answer.done_at for _, answer in answers.values()) - started
            for sock, (opened, answer) in answers.items():
                latencies.append(answer.done_at - opened)
                errors += answer.status != 202
                sock.close()
            time.sleep(pause)
    after = resource.getrusage(resource.RUSAGE_SELF)
    ordered = sorted(latencies)

    def at(share: float) -> int:
        return int(ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))] * 1e6)

    return {
        "requests": len(ordered),
        "duration_us": int(busy * 1e6),
        "p50_us": at(0.50),
        "p95_us": at(0.95),
        "p99_us": at(0.99),
        "max_us": int(ordered[-1] * 1e6),
        "status_errors": errors,
        "socket_errors": 0,
        "cpu_seconds": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
    }
