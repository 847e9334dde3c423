"""``catalog-sync validate``: the checks a developer runs before a commit, offline or against a catalog.

Offline, the files are checked with the rules the sync applies, exemptions and initiatives against the
built-in and configured scorecards, and a Scorecard's ``repoFile`` paths against ``sync.fact_paths``
(a path the sync never records is a warning: the check could never pass). With ``--catalog URL`` the
refs each entity writes (owner, capabilities, system, dependsOn, parent, members...) are also checked
against that running catalog; a ref it does not hold is an error with the nearest name it does.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from catalog_sync.commands import EXIT_FAILED, EXIT_OK, EXIT_UNREACHABLE, EXIT_USAGE
from catalog_sync.config import Settings, load_settings
from catalog_sync.descriptors.files import check_paths, render_json, render_text
from catalog_sync.descriptors.links import check_links
from catalog_sync.descriptors.parsed import ParsedFile
from catalog_sync.descriptors.positions import format_path
from catalog_sync.descriptors.problems import Problem
from catalog_sync.descriptors.references import ScorecardTerms, refuse_unknown, terms_of_spec
from catalog_sync.errors import CatalogUnreachableError
from catalog_sync.textsafe import escape_controls

DEFAULT_CATALOG_TIMEOUT = 10.0


def file_scorecards(settings: Settings) -> dict[str, ScorecardTerms]:
    """The built-in and configured scorecards, which the names of exemptions and initiatives must match
    (with the scorecards among the validated files)."""
    from catalog_sync.scoring.definitions import read_file_scorecards

    cards, _ = read_file_scorecards(settings)
    return {card.name: terms_of_spec(card.spec) for card in cards}


def warn_unseen_paths(results: list[ParsedFile], fact_paths: tuple[str, ...]) -> int:
    """A warning on each Scorecard's ``repoFile`` path that ``sync.fact_paths`` never records (the check
    fails on every repository); answers how many."""
    from catalog_sync.scoring.definitions import unseen_repo_files

    count = 0
    for parsed in results:
        for document in parsed.documents:
            entity = document.entity
            if entity is None or entity.kind != "Scorecard":
                continue
            checks = [(str(c.get("id")), c.get("rule")) for c in entity.spec.get("checks") or []]
            for unseen in unseen_repo_files(checks, fact_paths):
                steps = ("spec", "checks", unseen.check_index, "rule", "repoFile", "paths", unseen.path_index)
                document.problems.append(
                    Problem(
                        parsed.path,
                        "warning",
                        unseen.message,
                        document.line,
                        document.column,
                        format_path(steps),
                        document.ref,
                    )
                )
                count += 1
    return count


def check_against_catalog(results: list[ParsedFile], url: str, timeout: float) -> None:
    """Check every entity's refs against the running catalog at ``url`` (``CatalogUnreachableError``
    when it cannot be asked)."""
    from catalog_sync.commands.catalog_client import HttpCatalogRefs

    catalog = HttpCatalogRefs(url, timeout=timeout)
    try:
        check_links(results, catalog)
    finally:
        catalog.close()


def run_validate(args: argparse.Namespace) -> int:
    """Validate files and folders (``.`` when none is named); 0 when valid (warnings allowed), 1 on any
    error, 2 on bad usage, 3 when ``--catalog`` cannot be asked."""
    paths = list(args.paths) or ["."]
    missing = [p for p in paths if not Path(p).exists() and not Path(p).is_symlink()]
    if missing:
        shown = escape_controls(", ".join(missing))
        print(f"catalog-sync validate: no such file or folder: {shown}", file=sys.stderr)
        return EXIT_USAGE
    if args.catalog is not None:
        from catalog_sync.commands.catalog_client import check_catalog_url

        try:
            check_catalog_url(args.catalog)
        except CatalogUnreachableError as exc:
            print(f"catalog-sync validate: --catalog: {escape_controls(str(exc))}", file=sys.stderr)
            return EXIT_USAGE
    settings = load_settings(args.config) if args.config is not None else Settings()
    results = check_paths(paths, settings.descriptors)
    refuse_unknown(results, file_scorecards(settings))
    warn_unseen_paths(results, settings.sync.fact_paths)
    if args.catalog is not None:
        try:
            check_against_catalog(results, args.catalog, args.catalog_timeout)
        except CatalogUnreachableError as exc:
            print(f"catalog-sync validate: {escape_controls(str(exc))}", file=sys.stderr)
            return EXIT_UNREACHABLE
    output = render_json(results) if args.format == "json" else render_text(results)
    sys.stdout.write(output)
    return EXIT_FAILED if any(r.has_errors for r in results) else EXIT_OK
