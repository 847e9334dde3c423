"""Initiatives' progress, kept by the re-score that records the day, from the results it just wrote.

Only trusted sources may define an initiative (like a scorecard); one whose ``appliesTo`` cannot be
used, or whose scorecard is not evaluated, is still listed, with nothing in scope, and the reason is in
the re-score's problems. The judgement itself is pure (``initiatives``); this module moves the data.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from catalog_sync.descriptors.trust import KindTrust
from catalog_sync.errors import QueryError
from catalog_sync.model import Entity
from catalog_sync.scoring.announce import initiative_events
from catalog_sync.scoring.definitions import ScorecardDef
from catalog_sync.scoring.initiatives import (
    TREND_DAYS,
    Candidate,
    InitiativeDef,
    Progress,
    build_initiative,
    judge_progress,
    judge_risk,
)
from catalog_sync.store.base import Transaction
from catalog_sync.store.scoring.protocols import ScoringStore

log = logging.getLogger(__name__)


def read_initiatives(
    store: ScoringStore, tx: Transaction, trust: KindTrust, problems: list[str]
) -> list[InitiativeDef]:
    """The catalog's initiatives a trusted source defined, one per name (the default namespace wins)."""
    chosen: dict[str, InitiativeDef] = {}
    rows = sorted(
        store.catalog_initiatives(tx),
        key=lambda row: (not row[0].split(":", 1)[1].startswith("default/"), row[0]),
    )
    for ref_key, body, source in rows:
        entity = Entity.from_dict(body)
        reason = trust.refusal(entity.kind, source)
        if reason is not None:
            problems.append(f"initiative {ref_key} is not followed: {reason}")
            continue
        if entity.name in chosen:
            problems.append(f"initiative {ref_key} has the name of another initiative; ignored")
            continue
        try:
            chosen[entity.name] = build_initiative(entity)
        except (QueryError, KeyError, ValueError) as exc:
            problems.append(f"initiative {ref_key} cannot be followed: {exc}")
    return list(chosen.values())


def keep_progress(
    store: ScoringStore,
    tx: Transaction,
    cards: Mapping[str, ScorecardDef],
    trust: KindTrust,
    now: datetime,
    problems: list[str],
) -> list[Progress]:
    """Judge every initiative on the stored results, record today's burn-up and keep the progress."""
    judged: list[Progress] = []
    for definition in read_initiatives(store, tx, trust, problems):
        card = cards.get(definition.scorecard)
        if card is None:
            problems.append(
                f"initiative {definition.name}: scorecard {definition.scorecard!r} is not evaluated"
            )
        rows = store.initiative_candidates(tx, definition.scorecard, definition.entity_filter) if card else []
        candidates = (Candidate(eid, ref, owner, rank, text) for eid, ref, owner, rank, text in rows)
        judged.append(judge_progress(definition, card, candidates))
    store.record_initiative_days(tx, [(p.definition.name, p.in_scope, p.done) for p in judged], now)
    today = now.date()
    points = store.initiative_points(
        tx, [p.definition.name for p in judged], today - timedelta(days=TREND_DAYS - 1)
    )
    for progress in judged:
        burn = [(date.fromisoformat(day), s, d) for day, s, d in points.get(progress.definition.name, [])]
        judge_risk(progress, burn, today)
    store.write_initiatives(tx, [_row(p) for p in judged], [c for p in judged for c in _covered(p)], now)
    store.announce(tx, initiative_events(judged, today), now)
    return judged


def _row(progress: Progress) -> dict[str, Any]:
    definition = progress.definition
    return {
        "name": definition.name,
        "entity_ref": definition.entity_ref,
        "title": definition.title[:255],
        "owner": definition.owner,
        "scorecard": definition.scorecard,
        "goal": json.dumps(definition.goal()),
        "applies_to": json.dumps(list(definition.applies_to)),
        "starts_on": definition.starts_on.isoformat(),
        "due_on": definition.due_on.isoformat(),
        "in_scope": progress.in_scope,
        "done": progress.done,
        "teams": json.dumps(progress.team_list()),
        "status": progress.status,
        "at_risk": progress.at_risk,
        "projected": progress.projected,
    }


def _covered(progress: Progress) -> list[dict[str, Any]]:
    name = progress.definition.name
    return [
        {"initiative": name, "entity_id": eid, "entity_ref": ref, "owner": owner, "done": done}
        for eid, ref, owner, done in progress.entities
    ]
