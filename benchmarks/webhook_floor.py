"""The webhook answer's floor under ``serve``: Werkzeug's threaded server with an app that does nothing.

``serve`` answers HTTP with Werkzeug's server (``make_server(threaded=True)``: a thread per connection,
the connection closed after each answer) and logs as ``serve`` does. This runs the same server, the
same logging, and a WSGI app that reads the body and answers 202 with no signature check, no parsing
and no database. Whatever latency a burst of deliveries meets here is the server's own; what
``serve`` measures above it is catalog-sync's share. ``benchmarks.webhook_bench`` runs it as its first
phase; on its own:

    python -m benchmarks.webhook_floor --host 127.0.0.1 --port 0
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

from werkzeug.serving import make_server

from catalog_sync.logs import configure_logging

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

ANSWER = b'{"result":"accepted"}'


def accept(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """Read the body whole, as a delivery's is read, and accept it."""
    stream = environ["wsgi.input"]
    left = int(environ.get("CONTENT_LENGTH") or 0)
    while left > 0:
        chunk = stream.read(min(left, 65536))
        if not chunk:
            break
        left -= len(chunk)
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(ANSWER)))]
    start_response("202 Accepted", headers)
    return [ANSWER]


def main(argv: list[str] | None = None) -> int:
    """Serve until stopped; print ``serving on URL`` once listening, as ``serve`` does."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.webhook_floor")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    configure_logging()
    server = make_server(args.host, args.port, accept, threaded=True)
    print(f"serving on http://{args.host}:{server.server_port}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
