"""What ``catalog-sync sync`` prints once its pass is done: counts, sources that failed, gaps left."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from catalog_sync.textsafe import escape_controls


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 repository``, ``2 repositories``: the summary reads as a sentence."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


def gap_line(gaps: Mapping[str, int]) -> str:
    """The ownership gaps the catalog holds after the pass, the most frequent type first."""
    total = sum(gaps.values())
    if not total:
        return "ownership gaps: none"
    ranked = sorted(((count, kind) for kind, count in gaps.items() if count), key=lambda p: (-p[0], p[1]))
    detail = ", ".join(f"{kind} {count}" for count, kind in ranked)
    return f"ownership gaps: {total} ({detail}); see /gaps in the portal or GET /api/ownership/gaps"


def sync_report(summary: Any, gaps: Mapping[str, int], output_format: str) -> str:
    """The pass's summary as text (a few lines) or JSON (the summary's fields and ``gaps`` by type)."""
    if output_format == "json":
        return (
            json.dumps({**summary.to_dict(), "gaps": dict(sorted(gaps.items()))}, indent=2, default=str)
            + "\n"
        )
    lines = [
        f"synced {plural(summary.repositories, 'repository', 'repositories')} in "
        f"{summary.duration_seconds:.2f}s: {summary.changed} changed, {summary.unchanged} unchanged, "
        f"{summary.errors} failed",
        f"entities: {summary.added} added, {summary.updated} updated, {summary.orphaned} orphaned, "
        f"{summary.deleted} deleted; {plural(summary.conflicts, 'conflict')}; "
        f"{summary.descriptor_problems} descriptor errors and warnings",
        gap_line(gaps),
    ]
    lines.extend(
        escape_controls(f"source {source['name']}: {source['error']}")
        for source in summary.sources
        if source["error"]
    )
    lines.extend(escape_controls(line) for line in summary.notes())
    return "\n".join(lines) + "\n"
