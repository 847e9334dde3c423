"""A catalog scored after every sync pass, and the example organisation as real repositories.

``ScoredCatalog`` wraps the ``catalog`` fixture's folder of git repositories and database with a
``Scorer`` wired into the sync engine exactly as the CLI wires it (``after_pass=[scorer.as_hook()]``),
and reads back what scoring stored. ``build_example_org`` turns ``descriptors/examples`` into real
repositories of that folder, as ``catalog-sync demo`` does.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select

from catalog_sync.scoring import Scorer
from catalog_sync.sources.examples import build_example_repositories
from catalog_sync.store.base import Database
from catalog_sync.store.scoring import Page, SqlScoringReads, SqlScoringStore
from catalog_sync.store.tables import ownership_gaps, scorecard_results
from catalog_sync.sync import PassSummary, SyncEngine
from tests.fixtures.gitrepos import GitRepo
from tests.fixtures.syncstore import sync_store
from tests.integration.conftest import Catalog

EXAMPLES = Path(__file__).resolve().parents[2] / "descriptors" / "examples"

EXAMPLE_GAPS = {
    ("missing_owner", "product:default/support-chatbot"),
    ("unknown_owner", "product:default/pricing"),
    ("individual_owner", "product:default/campaign-pages"),
    ("team_missing_roles", "team:default/fulfilment-team"),
    ("team_without_members", "team:default/commerce-tribe"),
    ("product_without_capability", "product:default/shipping-labels"),
    ("capability_without_product", "capability:default/loyalty"),
    ("repository_without_descriptor", "legacy-reports"),
}
"""The deliberate gaps of the example organisation (descriptors/examples/README.md), and no other."""


def scorer_for(catalog: Catalog, **options: Any) -> Scorer:
    """A scorer on the catalog's database, with its clock (and ``Scorer``'s other ``options``)."""
    return Scorer(catalog.settings, SqlScoringStore(Database(catalog.engine)), clock=catalog.clock, **options)


class Reads:
    """The API's scoring reads, each in a read transaction of its own (as one request would)."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.reads = SqlScoringReads(database)

    def gaps(self, **args: Any) -> tuple[Page, dict[str, int]]:
        """``ScoringReads.gaps``."""
        with self.database.reading() as tx:
            return self.reads.gaps(tx, **args)

    def history(self, name: str, days: int, today: date) -> list[dict[str, Any]]:
        """``ScoringReads.history``."""
        with self.database.reading() as tx:
            return self.reads.history(tx, name, days, today)

    def list_scorecards(self, after: str | None, limit: int) -> Page:
        """``ScoringReads.list_scorecards``."""
        with self.database.reading() as tx:
            return self.reads.list_scorecards(tx, after, limit)


class ScoredCatalog:
    """A catalog whose sync engine re-scores after each pass."""

    def __init__(self, catalog: Catalog, scorer: Scorer | None = None) -> None:
        self.catalog = catalog
        self.scorer = scorer or scorer_for(catalog)
        self.engine = SyncEngine(
            catalog.settings,
            sync_store(catalog.engine),
            clock=catalog.clock,
            after_pass=[self.scorer.as_hook()],
        )
        self.reader = Reads(Database(catalog.engine))

    def sync(self) -> PassSummary:
        """One full sync pass, then the re-score the hook runs."""
        return self.engine.run_pass(everything=True)

    def repo(self, name: str) -> GitRepo:
        """A repository of the fleet (existing or new)."""
        return self.catalog.repo(name)

    def gaps(self) -> set[tuple[str, str]]:
        """Every stored gap as ``(type, entity ref or repository name)``."""
        query = select(ownership_gaps.c.type, ownership_gaps.c.entity_ref, ownership_gaps.c.subject)
        with self.catalog.engine.connect() as conn:
            return {(row.type, row.entity_ref or row.subject) for row in conn.execute(query)}

    def result(self, scorecard: str, ref: str) -> dict[str, Any]:
        """One stored result: level ("" below the first), score, checks by id, evaluation time."""
        query = select(scorecard_results).where(
            scorecard_results.c.scorecard == scorecard, scorecard_results.c.entity_ref == ref
        )
        with self.catalog.engine.connect() as conn:
            row = conn.execute(query).one()
        checks = {check["id"]: check for check in json.loads(row.checks)}
        return {"level": row.level, "score": row.score, "checks": checks, "evaluated_at": row.evaluated_at}

    def scored(self, scorecard: str) -> set[str]:
        """The refs a scorecard has results for."""
        query = select(scorecard_results.c.entity_ref).where(scorecard_results.c.scorecard == scorecard)
        with self.catalog.engine.connect() as conn:
            return set(conn.execute(query).scalars())


def build_example_org(catalog: Catalog) -> None:
    """The example organisation's folders as real git repositories of the catalog's fleet, which is
    trusted with scorecards (its platform team keeps two there), as in ``catalog-sync demo``."""
    build_example_repositories(EXAMPLES, catalog.fleet)
    catalog.config["scorecards"] = {"trusted_sources": ["fleet"]}


def without_document(text: str, name: str) -> str:
    """A multi-document descriptor file without the document whose ``metadata.name`` is ``name``."""
    kept = [doc for doc in text.split("\n---\n") if f"\n  name: {name}\n" not in f"\n{doc}\n"]
    return "\n---\n".join(kept)
