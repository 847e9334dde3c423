"""Writing events to the outbox, inside the transaction of the change that caused them.

Each event becomes one row per channel that asks for its type and whose filter selects its entity,
carrying the entity, its owner and the owner team's contact (read here, once per batch, so the
receiver needs nothing else). A row's ``dedupe_key`` hashes the event's type, subject and UTC day;
the insert skips a row whose channel and key are already there, so an event written again the same
day (a re-score that runs twice, a repository that fails at every pass) is delivered once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from catalog_sync.store.outbox.types import Event, Route
from catalog_sync.store.scoring.loads import applicable_ids
from catalog_sync.store.scoring.rows import chunks
from catalog_sync.store.tables import entities, notifications

PAYLOAD_VERSION = 1


def dedupe_key(event: Event, now: datetime) -> str:
    """The key that makes one event the same event for the rest of its UTC day."""
    text = "\x00".join((event.type, event.subject, now.date().isoformat()))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def write_events(
    conn: Connection,
    routes: Sequence[Route],
    events: Sequence[Event],
    now: datetime,
    owners: dict[str, dict[str, Any]] | None = None,
) -> int:
    """Add a row per event and matching channel (see the module doc); answer how many were offered.

    ``owners`` keeps the owners' documents between calls of one transaction (a re-score writes its
    events chunk by chunk, and a few dozen teams own them all)."""
    if not routes or not events:
        return 0
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    contacts: dict[str, dict[str, Any]] | None = None
    named: dict[str, int] | None = None
    for route in routes:
        chosen = [event for event in events if event.type in route.events]
        if route.entity_filter is not None and chosen:
            if named is None:
                named = _ids_by_ref(conn, events)
            ids = sorted({found for event in chosen if (found := _id_of(event, named)) is not None})
            selected = applicable_ids(conn, route.entity_filter, ids) if ids else set()
            chosen = [event for event in chosen if _id_of(event, named) in selected]
        if not chosen:
            continue
        if contacts is None:
            contacts = owners if owners is not None else {}
            wanted = {event.owner for event in events if event.owner} - set(contacts)
            contacts.update(_owners(conn, wanted))
        for event in chosen:
            key = dedupe_key(event, now)
            rows[(route.name, key)] = {
                "channel": route.name,
                "event": event.type,
                "dedupe_key": key,
                "entity_ref": event.entity_ref,
                "payload": json.dumps(_payload(event, contacts, now), separators=(",", ":"), default=str),
                "status": "pending",
                "attempts": 0,
                "created_at": now,
                "next_attempt_at": now,
            }
    if rows:
        _insert_new(conn, list(rows.values()))
    return len(rows)


def _ids_by_ref(conn: Connection, events: Sequence[Event]) -> dict[str, int]:
    """Entity ids of events that name their entity by ref only (an initiative's), for filters."""
    refs = sorted({e.entity_ref for e in events if e.entity_id is None and e.entity_ref})
    found: dict[str, int] = {}
    for part in chunks(refs, 400):
        query = select(entities.c.ref_key, entities.c.id).where(entities.c.ref_key.in_(part))
        found.update({row.ref_key: row.id for row in conn.execute(query)})
    return found


def _id_of(event: Event, named: dict[str, int]) -> int | None:
    if event.entity_id is not None:
        return event.entity_id
    return named.get(event.entity_ref) if event.entity_ref else None


def _insert_new(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert, skipping rows whose channel and key exist (the same event earlier today)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    for part in chunks(rows, 500):
        statement = dialect.insert(notifications).on_conflict_do_nothing(
            index_elements=["channel", "dedupe_key"]
        )
        conn.execute(statement, part)


def _payload(event: Event, owners: dict[str, dict[str, Any]], now: datetime) -> dict[str, Any]:
    owner = owners.get(event.owner or "") if event.owner else None
    return {
        "version": PAYLOAD_VERSION,
        "event": event.type,
        "occurredAt": now.isoformat(),
        "summary": event.summary,
        "entity": {"ref": event.entity_ref} if event.entity_ref else None,
        "owner": owner or ({"ref": event.owner, "title": None, "contact": {}} if event.owner else None),
        "detail": event.detail,
    }


def _owners(conn: Connection, refs: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Each owner's ref, title and contact (a Team's ``spec.contact``, a Group's ``spec.profile``)."""
    found: dict[str, dict[str, Any]] = {}
    for part in chunks(sorted(refs), 400):
        query = select(entities.c.ref_key, entities.c.body).where(entities.c.ref_key.in_(part))
        for row in conn.execute(query):
            found[row.ref_key] = _owner_document(row.ref_key, row.body)
    return found


def _owner_document(ref: str, body: str) -> dict[str, Any]:
    try:
        envelope = json.loads(body)
    except ValueError:
        envelope = {}
    spec = envelope.get("spec") if isinstance(envelope, dict) else None
    spec = spec if isinstance(spec, dict) else {}
    metadata = envelope.get("metadata") if isinstance(envelope, dict) else None
    metadata = metadata if isinstance(metadata, dict) else {}
    contact: dict[str, str] = {}
    for source in (spec.get("profile"), spec.get("contact")):
        if isinstance(source, dict):
            for key in ("email", "channel"):
                if isinstance(source.get(key), str):
                    contact[key] = source[key]
    title = spec.get("displayName") or metadata.get("title") or metadata.get("name")
    return {"ref": ref, "title": title if isinstance(title, str) else None, "contact": contact}
