"""How much of a text from outside the catalog stores, read from the tables themselves.

PostgreSQL refuses a value longer than its column (``value too long for type character varying``)
and fails the whole statement, so one repository with a 300-character branch name would fail every
write of a pass; SQLite stores anything, so the fault would only show in production. Every column
that holds text from outside (a source's listing, a descriptor, a message quoting git) is checked
here before a statement is built, and the limits are the columns' own lengths (``String(n)``, or
``info={"max_length": n}`` on a ``Text`` column), so a changed column cannot drift from its check.

Two rules, by what the text is:
- an identity (a branch, a URL, a descriptor path, an entity's kind or name, a relation's target) is
  *refused* when too long: cutting it would store a different thing under the same name, so what
  carries it fails alone (the repository, the file, the relation) with an error naming the field and
  its limit (``too_long``);
- free text (a message) is *cut* to fit with a marker (``fit``): a shortened message is still useful.

An identity that is part of an index is also refused past ``INDEX_ENTRY_BYTES`` bytes of UTF-8:
PostgreSQL counts a column's length in characters but an index entry in bytes, so 920 characters of
a CJK script fit ``String(1024)`` and still fail the statement (``index row size exceeds btree
maximum``), and with it the whole pass.

``COLUMNS`` classifies every string column of every table, so a test can prove that a new column is
either checked here, derived from a checked one, or written only by the catalog itself.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from sqlalchemy import Column, PrimaryKeyConstraint, String, UniqueConstraint

from catalog_sync.store import tables as t

INDEX_ENTRY_BYTES = 2000
"""The most UTF-8 bytes an indexed identity may take: PostgreSQL refuses an index entry over 2,704
bytes, and the rest of the margin is for the index's other columns (ids, a bounded kind)."""

MARKER = "…"
"""Ends a free text cut to fit its column."""

Checked = Column[Any]


def max_length(column: Checked) -> int | None:
    """The most characters ``column`` stores: its ``String`` length or its declared ``max_length``."""
    declared = column.info.get("max_length")
    if declared is not None:
        return int(declared)
    length = getattr(column.type, "length", None) if isinstance(column.type, String) else None
    return int(length) if length is not None else None


@functools.cache
def _plain_limit(column: Checked) -> int | None:
    limit = max_length(column)
    return None if limit is None else min(limit, INDEX_ENTRY_BYTES // 4)


def fits_plainly(column: Checked, value: str | None) -> bool:
    """Whether ``value`` is stored as it is, decided without encoding it: no NUL, and short enough
    that even four UTF-8 bytes per character fit the column and an index entry. A listing of ten
    thousand repositories asks this of every name, URL and branch at every pass; a value it cannot
    vouch for goes through ``too_long`` and ``fit``."""
    if value is None:
        return True
    limit = _plain_limit(column)
    return (limit is None or len(value) <= limit) and "\x00" not in value


def is_indexed(column: Checked) -> bool:
    """Whether ``column`` is part of an index or a unique or primary key of its table."""
    table = column.table
    keys = [c for c in table.constraints if isinstance(c, UniqueConstraint | PrimaryKeyConstraint)]
    return any(column.name in group.columns for group in [*table.indexes, *keys])


def too_long(column: Checked, value: str | None, label: str) -> str | None:
    """Why ``value`` cannot be stored in ``column`` (None when it fits), naming ``label`` and the limit."""
    limit = max_length(column)
    if value is None or limit is None:
        return None
    if len(value) > limit:
        return f"{label} is {len(value)} characters; at most {limit} are stored"
    size = len(value.encode("utf-8", "surrogatepass"))
    if size > INDEX_ENTRY_BYTES and is_indexed(column):
        return f"{label} is {size} bytes in UTF-8; at most {INDEX_ENTRY_BYTES} are stored"
    return None


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _escaped(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def fit(column: Checked, value: str | None) -> str | None:
    """Free text as ``column`` stores it: no NUL (PostgreSQL refuses it), no lone surrogate (no driver
    can encode one: a host's JSON may carry ``\\ud800``, and one error quoting it would end a whole
    pass) and cut to size with a marker."""
    if value is None:
        return None
    cleaned = _LONE_SURROGATE.sub(_escaped, value.replace("\x00", "\\0"))
    limit = max_length(column)
    if limit is None or len(cleaned) <= limit:
        return cleaned
    return cleaned[: limit - len(MARKER)] + MARKER


REFUSED: dict[Checked, str] = {
    t.repositories.c.key: "repository key",
    t.repositories.c.name: "repository name",
    t.repositories.c.url: "repository URL",
    t.repositories.c.branch: "branch name",
    t.descriptor_files.c.path: "descriptor path",
    t.entities.c.path: "descriptor path",
    t.entities.c.kind: "entity kind",
    t.entities.c.namespace: "entity namespace",
    t.entities.c.name: "entity name",
    t.entities.c.ref_key: "entity reference",
    t.relations.c.source_key: "relation source",
    t.relations.c.target_key: "relation target",
}
"""Identities from outside: refused when too long, failing only what carries them."""

CUT: tuple[Checked, ...] = (
    t.sources.c.last_error,
    t.repositories.c.last_error,
    t.problems.c.path,
    t.problems.c.field,
    t.problems.c.message,
    t.problems.c.entity_ref,
    t.sync_runs.c.message,
    t.entities.c.lifecycle,
    t.kpi_values.c.error,
    t.notifications.c.last_error,
)
"""Free text from outside: cut to fit with ``MARKER``."""

BOUNDED_BEFORE: dict[Checked, str] = {
    t.search.c.key: "searchrows.MAX_KEY_LENGTH drops longer keys",
    t.search.c.value: "searchrows.MAX_VALUE_LENGTH keeps longer values without a value",
    t.search.c.original_value: "searchrows.MAX_VALUE_LENGTH keeps longer values without a value",
    t.entities.c.search_text: "reconcile.prepare keeps its first 2,000 characters",
    t.scorecards.c.name: "the Scorecard schema allows 1 to 63 characters",
    t.scorecards.c.title: "cut by the scoring store (limits.fit)",
    t.scorecard_results.c.level: "the Scorecard schema allows 1 to 63 characters per level",
    t.scorecard_level_summary.c.level: "the Scorecard schema allows 1 to 63 characters per level",
    t.scorecard_history.c.level: "the Scorecard schema allows 1 to 63 characters per level",
    t.kpi_values.c.kpi_id: "the Kpi schema allows 1 to 63 characters (ids derived from names are cut)",
    t.kpi_history.c.kpi_id: "the Kpi schema allows 1 to 63 characters (ids derived from names are cut)",
    t.kpi_pushes.c.kpi_id: "the Kpi schema allows 1 to 63 characters (ids derived from names are cut)",
    t.initiatives.c.name: "the envelope allows names of 1 to 63 characters",
    t.initiatives.c.title: "cut by the initiative store to 255 characters",
    t.initiatives.c.scorecard: "the Initiative schema allows 1 to 63 characters",
    t.initiatives.c.starts_on: "the Initiative schema allows a YYYY-MM-DD day only",
    t.initiatives.c.due_on: "the Initiative schema allows a YYYY-MM-DD day only",
}
"""Text from outside bounded before it reaches the store, and by what."""

DERIVED: dict[Checked, Checked] = {
    t.scorecards.c.entity_ref: t.entities.c.ref_key,
    t.scorecard_results.c.entity_ref: t.entities.c.ref_key,
    t.scorecard_results.c.kind: t.entities.c.kind,
    t.scorecard_results.c.owner: t.relations.c.target_key,
    t.scorecard_owner_summary.c.owner: t.relations.c.target_key,
    t.ownership_gaps.c.subject: t.repositories.c.key,
    t.ownership_gaps.c.entity_ref: t.entities.c.ref_key,
    t.ownership_gaps.c.kind: t.entities.c.kind,
    t.ownership_gaps.c.owner: t.relations.c.target_key,
    t.scoring_subjects.c.ref_key: t.entities.c.ref_key,
    t.scoring_subjects.c.kind: t.entities.c.kind,
    t.scoring_subjects.c.owner: t.relations.c.target_key,
    t.scoring_capabilities.c.capability: t.relations.c.target_key,
    t.scoring_capabilities.c.owner: t.relations.c.target_key,
    t.scoring_dependencies.c.key: t.relations.c.target_key,
    t.scorecard_results.c.scorecard: t.scorecards.c.name,
    t.scorecard_level_summary.c.scorecard: t.scorecards.c.name,
    t.scorecard_owner_summary.c.scorecard: t.scorecards.c.name,
    t.scorecard_history.c.scorecard: t.scorecards.c.name,
    t.kpi_values.c.entity_ref: t.entities.c.ref_key,
    t.kpi_history.c.entity_ref: t.entities.c.ref_key,
    t.kpi_pushes.c.entity_ref: t.entities.c.ref_key,
    t.notifications.c.entity_ref: t.entities.c.ref_key,
    t.initiatives.c.entity_ref: t.entities.c.ref_key,
    t.initiatives.c.owner: t.relations.c.target_key,
    t.initiative_entities.c.initiative: t.initiatives.c.name,
    t.initiative_entities.c.entity_ref: t.entities.c.ref_key,
    t.initiative_entities.c.owner: t.relations.c.target_key,
    t.initiative_history.c.initiative: t.initiatives.c.name,
}
"""Columns whose values are copies of a checked column: a test proves each is at least as wide."""

WRITTEN_BY_CATALOG: tuple[Checked, ...] = (
    t.sources.c.name,  # the configuration's source names, 1-63 characters (config.SourceSchema)
    t.sources.c.type,
    t.sources.c.target,  # the configuration's URL or path, stored redacted
    t.sources.c.read_rules,  # a sha256 in hex
    t.repositories.c.state,
    t.repositories.c.last_commit,
    t.repositories.c.claimed_by,
    t.repositories.c.facts,
    t.repositories.c.listing_error,
    t.repositories.c.pushed_commit,  # a hex object id checked by the webhook view
    t.webhook_deliveries.c.provider,
    t.webhook_deliveries.c.delivery_id,  # checked by the webhook view: printable, at most 200
    t.webhook_deliveries.c.event,  # one of the event names the webhook view knows
    t.webhook_deliveries.c.result,
    t.descriptor_files.c.blob_sha,
    t.entities.c.uid,
    t.entities.c.body,
    t.entities.c.content_hash,
    t.entities.c.etag,
    t.relations.c.type,
    t.problems.c.category,
    t.problems.c.severity,
    t.sync_runs.c.worker,
    t.sync_runs.c.result,
    t.scorecards.c.description,
    t.scorecards.c.origin,
    t.scorecards.c.levels,
    t.scorecards.c.definition,
    t.scorecards.c.digest,
    t.scorecard_results.c.checks,
    t.scorecard_history.c.day,
    t.ownership_gaps.c.type,
    t.ownership_gaps.c.tier,
    t.ownership_gaps.c.detail,
    t.scoring_subjects.c.etag,
    t.scoring_subjects.c.tier,
    t.scoring_subjects.c.capabilities,
    t.scoring_subjects.c.tallies,
    t.scoring_dependencies.c.part,
    t.scoring_repositories.c.last_commit,
    t.scoring_state.c.key,
    t.scoring_state.c.value,
    t.kpi_values.c.measure,  # prometheus, git or push
    t.kpi_history.c.day,
    t.notifications.c.channel,  # the configuration's channel names, 1-63 characters
    t.notifications.c.event,
    t.notifications.c.dedupe_key,  # a sha256 in hex
    t.notifications.c.payload,  # JSON the outbox serialises; its texts are bounded by their columns
    t.notifications.c.status,
    t.notifications.c.claimed_by,
    t.initiatives.c.goal,  # JSON the catalog serialises
    t.initiatives.c.applies_to,
    t.initiatives.c.teams,
    t.initiatives.c.status,  # planned, active, done or overdue
    t.initiative_history.c.day,
)
"""Text the catalog writes itself (states, digests, JSON it serialises, names from the configuration)."""
