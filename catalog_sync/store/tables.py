"""The catalog's tables, in SQLAlchemy Core, portable across SQLite and PostgreSQL.

Alembic migrations in ``store/migrations`` create exactly these; a test proves the two agree.

Why the shape:
- ``entities`` keeps each entity's envelope as JSON text plus the few columns queries need; the
  ``search`` rows (one per flattened ``key=value`` of the envelope, lower-cased, as in Backstage's own
  catalog) are what filters, facets and ordering use, so any field is filterable with one index.
- ``relations`` holds both ends of every edge with the entity whose descriptor produced it, so that
  re-deriving one entity's relations is one delete and one insert.
- ``problems`` are everything a repository's owners must fix (invalid descriptors, conflicts, fetch
  failures, refused removals); the API, the portal and the metrics all read them from here.
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
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from catalog_sync.descriptors.kinds_ours import SEVERITIES

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

TEXT_LIMIT = 4000
"""The most characters kept of a message (``info["max_length"]`` of a ``Text`` column; see ``limits``)."""

JSON_TEXT = {"json": True}

DEBT_SEVERITIES = SEVERITIES
"""The severities of ``spec.techDebt``: one count column each on ``scoring_subjects``."""
"""``info`` of a ``Text`` column that holds JSON the store wrote: the file check (``integrity``) proves
each value still parses, as damage inside a record leaves SQLite's own page checks content."""

ID = BigInteger().with_variant(Integer(), "sqlite")
"""Primary keys: 64-bit on PostgreSQL, SQLite's rowid alias there (only INTEGER autoincrements)."""

sources = Table(
    "sources",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("name", String(63), nullable=False, unique=True),
    Column("type", String(16), nullable=False),
    Column("target", Text, nullable=False, default=""),
    Column("last_repository_count", Integer, nullable=True),
    Column("last_discovery_at", DateTime(timezone=True), nullable=True),
    Column("last_error", Text, nullable=True, info={"max_length": TEXT_LIMIT}),
    Column("read_rules", String(64), nullable=True),
)

repositories = Table(
    "repositories",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("source_id", ID, ForeignKey("sources.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(1024), nullable=False),
    Column("name", String(512), nullable=False),
    Column("url", Text, nullable=False, info={"max_length": 2048}),
    Column("branch", String(255), nullable=True),
    Column("state", String(16), nullable=False, default="pending"),
    Column("last_commit", String(64), nullable=True),
    Column("last_sync_at", DateTime(timezone=True), nullable=True),
    Column("last_success_at", DateTime(timezone=True), nullable=True),
    Column("next_sync_at", DateTime(timezone=True), nullable=True),
    Column("failures", Integer, nullable=False, default=0),
    Column("claimed_by", String(128), nullable=True),
    Column("claim_expires_at", DateTime(timezone=True), nullable=True),
    Column("has_descriptors", Boolean, nullable=True),
    Column("facts", Text, nullable=True, info=JSON_TEXT),
    Column("last_error", Text, nullable=True, info={"max_length": TEXT_LIMIT}),
    Column("removed_at", DateTime(timezone=True), nullable=True),
    Column("rescan", Boolean, nullable=False, default=False),
    # Why the source's listing of this repository cannot be stored (a value longer than its column):
    # such a repository is failed at each pass, without being read, until it is listed with values that fit.
    Column("listing_error", Text, nullable=True),
    # Complete listings of its source this repository was missing from, in a row; a hosted source
    # removes it at two (``reconcile.decide_removal``).
    Column("missed_listings", Integer, nullable=False, default=0, server_default=text("0")),
    # A push delivery's commit, waiting to be read: the next pass reads this commit whatever the
    # source's own tip answer says (a host's cached answer may lag the push), then clears it.
    Column("pushed_commit", String(64), nullable=True),
    # When the first delivery still waiting to be read was received: push-to-visible is measured from it.
    Column("pushed_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("source_id", "key"),
    # A webhook delivery names its repository by key alone, whichever source lists it.
    Index(None, "key"),
    Index(None, "next_sync_at"),
    Index(None, "state", "removed_at"),
    Index(None, "removed_at", "source_id", "state"),
)

descriptor_files = Table(
    "descriptor_files",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("repository_id", ID, ForeignKey("repositories.id", ondelete="CASCADE"), nullable=False),
    Column("path", String(1024), nullable=False),
    Column("blob_sha", String(64), nullable=False),
    Column("last_changed_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("repository_id", "path"),
)

entities = Table(
    "entities",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("uid", String(36), nullable=False, unique=True),
    Column("ref_key", String(600), nullable=False, unique=True),
    Column("kind", String(63), nullable=False),
    Column("namespace", String(63), nullable=False),
    Column("name", String(63), nullable=False),
    Column("lifecycle", String(63), nullable=True),
    Column("repository_id", ID, ForeignKey("repositories.id", ondelete="SET NULL"), nullable=True),
    Column("path", String(1024), nullable=True),
    Column("line", Integer, nullable=True),
    Column("body", Text, nullable=False, info=JSON_TEXT),
    Column("content_hash", String(64), nullable=False),
    Column("etag", String(64), nullable=False),
    Column("search_text", Text, nullable=False, default="", info={"max_length": 2000}),
    Column("orphaned_at", DateTime(timezone=True), nullable=True),
    Column("descriptor_changed_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index(None, "repository_id"),
    Index(None, "kind", "lifecycle"),
)

search = Table(
    "search",
    metadata,
    Column("entity_id", ID, ForeignKey("entities.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(255), nullable=False),
    Column("value", String(255), nullable=True),
    Column("original_value", String(255), nullable=True),
    # Covering indexes of the read side: filters and facets read (key, value) ranges without touching
    # the table; sorting reads one entity's value of a key; rewriting an entity deletes by entity_id.
    Index(None, "key", "value", "entity_id", "original_value"),
    Index(None, "entity_id", "key", "value"),
)

relations = Table(
    "relations",
    metadata,
    Column("originating_entity_id", ID, ForeignKey("entities.id", ondelete="CASCADE"), nullable=False),
    Column("source_key", String(600), nullable=False),
    Column("type", String(63), nullable=False),
    Column("target_key", String(600), nullable=False),
    Index(None, "source_key"),
    Index(None, "target_key"),
    Index(None, "originating_entity_id"),
)

problems = Table(
    "problems",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("repository_id", ID, ForeignKey("repositories.id", ondelete="CASCADE"), nullable=True),
    Column("entity_id", ID, ForeignKey("entities.id", ondelete="CASCADE"), nullable=True),
    Column("category", String(16), nullable=False),
    Column("severity", String(8), nullable=False),
    Column("path", String(1024), nullable=True),
    Column("line", Integer, nullable=True),
    Column("column", Integer, nullable=True),
    Column("field", String(255), nullable=True),
    Column("message", Text, nullable=False, info={"max_length": TEXT_LIMIT}),
    Column("entity_ref", String(600), nullable=True),
    Index(None, "repository_id"),
    Index(None, "entity_id"),
    Index(None, "category"),
)

sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("worker", String(128), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("result", String(16), nullable=False, default="running"),
    Column("repositories", Integer, nullable=False, default=0),
    Column("changed", Integer, nullable=False, default=0),
    Column("unchanged", Integer, nullable=False, default=0),
    Column("errors", Integer, nullable=False, default=0),
    Column("duration_seconds", Float, nullable=True),
    Column("message", Text, nullable=True, info={"max_length": TEXT_LIMIT}),
    # The last sign of life of the pass: a running pass whose heartbeat is older than a lease is dead.
    Column("heartbeat_at", DateTime(timezone=True), nullable=True),
    Index(None, "started_at"),
    Index(None, "result"),  # every pass looks for the running ones (dead passes to close)
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    # One row per authenticated delivery, kept ``webhooks.keep_deliveries_seconds``: a redelivery of
    # the same id is answered as a duplicate and changes nothing. Written in the same transaction as
    # what the delivery changed, so an answered delivery is never lost nor applied twice.
    Column("provider", String(16), primary_key=True),
    Column("delivery_id", String(200), primary_key=True),
    Column("event", String(64), nullable=False),
    Column("result", String(16), nullable=False),
    # No foreign key on purpose: its check would take a share lock on the repository row before the
    # delivery's update of that row, against the order a worker's claim locks it in (a deadlock).
    Column("repository_id", ID, nullable=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Index(None, "received_at"),
)

# --- scoring: scorecard results, their history, ownership gaps (written by catalog_sync.scoring) ---------
#
# Why the shape: the API and the Prometheus gauges read these at request and scrape time, so every
# number they show is one indexed read, never an evaluation nor a scan of every result: the totals per
# scorecard and level or owner are kept in the two small ``scorecard_*_summary`` tables, written in the
# re-score's transaction. ``scoring_subjects`` and ``scoring_dependencies`` are the bookkeeping that
# makes rescoring incremental: what each entity's evaluation read (entity keys, relation lists,
# repositories), so a change re-scores exactly the entities whose result may depend on it, and what it
# added to the summaries (``tallies``), so re-scoring or deleting it takes exactly that off again.

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

kpi_values = Table(
    "kpi_values",
    metadata,
    # Keyed by the entity's ref, not its id: a value outlives a re-created entity of the same name,
    # and a KPI no longer declared is pruned by the next measuring round.
    Column("entity_ref", String(600), primary_key=True),
    Column("kpi_id", String(63), primary_key=True),
    Column("measure", String(16), nullable=False),
    Column("value", Float, nullable=True),
    Column("measured_at", DateTime(timezone=True), nullable=True),
    Column("attempted_at", DateTime(timezone=True), nullable=True),
    Column("error", Text, nullable=True, info={"max_length": TEXT_LIMIT}),
)

kpi_history = Table(
    "kpi_history",
    metadata,
    Column("entity_ref", String(600), primary_key=True),
    Column("kpi_id", String(63), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("value", Float, nullable=False),
    Index(None, "day"),
)

kpi_pushes = Table(
    "kpi_pushes",
    metadata,
    Column("entity_ref", String(600), primary_key=True),
    Column("kpi_id", String(63), primary_key=True),
    Column("at", DateTime(timezone=True), primary_key=True),
    Column("value", Float, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
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

notifications = Table(
    # The outbox: one row per event and channel, written in the transaction of the change that caused
    # it; ``dedupe_key`` (event, subject and day, hashed) makes a second write the same day a no-op.
    "notifications",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("channel", String(63), nullable=False),
    Column("event", String(32), nullable=False),
    Column("dedupe_key", String(64), nullable=False),
    Column("entity_ref", String(600), nullable=True),
    Column("payload", Text, nullable=False, info=JSON_TEXT),
    Column("status", String(16), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
    Column("claimed_by", String(128), nullable=True),
    Column("claim_expires_at", DateTime(timezone=True), nullable=True),
    Column("last_error", Text, nullable=True, info={"max_length": TEXT_LIMIT}),
    UniqueConstraint("channel", "dedupe_key"),
    Index(None, "status", "next_attempt_at"),
)
