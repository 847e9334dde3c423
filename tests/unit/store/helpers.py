"""Writing test entities straight into the tables, the way the reconcile writer lays them out.

The read side's tests must not depend on the writer, so this helper inserts an entity row, its
``search`` rows (built by ``build_search_rows``, the same function the writer uses), the relations it
is the source of, and its problems.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert

from catalog_sync.store.search import build_search_rows
from catalog_sync.store.tables import entities, problems, relations, search


def entity_body(
    kind: str,
    name: str,
    *,
    namespace: str | None = None,
    spec: Mapping[str, Any] | None = None,
    **metadata: Any,
) -> dict[str, Any]:
    """A Backstage envelope with the given kind, name and extra metadata fields."""
    meta: dict[str, Any] = {"name": name, **metadata}
    if namespace is not None:
        meta["namespace"] = namespace
    api_version = (
        "catalog/v1" if kind.lower() in ("product", "team", "capability") else "backstage.io/v1alpha1"
    )
    return {"apiVersion": api_version, "kind": kind, "metadata": meta, "spec": dict(spec or {})}


def insert_entity(
    target: Engine | Connection,
    body: Mapping[str, Any],
    *,
    relations_out: Iterable[tuple[str, str]] = (),
    problem_messages: Iterable[str] = (),
    orphaned: bool = False,
) -> int:
    """Insert one entity with its search rows, outgoing relations and problems; return its id.

    Given an engine it commits at once; given a connection it writes inside the caller's transaction
    (many entities in one transaction are much faster on PostgreSQL).
    """
    if isinstance(target, Engine):
        with target.begin() as connection:
            return insert_entity(
                connection,
                body,
                relations_out=relations_out,
                problem_messages=problem_messages,
                orphaned=orphaned,
            )
    connection = target
    metadata = body["metadata"]
    namespace = str(metadata.get("namespace") or "default").lower()
    ref_key = f"{str(body['kind']).lower()}:{namespace}/{str(metadata['name']).lower()}"
    text = " ".join(
        str(part) for part in (metadata["name"], metadata.get("title"), metadata.get("description")) if part
    ).lower()
    encoded = json.dumps(body, separators=(",", ":"))
    now = datetime.now(UTC)
    entity_id = connection.execute(
        insert(entities)
        .values(
            uid=str(uuid.uuid4()),
            ref_key=ref_key,
            kind=str(body["kind"]).lower(),
            namespace=namespace,
            name=str(metadata["name"]),
            body=encoded,
            content_hash=hashlib.sha256(encoded.encode()).hexdigest(),
            etag=uuid.uuid4().hex,
            search_text=text,
            orphaned_at=now if orphaned else None,
            created_at=now,
            updated_at=now,
        )
        .returning(entities.c.id)
    ).scalar_one()
    rows = [
        {"entity_id": entity_id, "key": key, "value": value, "original_value": original}
        for key, value, original in build_search_rows(body)
    ]
    connection.execute(insert(search), rows)
    edges = [
        {"originating_entity_id": entity_id, "source_key": ref_key, "type": kind, "target_key": target}
        for kind, target in relations_out
    ]
    if edges:
        connection.execute(insert(relations), edges)
    notes = [
        {"entity_id": entity_id, "category": "descriptor", "severity": "error", "message": message}
        for message in problem_messages
    ]
    if notes:
        connection.execute(insert(problems), notes)
    return int(entity_id)
