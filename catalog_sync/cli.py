"""The ``catalog-sync`` program, and the one place that wires configuration, engine, store and API.

Every other module receives what it needs as arguments; only this module decides which store, which
sources and which HTTP app are built, so each part stays testable on its own.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from catalog_sync import __version__
from catalog_sync.config import DescriptorSettings, load_settings
from catalog_sync.errors import CatalogSyncError, ConfigError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but bad usage exits 2 with the message on stderr and no traceback (as argparse does)."""


def build_parser() -> argparse.ArgumentParser:
    """The command line of SPEC section 2."""
    parser = _Parser(prog="catalog-sync", description="Product catalog from descriptor files in git.")
    parser.add_argument("--version", action="version", version=f"catalog-sync {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    validate = commands.add_parser("validate", help="check descriptor files and folders")
    validate.add_argument("paths", nargs="+", metavar="PATH")
    validate.add_argument("--format", choices=("text", "json"), default="text")
    validate.add_argument("--config", help="configuration file (for descriptors.patterns and limits)")

    init = commands.add_parser("init", help="write a commented starter catalog-info.yaml")
    init.add_argument("path", nargs="?", default="catalog-info.yaml")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    return parser


def _descriptor_settings(config: str | None) -> DescriptorSettings:
    if config is None:
        return DescriptorSettings()
    return load_settings(config).descriptors


def run_validate(args: argparse.Namespace) -> int:
    """Validate files and folders; 0 when valid (warnings allowed), 1 on any error, 2 on bad usage."""
    from catalog_sync.descriptors.files import check_paths, render_json, render_text

    missing = [p for p in args.paths if not Path(p).exists() and not Path(p).is_symlink()]
    if missing:
        print(f"catalog-sync validate: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    results = check_paths(args.paths, _descriptor_settings(args.config))
    output = render_json(results) if args.format == "json" else render_text(results)
    sys.stdout.write(output)
    return EXIT_FAILED if any(r.has_errors for r in results) else EXIT_OK


def run_init(args: argparse.Namespace) -> int:
    """Write the starter descriptor, never overwriting a developer's file without ``--force``."""
    from catalog_sync.descriptors.starter import STARTER_DESCRIPTOR

    target = Path(args.path)
    if target.exists() and not args.force:
        print(f"catalog-sync init: {target} exists; use --force to overwrite it", file=sys.stderr)
        return EXIT_USAGE
    target.write_text(STARTER_DESCRIPTOR, encoding="utf-8")
    print(f"wrote {target}; edit it, then run: catalog-sync validate {target}")
    return EXIT_OK


HANDLERS = {
    "validate": run_validate,
    "init": run_init,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script and of ``python -m catalog_sync``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return HANDLERS[args.command](args)
    except ConfigError as exc:
        print(f"catalog-sync: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE if args.command == "validate" else EXIT_FAILED
    except CatalogSyncError as exc:
        print(f"catalog-sync: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
