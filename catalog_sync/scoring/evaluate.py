"""One entity judged: its result on every scorecard that applies to it, its gaps, and what it read.

Level and score follow the SPEC: an entity reaches a level when every check of that level and of
every lower level passes, its level is the highest it reaches ("" below the first level, shown as
``none``), and its score is the weighted share of checks passed, 0 to 100, rounded to one decimal.
A level without checks is reached as soon as the levels below it are.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from catalog_sync.scoring.definitions import ScorecardDef
from catalog_sync.scoring.exemptions import ends_at, grants_for, is_active
from catalog_sync.scoring.gaps import entity_gaps, tier_of
from catalog_sync.scoring.plugins import CheckResult
from catalog_sync.scoring.resolve import Context
from catalog_sync.scoring.rules import RuleEnv, evaluate_rule, shown
from catalog_sync.store.scoring.types import EntityOutcome as EntityOutcome
from catalog_sync.store.scoring.types import ScoreResult as ScoreResult

log = logging.getLogger(__name__)


def display_ref(body: dict[str, Any], key: str) -> str:
    """The entity's ref as the catalog shows it: ``kind:namespace/Name`` (name as written)."""
    metadata = body.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("name"), str):
        kind = str(body.get("kind") or key.partition(":")[0]).lower()
        namespace = str(metadata.get("namespace") or "default").lower()
        return f"{kind}:{namespace}/{metadata['name']}"
    return key


def score_entity(card: ScorecardDef, context: Context, env: RuleEnv) -> tuple[ScoreResult, datetime | None]:
    """One scorecard's result for one entity, and until when it holds (None: until something changes)."""
    checks: list[dict[str, Any]] = []
    passed_by_rank: dict[int, bool] = {}
    total = earned = 0.0
    valid_until: datetime | None = None
    grants = grants_for(context.spec, card.name)
    exempted = 0
    for check in card.checks:
        try:
            result, until = evaluate_rule(check, context, env)
        except Exception as exc:  # odd data must fail one check, never the whole pass
            log.exception("check %s of scorecard %s failed on %s", check.id, card.name, context.meta.key)
            result, until = CheckResult(False, None, f"the check could not be evaluated: {exc}"), None
        item: dict[str, Any] = {"id": check.id}
        grant = grants.get(check.id)
        if grant is not None and is_active(grant, env.now):
            ending = ends_at(grant.until)
            until = ending if until is None else min(until, ending)
            item["exempted"] = grant.to_dict()
            approved = f"approved by {grant.approved_by}"
            result = CheckResult(
                True,
                result.value,
                f"exempted until {grant.until.isoformat()} ({grant.reason}; {approved}); "
                f"without it: {result.message}",
            )
            exempted += 1
        elif grant is not None:
            result = CheckResult(
                result.passed,
                result.value,
                f"{result.message} (its exemption ended on {grant.until.isoformat()})",
            )
        if until is not None:
            valid_until = until if valid_until is None else min(valid_until, until)
        total += check.weight
        if result.passed:
            earned += check.weight
        passed_by_rank[check.rank] = passed_by_rank.get(check.rank, True) and result.passed
        item.update({"passed": result.passed, "value": _json_safe(result.value), "message": result.message})
        checks.append(item)
    rank = 0
    for candidate in range(1, len(card.levels) + 1):
        if not passed_by_rank.get(candidate, True):
            break
        rank = candidate
    level = card.levels[rank - 1] if rank else ""
    score = round(100.0 * earned / total, 1) if total else 0.0
    return ScoreResult(card.name, level, rank, score, checks, exempted), valid_until


def evaluate_entity(
    context: Context, cards: Sequence[ScorecardDef], env: RuleEnv, *, required_roles: Sequence[str]
) -> EntityOutcome:
    """Score one entity on ``cards`` (those that apply to it) and find its gaps."""
    meta = context.meta
    ref = display_ref(context.body, meta.key)
    runbooks = context.spec.get("runbooks")
    items = [r for r in runbooks if isinstance(r, dict)] if isinstance(runbooks, list) else []
    automated = sum(1 for r in items if r.get("automated") is True)
    owner = context.owner
    outcome = EntityOutcome(
        entity_id=meta.id,
        key=meta.key,
        ref=ref,
        kind=meta.kind,
        etag=meta.etag,
        live=not meta.orphaned,
        owner=owner.key if owner is not None and owner.status in ("team", "orphaned") and owner.key else "",
        tier=tier_of(context),
        capabilities=list(context.capabilities or []),
        runbooks_manual=len(items) - automated,
        runbooks_automated=automated,
    )
    if not meta.orphaned:
        for card in cards:
            result, until = score_entity(card, context, env)
            outcome.results.append(result)
            if until is not None:
                outcome.valid_until = (
                    until if outcome.valid_until is None else min(outcome.valid_until, until)
                )
    outcome.gaps = entity_gaps(context, ref, required_roles)
    outcome.dependencies = context.reads.items
    return outcome


def _json_safe(value: Any) -> Any:
    """A check's value as JSON can hold it (plugins may answer anything)."""
    if value is None or isinstance(value, bool | int | float | str):
        return shown(value)
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value][:50]
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in list(value.items())[:50]}
    return str(value)[:200]
