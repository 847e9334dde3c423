"""What one repository's scan means for the catalog: a plan of writes, decided without touching the store.

Reconcile is pure so that every rule of "nothing is lost on failure" can be tested on its own:
- a descriptor that stops validating keeps its last good entity, with the error attached;
- a file that cannot be read at all keeps every entity it held before;
- a descriptor that disappears makes an orphan (removed later only by policy);
- two repositories claiming one entity: the one the catalog knew first keeps it, the other gets a
  conflict error (``CLAIM_RULE``, decided by ``_claim``: the same whatever order they are read in);
- an unchanged entity (same content hash) is not rewritten;
- a source that suddenly lists far fewer repositories removes none of them (``decide_removal``);
- an orphan is deleted only once its grace period has passed (``expired_orphans``).
The store applies each decision (a plan in one transaction); the types it shares with the store live
in ``catalog_sync.plans``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from catalog_sync.descriptors.parsed import ParsedFile
from catalog_sync.descriptors.problems import Problem
from catalog_sync.errors import RefError
from catalog_sync.model import (
    DEFAULT_NAMESPACE,
    MANAGED_BY_LOCATION,
    MANAGED_BY_ORIGIN_LOCATION,
    ORPHAN_ANNOTATION,
    Entity,
    EntityRef,
)
from catalog_sync.plans import (
    EntityWrite,
    KnownEntity,
    ListedRepository,
    OrphanRow,
    Plan,
    Prepared,
    ProblemRow,
    RemovalDecision,
)
from catalog_sync.searchrows import build_search_rows

CLAIM_RULE = (
    "the repository that defined it first keeps it; two that define it in the same pass are ranked "
    "by when the catalog learned of them (listed or registered first wins)"
)
"""Who keeps an entity that two repositories define, as the conflict error tells its owners.

An entity already in the catalog before the pass began stays with its repository: a newcomer cannot
take over what others rely on. When two repositories define one entity that neither held before the
pass (``contested_since``: its start), the one the catalog learned of first keeps it: the lower
repository id. Taking over an orphan, or an entity whose repository was removed, starts a holding as
a new entity does (``EntityWrite.claimed``), so two claimants of one orphan are ranked the same way.
Ids are given as sources are listed (configured sources in their order, a local source's folders by
name, a hosting organisation in its listing's order) and as repositories are registered, so the winner
can be told from the configuration alone, and it is the same on every run from a fresh database and
with any number of workers or processes: the decision compares ids, never which repository was read or
written first. One that loses an entity it wrote earlier in the pass is read again
(``Plan.taken_from``) so its owners see the conflict.
"""


def _storable_row(row: tuple[str, str | None, str | None]) -> tuple[str, str | None, str | None]:
    """A search row the database accepts: a NUL (valid in YAML as "\\0") is refused by PostgreSQL."""
    key, value, original = row
    if "\x00" not in key and "\x00" not in (value or "") and "\x00" not in (original or ""):
        return row
    return (
        key.replace("\x00", ""),
        value.replace("\x00", "") if value is not None else None,
        original.replace("\x00", "") if original is not None else None,
    )


def prepare(entity: Entity, location: str) -> Prepared:
    """Everything stored for one valid entity read from ``location``."""
    stored = prepare_entity(entity, location)
    envelope = stored.to_dict()
    body = json.dumps(envelope, sort_keys=True, separators=(",", ":"), default=str)
    meta = stored.metadata
    text = " ".join(str(p) for p in (stored.name, meta.get("title"), meta.get("description")) if p)
    return Prepared(
        entity=stored,
        body=body,
        content_hash=hashlib.sha256(body.encode()).hexdigest(),
        search_rows=[_storable_row(row) for row in build_search_rows(envelope)],
        search_text=text.lower()[:2000].replace("\x00", ""),
    )


def location_url(repo_url: str, branch: str | None, path: str) -> str:
    """Backstage's ``url:<repository>/blob/<branch>/<path>`` form of where a descriptor lives."""
    return f"url:{repo_url.rstrip('/')}/blob/{branch or 'HEAD'}/{path}"


def prepare_entity(entity: Entity, location: str) -> Entity:
    """The entity as stored: namespace filled in, location annotations set, no orphan mark.

    Only the mappings it changes are copied; ``spec`` is shared with the parsed entity, which is
    never modified after parsing.
    """
    metadata = dict(entity.metadata)
    metadata.setdefault("namespace", DEFAULT_NAMESPACE)
    annotations = dict(metadata.get("annotations") or {})
    annotations[MANAGED_BY_LOCATION] = location
    annotations[MANAGED_BY_ORIGIN_LOCATION] = location
    annotations.pop(ORPHAN_ANNOTATION, None)
    metadata["annotations"] = annotations
    return Entity(entity.api_version, entity.kind, metadata, entity.spec)


def prepare_files(
    files: list[ParsedFile], repo_url: str, branch: str | None
) -> dict[tuple[str, int], Prepared]:
    """Prepare every valid entity of a scan, keyed by (file path, document index)."""
    return {
        (parsed.path, doc.index): prepare(doc.entity, location_url(repo_url, branch, parsed.path))
        for parsed in files
        for doc in parsed.documents
        if doc.entity is not None
    }


def _ref_key(ref: str | None) -> str | None:
    """The comparable key of a ref string, or None when the document named none that parses."""
    if not ref:
        return None
    try:
        return EntityRef.parse(ref).key
    except RefError:
        return None


def _file_error_paths(files: list[ParsedFile]) -> set[str]:
    """Files that could not be read as a whole: every entity they held before is kept."""
    return {f.path for f in files if any(p.severity == "error" for p in f.problems)}


def plan_repository(
    repository_id: int,
    *,
    commit: str,
    repo_url: str,
    branch: str | None,
    files: list[ParsedFile],
    descriptor_changed: dict[str, datetime],
    facts: dict[str, Any],
    own: dict[str, KnownEntity],
    others: dict[str, KnownEntity],
    prepared: Mapping[tuple[str, int], Prepared] | None = None,
    unread: Mapping[str, tuple[str, datetime | None]] | None = None,
    contested_since: datetime | None = None,
) -> Plan:
    """Decide the writes for one repository.

    ``own`` holds the entities this repository gave last time; ``others`` holds entities with the
    same refs that belong to other repositories (or to none), so conflicts and moves can be judged.
    ``unread`` holds descriptor files of the last pass that still exist at this commit but were not
    read (a broken Location no longer leads to them), with their last blob and change time: their
    entities are kept, not orphaned, and they stay known as descriptors until they are read again.
    Entities of others created at or after ``contested_since`` are decided by ``CLAIM_RULE``'s ranking.
    """
    plan = Plan(repository_id=repository_id, commit=commit, facts=facts, contested_since=contested_since)
    plan.descriptor_files.update(unread or {})
    broken_files = _file_error_paths(files) | set(unread or {})
    protected: set[str] = set()
    seen: dict[str, tuple[str, int]] = {}

    for parsed in files:
        plan.descriptor_files[parsed.path] = (parsed.blob_sha or "", descriptor_changed.get(parsed.path))
        for problem in parsed.problems:
            plan.problems.append(ProblemRow("descriptor", problem))
        for doc in parsed.documents:
            key = _ref_key(doc.ref)
            kept = own.get(key) if key else None
            for problem in doc.problems:
                plan.problems.append(ProblemRow("descriptor", problem, key, kept.id if kept else None))
            if doc.entity is None:
                if key in own:
                    protected.add(key)
                else:
                    # A broken kind or name no longer names the entity it was: keep every entity
                    # this file gave before, rather than orphan the one the typo hides.
                    broken_files.add(parsed.path)
                continue
            ready = (prepared or {}).get((parsed.path, doc.index)) or prepare(
                doc.entity, location_url(repo_url, branch, parsed.path)
            )
            entity = ready.entity
            key = entity.ref.key
            if key in seen:
                first_path, first_line = seen[key]
                plan.problems.append(
                    ProblemRow(
                        "conflict",
                        Problem(
                            path=parsed.path,
                            line=doc.line,
                            column=doc.column,
                            severity="error",
                            message=f"defined twice in this repository (first at {first_path}:{first_line})",
                            entity_ref=str(entity.ref),
                        ),
                    )
                )
                plan.conflicts += 1
                continue
            seen[key] = (parsed.path, doc.line)
            if not _claim(plan, key, ready, parsed.path, doc.line, own, others, descriptor_changed):
                continue

    plan.has_descriptors = bool(files)
    for key, known in own.items():
        if key in seen or key in protected or known.path in broken_files:
            continue
        if known.orphaned_at is None:
            plan.orphan_ids.append(known.id)
    return plan


def _claim(
    plan: Plan,
    key: str,
    ready: Prepared,
    path: str,
    line: int,
    own: dict[str, KnownEntity],
    others: dict[str, KnownEntity],
    descriptor_changed: dict[str, datetime],
) -> bool:
    """Record the write for one valid entity, or a conflict when another repository holds it."""
    entity = ready.entity
    known = own.get(key)
    if known is None:
        other = others.get(key)
        if other is not None and _held_before(other, plan):
            plan.problems.append(
                ProblemRow(
                    "conflict",
                    Problem(
                        path=path,
                        line=line,
                        severity="error",
                        entity_ref=str(entity.ref),
                        message="conflict: this entity is also defined by another repository, and "
                        f"{CLAIM_RULE}; it is kept there until it is removed there",
                    ),
                )
            )
            plan.conflicts += 1
            return False
        if other is not None and _live_elsewhere(other, plan.repository_id):
            plan.taken_from.add(int(other.repository_id or 0))
        known = other
    changed_at = descriptor_changed.get(path)
    if known is None:
        plan.writes.append(EntityWrite(ready, path, line, None, changed_at))
    elif (
        known.content_hash != ready.content_hash
        or known.orphaned_at is not None
        or known.repository_id != plan.repository_id
    ):
        claimed = (
            known.orphaned_at is not None
            or known.repository_removed
            or known.repository_id != plan.repository_id
        )
        plan.writes.append(EntityWrite(ready, path, line, known.id, changed_at, claimed))
    else:
        plan.unchanged_ids.append(known.id)
    return True


def _live_elsewhere(other: KnownEntity, repository_id: int) -> bool:
    """Whether another repository still holds the entity (not orphaned, not removed)."""
    return (
        other.orphaned_at is None
        and not other.repository_removed
        and other.repository_id is not None
        and other.repository_id != repository_id
    )


def _held_before(other: KnownEntity, plan: Plan) -> bool:
    """Whether a live entity of another repository stays there (``CLAIM_RULE``): it was there before
    the pass, or both define it in this pass and that repository is older."""
    if not _live_elsewhere(other, plan.repository_id):
        return False
    since = plan.contested_since
    if since is None or other.created_at is None or other.created_at < since:
        return True
    return int(other.repository_id or 0) < plan.repository_id


def held_after(plan: Plan, others: dict[str, KnownEntity]) -> None:
    """Count ``plan``'s writes in ``others`` for the plans written after it in one transaction.

    Plans of one group are decided in repository order against what the ones before them write, so
    two repositories new in one pass that define one entity get the same winner as in two passes.
    """
    for write in plan.writes:
        key = write.prepared.entity.ref.key
        others[key] = KnownEntity(
            id=write.existing_id or 0,
            ref_key=key,
            repository_id=plan.repository_id,
            path=write.path,
            content_hash=write.prepared.content_hash,
            orphaned_at=None,
            created_at=plan.contested_since,
        )


def decide_removal(
    previous: Sequence[ListedRepository],
    listed_keys: Iterable[str],
    *,
    max_removal_fraction: float,
    removal_listings: int = 1,
    retired_keys: Iterable[str] = (),
    skipped_entries: Sequence[str] = (),
    beside_another: bool = False,
) -> RemovalDecision:
    """Which repositories a source's new listing removes, or why it removes none.

    A source that suddenly lists far fewer repositories (an expired token, a renamed organisation, a
    mistyped filter) must not wipe the catalog: when more than ``max_removal_fraction`` of what it
    listed before has vanished, nothing is removed and the refusal says so. ``previous`` holds the
    repositories the catalog has for the source and has not removed.

    A source listed from a hosting API removes a repository only once it is missing from
    ``removal_listings`` complete listings in a row (a list read page by page can miss a repository
    that moved between two pages); until then it is kept and its missed listings are counted. A
    repository the host reports retired (``retired_keys``: archived while archived ones are not read)
    is removed at once, since the host said so and no listing raced.

    A listing with entries the source could not read (``skipped_entries``) is not complete: any
    repository missing from it may be one of them, so it removes none and counts no missed listing;
    each one missing is kept with the reason.

    A listing that ran while another listing of the source was recorded (``beside_another``: two
    workers listing at once) counts no missed listing either: both can miss a repository for the same
    reason (a list that shifted between pages), and only listings at different moments are two.
    """
    keys = set(listed_keys)
    retired = set(retired_keys) - keys
    gone = tuple(r.id for r in previous if r.key in retired)
    vanished = [r for r in previous if r.key not in keys and r.key not in retired]
    if skipped_entries:
        count = len(skipped_entries)
        refused = (
            f"{count} {'entry' if count == 1 else 'entries'} of the listing could not be read "
            f"(first: {skipped_entries[0]}); the listing is incomplete, so nothing is removed"
        )
        return RemovalDecision(removed_ids=gone, kept_ids=tuple(r.id for r in vanished), refused=refused)
    if beside_another:
        return RemovalDecision(removed_ids=gone)
    due = tuple(r.id for r in vanished if r.missed + 1 >= removal_listings)
    waiting = tuple(r.id for r in vanished if r.missed + 1 < removal_listings)
    if not due:
        return RemovalDecision(removed_ids=gone, missed_ids=waiting)
    if len(due) > max_removal_fraction * len(previous):
        refused = (
            f"the source lists {len(keys)} repositories where it listed {len(previous)}; "
            f"removing {len(due)} would exceed sync.max_removal_fraction "
            f"({max_removal_fraction}), so nothing was removed"
        )
        return RemovalDecision(removed_ids=gone, kept_ids=due, refused=refused, missed_ids=waiting)
    return RemovalDecision(removed_ids=gone + due, missed_ids=waiting)


def expired_orphans(orphans: Iterable[OrphanRow], *, now: datetime, grace_seconds: int) -> list[int]:
    """The orphans ``orphan_policy: delete`` removes now: those orphaned at least ``grace_seconds`` ago."""
    cutoff = now - timedelta(seconds=grace_seconds)
    return sorted(o.id for o in orphans if o.orphaned_at <= cutoff)
