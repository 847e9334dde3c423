"""``catalog-sync init``: write the starter descriptor, with an editor modeline when a catalog is named."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from catalog_sync.commands import EXIT_OK, EXIT_USAGE
from catalog_sync.descriptors.starter import SCHEMA_PATH, schema_url_problem, starter_descriptor
from catalog_sync.textsafe import escape_controls


def schema_url_of(args: argparse.Namespace) -> str | None:
    """The schema the modeline names: ``--schema-url`` as given, or the one ``--catalog`` serves."""
    if args.schema_url:
        return str(args.schema_url)
    if args.catalog:
        return str(args.catalog).rstrip("/") + SCHEMA_PATH
    return None


def run_init(args: argparse.Namespace) -> int:
    """Write the starter descriptor, never overwriting a developer's file without ``--force``."""
    schema_url = schema_url_of(args)
    problem = schema_url_problem(schema_url) if schema_url is not None else None
    if problem is not None:
        print(f"catalog-sync init: {escape_controls(problem)}", file=sys.stderr)
        return EXIT_USAGE
    target = Path(args.path)
    if target.exists() and not args.force:
        print(f"catalog-sync init: {target} exists; use --force to overwrite it", file=sys.stderr)
        return EXIT_USAGE
    target.write_text(starter_descriptor(schema_url), encoding="utf-8")
    print(f"wrote {target}; edit it, then run: catalog-sync validate {target}")
    return EXIT_OK
