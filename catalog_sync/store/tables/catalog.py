"""The catalog itself: sources, their repositories and descriptor files, entities and what they say.

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
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from catalog_sync.store.tables.base import ID, JSON_TEXT, TEXT_LIMIT, metadata

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
    Column("listing_requested_at", DateTime(timezone=True), nullable=True),
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
