"""``catalog-sync demo`` (``make run``): the example organisation as real git repositories, and what the
demo prints; ``cli`` syncs, measures and serves it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from catalog_sync.config import Settings, parse_settings


def demo_settings(args: argparse.Namespace) -> tuple[Settings, str] | None:
    """Build the example repositories under ``--data`` and the settings that sync them into SQLite, with
    the words saying what was built; None (said on stderr) when there is no examples folder."""
    from catalog_sync.sources.examples import build_example_repositories

    examples = Path(args.examples)
    if not examples.is_dir():
        print(f"catalog-sync demo: no examples folder at {examples}", file=sys.stderr)
        return None
    data = Path(args.data).resolve()
    built = build_example_repositories(examples, data / "repos")
    settings = parse_settings(
        {
            "database": f"sqlite:///{data / 'catalog.db'}",
            "sources": [{"name": "examples", "type": "local", "path": str(data / "repos")}],
            "sync": {"interval_seconds": 30, "concurrency": 2},
            # The example organisation's own repositories: its platform team keeps two scorecards there.
            "scorecards": {"trusted_sources": ["examples"]},
        },
        str(data),
    )
    return settings, f"built {len(built)} example repositories in {data / 'repos'}"


def print_banner(url: str) -> None:
    """Where to look once the demo serves."""
    print(f"catalog-sync demo on {url}", flush=True)
    print(f"  portal:                   {url}/", flush=True)
    print(f"  catalog (Backstage API):  {url}/api/catalog/entities/by-query?limit=20", flush=True)
    print(f"  repositories:             {url}/api/repositories", flush=True)
    print(f"  KPIs (missed first):      {url}/kpis and {url}/api/kpis", flush=True)
    print(f"  JSON Schema for editors:  {url}/schemas/catalog-info.schema.json", flush=True)
    print(f"  OpenAPI description:      {url}/api/openapi.json", flush=True)
    print(f"  Backstage export:         {url}/api/export/backstage", flush=True)
    print("edit descriptors/examples and run the demo again to see a change arrive as a commit", flush=True)
