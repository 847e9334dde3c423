"""The command line of SPEC section 2: its arguments and the progress bar a terminal shows.

Kept apart from ``cli``, the composition root, so that reading what the program accepts does not mean
reading how it wires the store, the sync engine and the HTTP app.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from catalog_sync import __version__

EXAMPLES = Path(__file__).resolve().parent.parent / "descriptors" / "examples"


class _Parser(argparse.ArgumentParser):
    """argparse, but bad usage exits 2 with the message on stderr and no traceback (as argparse does)."""


MAX_POLL_SECONDS = 3600.0


def port_number(text: str) -> int:
    """A TCP port from the command line, refused by argparse with the option named when out of range,
    instead of a traceback from the socket (``--port 99999999999999999999`` overflowed)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:  # 0: a free port chosen by the system
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number from 0 to 65535")
    return value


def poll_seconds(text: str) -> float:
    """Seconds between a worker's passes: 0, a negative number or ``nan`` would spin on the database
    without waiting, and ``1e400`` overflowed the wait."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0.1 <= value <= MAX_POLL_SECONDS:  # also false for nan
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of seconds from 0.1 to {MAX_POLL_SECONDS:g}"
        )
    return value


MAX_TIMEOUT_SECONDS = 300.0


def timeout_seconds(text: str) -> float:
    """Seconds to wait for a remote answer: bounded, so a hanging server cannot hold a CI job."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0.1 <= value <= MAX_TIMEOUT_SECONDS:  # also false for nan
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of seconds from 0.1 to {MAX_TIMEOUT_SECONDS:g}"
        )
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command line of SPEC section 2."""
    parser = _Parser(prog="catalog-sync", description="Product catalog from descriptor files in git.")
    parser.add_argument("--version", action="version", version=f"catalog-sync {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    validate = commands.add_parser("validate", help="check descriptor files and folders")
    validate.add_argument("paths", nargs="*", metavar="PATH", help="files and folders (default: .)")
    validate.add_argument("--format", choices=("text", "json"), default="text")
    validate.add_argument(
        "--config", help="configuration file (descriptors.patterns and limits, scorecards, sync.fact_paths)"
    )
    validate.add_argument(
        "--catalog",
        metavar="URL",
        help="also check every ref against this running catalog, e.g. https://catalog",
    )
    validate.add_argument(
        "--catalog-timeout",
        type=timeout_seconds,
        default=10.0,
        metavar="S",
        help="seconds to wait for each answer of the catalog (default 10)",
    )

    init = commands.add_parser("init", help="write a commented starter catalog-info.yaml")
    init.add_argument("path", nargs="?", default="catalog-info.yaml")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    modeline = init.add_mutually_exclusive_group()
    modeline.add_argument(
        "--catalog", metavar="URL", help="the running catalog whose JSON Schema the editor modeline names"
    )
    modeline.add_argument("--schema-url", metavar="URL", help="the JSON Schema the editor modeline names")

    sync = commands.add_parser("sync", help="one sync pass over every source")
    sync.add_argument("--config", help="configuration file")
    sync.add_argument("--format", choices=("text", "json"), default="text")

    worker = commands.add_parser("worker", help="the sync loop alone, for scaled-out deployments")
    worker.add_argument("--config", help="configuration file")
    worker.add_argument(
        "--poll-seconds",
        type=poll_seconds,
        default=5.0,
        help="wait between passes over due work (on PostgreSQL a push or a refresh wakes the worker sooner)",
    )
    worker.add_argument(
        "--metrics-port", type=port_number, help="serve /metrics on this port (0.0.0.0 unless --metrics-host)"
    )
    worker.add_argument("--metrics-host", default="0.0.0.0")  # noqa: S104 - a worker is scraped from outside

    serve = commands.add_parser("serve", help="the API and portal, with the sync loop in the background")
    serve.add_argument("--config", help="configuration file")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=port_number, default=8080)
    serve.add_argument("--no-sync", action="store_true", help="serve only; run `catalog-sync worker` apart")

    demo = commands.add_parser("demo", help="the example organisation in SQLite, served on 127.0.0.1")
    demo.add_argument("--port", type=port_number, default=8080)
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--data", default=".catalog-sync/demo", help="where the demo keeps its repositories")
    demo.add_argument("--examples", default=str(EXAMPLES), help="folder of example repositories")

    export = commands.add_parser("export", help="the catalog as Backstage entities (multi-document YAML)")
    export.add_argument("--format", choices=("backstage",), required=True)
    export.add_argument("--config", help="configuration file")

    db = commands.add_parser("db", help="database administration")
    db_commands = db.add_subparsers(dest="db_command", metavar="DB_COMMAND", required=True)
    upgrade = db_commands.add_parser("upgrade", help="create or migrate the database schema")
    upgrade.add_argument("--config", help="configuration file")
    return parser


def print_progress(done: int, total: int) -> None:
    """A one-line bar on standard error, so a pass over thousands of repositories shows it is moving."""
    width = 30
    filled = int(width * done / total) if total else width
    sys.stderr.write(f"\r[{'#' * filled}{' ' * (width - filled)}] {done}/{total} repositories")
    sys.stderr.flush()
    if done >= total:
        sys.stderr.write("\n")
