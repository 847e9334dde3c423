"""Scoring: scorecard results, their history, ownership gaps and initiatives (written by
``catalog_sync.scoring``).

Why the shape: the API and the Prometheus gauges read these at request and scrape time, so every
number they show is one indexed read, never an evaluation nor a scan of every result: the totals per
scorecard and level or owner are kept in the two small ``scorecard_*_summary`` tables, written in the
re-score's transaction. ``scoring_subjects`` and ``scoring_dependencies`` are the bookkeeping that
makes rescoring incremental: what each entity's evaluation read (entity keys, relation lists,
repositories), so a change re-scores exactly the entities whose result may depend on it, and what it
added to the summaries (``tallies``), so re-scoring or deleting it takes exactly that off again.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from catalog_sync.descriptors.kinds_ours import SEVERITIES
from catalog_sync.store.tables.base import ID, JSON_TEXT, metadata

DEBT_SEVERITIES = SEVERITIES
"""The severities of ``spec.techDebt``: one count column each on ``scoring_subjects``."""

scorecards = Table(
    "scorecards",
    metadata,
    Column("name", String(63), primary_key=True),
    Column("title", String(255), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("origin", String(16), nullable=False),
    Column("entity_ref", String(600), nullable=True),
    Column("levels", Text, nullable=False, info=JSON_TEXT),
    Column("definition", Text, nullable=False, info=JSON_TEXT),
    Column("digest", String(64), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

scorecard_results = Table(
    "scorecard_results",
    metadata,
    Column("scorecard", String(63), primary_key=True),
    Column("entity_id", ID, ForeignKey("entities.id", ondelete="CASCADE"), primary_key=True),
    Column("entity_ref", String(600), nullable=False),
    Column("kind", String(63), nullable=False),
    Column("level", String(63), nullable=False, default=""),
    Column("level_rank", Integer, nullable=False, default=0),
    Column("score", Float, nullable=False),
    Column("checks", Text, nullable=False, info=JSON_TEXT),
    Column("owner", String(600), nullable=False, default=""),
    Column("evaluated_at", DateTime(timezone=True), nullable=False),
    Column("exempted", Integer, nullable=False, default=0),
    Index(None, "entity_id"),
    Index(None, "scorecard", "entity_ref"),
    Index(None, "scorecard", "level", "entity_ref"),
    Index(None, "owner"),
)

scorecard_level_summary = Table(
    "scorecard_level_summary",
    metadata,
    # Entities of one scorecard at one level ("" below the first) and the sum of their scores in tenths
    # (a score has one decimal, so sums stay exact integers as results come and go).
    Column("scorecard", String(63), primary_key=True),
    Column("level", String(63), primary_key=True),
    Column("entities", Integer, nullable=False),
    Column("score_tenths", BigInteger, nullable=False),
)

scorecard_owner_summary = Table(
    "scorecard_owner_summary",
    metadata,
    # The same per owning team ("" when none): one row per scorecard and owner with results.
    Column("scorecard", String(63), primary_key=True),
    Column("owner", String(600), primary_key=True),
    Column("entities", Integer, nullable=False),
    Column("score_tenths", BigInteger, nullable=False),
)

scorecard_history = Table(
    "scorecard_history",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("scorecard", String(63), primary_key=True),
    Column("level", String(63), primary_key=True),
    Column("entities", Integer, nullable=False),
    Column("score_sum", Float, nullable=False),
    Index(None, "scorecard", "day"),
)

ownership_gaps = Table(
    "ownership_gaps",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("type", String(40), nullable=False),
    Column("entity_id", ID, ForeignKey("entities.id", ondelete="CASCADE"), nullable=True),
    Column("repository_id", ID, ForeignKey("repositories.id", ondelete="CASCADE"), nullable=True),
    Column("subject", String(1024), nullable=False),
    Column("entity_ref", String(600), nullable=True),
    Column("kind", String(63), nullable=True),
    Column("owner", String(600), nullable=True),
    Column("tier", String(8), nullable=False, default="none"),
    Column("detail", Text, nullable=False),
    Index(None, "type", "subject"),
    Index(None, "owner"),
    Index(None, "entity_id"),
    Index(None, "repository_id"),
)

scoring_subjects = Table(
    "scoring_subjects",
    metadata,
    # No foreign key on purpose: the row outlives a deleted entity, so its removal is noticed.
    Column("entity_id", ID, primary_key=True, autoincrement=False),
    Column("ref_key", String(600), nullable=False),
    Column("kind", String(63), nullable=False),
    Column("etag", String(64), nullable=False),
    Column("live", Boolean, nullable=False),
    Column("owner", String(600), nullable=False, default=""),
    Column("tier", String(8), nullable=False, default="none"),
    Column("capabilities", Text, nullable=False, default="[]", info=JSON_TEXT),
    Column("runbooks_manual", Integer, nullable=False, default=0),
    Column("runbooks_automated", Integer, nullable=False, default=0),
    # Items of spec.techDebt by severity, so the tech-debt insight and gauge read no entity body.
    *(Column(f"debt_{severity}", Integer, nullable=False, default=0) for severity in DEBT_SEVERITIES),
    Column("valid_until", DateTime(timezone=True), nullable=True),
    # What its results added to the summaries: JSON ``[[scorecard, level, score_tenths], ...]``.
    Column("tallies", Text, nullable=False, default="[]", info=JSON_TEXT),
    Index(None, "ref_key"),
    Index(None, "owner"),
    Index(None, "valid_until"),
)

scoring_capabilities = Table(
    "scoring_capabilities",
    metadata,
    # How many live products and components of each team serve each capability, kept by every
    # re-score like the summaries: a team's shared capabilities are then a few rows, not a scan.
    Column("capability", String(600), primary_key=True),
    Column("owner", String(600), primary_key=True),
    Column("products", Integer, nullable=False),
    Index(None, "owner"),
)

scoring_dependencies = Table(
    "scoring_dependencies",
    metadata,
    Column("entity_id", ID, nullable=False),
    Column("key", String(600), nullable=False),
    Column("part", String(63), nullable=False, default=""),
    Index(None, "key"),
    Index(None, "entity_id"),
)

scoring_repositories = Table(
    "scoring_repositories",
    metadata,
    Column("repository_id", ID, primary_key=True, autoincrement=False),
    Column("last_commit", String(64), nullable=True),
    Column("has_descriptors", Boolean, nullable=True),
    Column("removed", Boolean, nullable=False),
)

scoring_state = Table(
    "scoring_state",
    metadata,
    Column("key", String(63), primary_key=True),
    Column("value", Text, nullable=False),
)

initiatives = Table(
    "initiatives",
    metadata,
    # One row per evaluated initiative, replaced by every re-score that records the day.
    Column("name", String(63), primary_key=True),
    Column("entity_ref", String(600), nullable=False),
    Column("title", String(255), nullable=False),
    Column("owner", String(600), nullable=False),
    Column("scorecard", String(63), nullable=False),
    Column("goal", Text, nullable=False, info=JSON_TEXT),
    Column("applies_to", Text, nullable=False, info=JSON_TEXT),
    Column("starts_on", String(10), nullable=False),
    Column("due_on", String(10), nullable=False),
    Column("in_scope", Integer, nullable=False),
    Column("done", Integer, nullable=False),
    Column("teams", Text, nullable=False, info=JSON_TEXT),
    Column("status", String(16), nullable=False),
    Column("at_risk", Boolean, nullable=False),
    Column("projected", Float, nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index(None, "owner"),
)

initiative_entities = Table(
    "initiative_entities",
    metadata,
    Column("initiative", String(63), primary_key=True),
    Column("entity_id", ID, ForeignKey("entities.id", ondelete="CASCADE"), primary_key=True),
    Column("entity_ref", String(600), nullable=False),
    Column("owner", String(600), nullable=False, default=""),
    Column("done", Boolean, nullable=False),
    Index(None, "entity_id"),
    Index(None, "initiative", "done", "entity_ref"),
)

initiative_history = Table(
    "initiative_history",
    metadata,
    Column("initiative", String(63), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("in_scope", Integer, nullable=False),
    Column("done", Integer, nullable=False),
    Index(None, "day"),
)
