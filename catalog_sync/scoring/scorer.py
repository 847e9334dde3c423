"""The scorer: after each sync pass, re-score what changed and what depends on it, in bulk.

``Scorer.rescore(None)`` evaluates everything; ``rescore(ids)`` evaluates the entities that changed
since the last re-score (found in the database, so ``ids`` is only a hint) and every entity whose
evaluation read one of them (``scoring_dependencies``), plus the entities whose answer depended on
time and may have flipped (``valid_until``). A change of the scorecards themselves, of the configured
required roles or of the installed plugin checks makes the next re-score a full one.

A re-score is one transaction holding a lock (``ScoringStore.rescoring``), so two workers never
interleave their writes; a worker that fails leaves everything as it was, and the next re-score finds
the same changes again. The scorer reads and writes only through its ``ScoringStore``: it decides,
the store stores.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from catalog_sync.config import Settings
from catalog_sync.descriptors.trust import KindTrust
from catalog_sync.errors import StoreError
from catalog_sync.model import RELATION_PAIRS
from catalog_sync.scoring.definitions import (
    SCORECARD_FILES,
    Definitions,
    ScorecardDef,
    ScorecardFiles,
    merge_definitions,
    read_file_scorecards,
    trusted_scorecards,
    unseeable_paths,
)
from catalog_sync.scoring.evaluate import EntityOutcome, evaluate_entity
from catalog_sync.scoring.fill import fill, load_subjects
from catalog_sync.scoring.gaps import repository_gap
from catalog_sync.scoring.plugins import PluginChecks
from catalog_sync.scoring.progress import keep_progress
from catalog_sync.scoring.resolve import Context, Wants, resolve_context, speculate, wants_for
from catalog_sync.scoring.rules import RuleEnv
from catalog_sync.scoring.summary import SummaryChanges
from catalog_sync.scoring.view import CatalogView, Missing, Need, repository_key
from catalog_sync.store.base import Transaction
from catalog_sync.store.filters import RELATIONS_PREFIX
from catalog_sync.store.scoring.protocols import ScoringStore

log = logging.getLogger(__name__)

EVALUATION_FORMAT = "2"
"""Part of the digest: raised when evaluation changes meaning, so upgraded workers re-score everything."""
CHUNK_SIZE = 500
"""Entities evaluated and written together: large enough for bulk queries, small enough to bound memory."""
MAX_ROUNDS = 32
FULL_FRACTION = 0.5
"""Past this share of the catalog changed, a full re-score is cheaper than following dependencies."""

Clock = Callable[[], datetime]
T = TypeVar("T")


def _batches(values: Sequence[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(values), size):
        yield list(values[start : start + size])


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class ScoringSummary:
    """What one re-score did; logged by the sync loop and printed by the benchmark."""

    full: bool = False
    entities: int = 0
    results: int = 0
    gaps: int = 0
    repositories: int = 0
    initiatives: int = 0
    scorecards: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """Scorecards evaluated that cannot work as written (``Definitions.warnings``)."""
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)
    """Seconds spent finding changes, loading, evaluating, writing, ... (for the benchmark)."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return asdict(self)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Add the time spent in the block to ``phases[name]``."""
        started = time.perf_counter()
        try:
            yield
        finally:
            spent = time.perf_counter() - started
            self.phases[name] = round(self.phases.get(name, 0.0) + spent, 4)


class Scorer:
    """Evaluates scorecards and ownership gaps against one catalog, through its ``ScoringStore``."""

    def __init__(
        self,
        settings: Settings,
        store: ScoringStore,
        *,
        clock: Clock = _utcnow,
        plugins: PluginChecks | None = None,
        chunk_size: int = CHUNK_SIZE,
        scorecard_files: ScorecardFiles = SCORECARD_FILES,
    ) -> None:
        """``scorecard_files``: the files parsed so far, parsed again only when they change (the
        process's own by default, shared with the sync passes)."""
        self.settings = settings
        self.store = store
        self.clock = clock
        self.plugins = plugins if plugins is not None else PluginChecks()
        self.chunk_size = max(1, chunk_size)
        self.scorecard_files = scorecard_files
        self.last_summary: ScoringSummary | None = None
        """What the latest re-score of this scorer did (for logs and the CLI's summary)."""

    def as_hook(self) -> Callable[[Any], None]:
        """A callable for ``SyncEngine(after_pass=[...])``: re-scores after each pass, never raises.

        A failed re-score is logged and changes nothing; the next pass finds the same changes again.
        """

        def rescore_after_pass(summary: Any) -> None:
            try:
                self.rescore(list(getattr(summary, "changed_entity_ids", None) or []))
            except StoreError as exc:  # the database's own words say it all; a traceback adds noise
                log.error("re-scoring after the sync pass failed: %s; the next pass tries again", exc)
            except Exception:
                log.exception("re-scoring after the sync pass failed; the next pass tries again")

        return rescore_after_pass

    def rescore(self, changed_entity_ids: Sequence[int] | None = None) -> ScoringSummary:
        """Re-score everything (None) or what changed since the last re-score (see the module doc)."""
        started = time.perf_counter()
        now = self.clock()
        summary = ScoringSummary()
        store = self.store
        with store.rescoring() as tx:
            definitions = self.definitions(tx)
            summary.scorecards = [card.name for card in definitions.scorecards]
            summary.problems = list(definitions.problems)
            summary.warnings = list(definitions.warnings)
            digest = definitions.digest(self._settings_fingerprint())
            full = changed_entity_ids is None or store.read_state(tx, "digest") != digest
            ids: list[int] = []
            repositories: list[int] | None = None
            changes = SummaryChanges()
            if not full:
                with summary.phase("changes"):
                    ids, repositories = self._dirty(tx, now, changed_entity_ids or (), changes)
                total = store.entity_count(tx)
                full = total > 200 and len(ids) > FULL_FRACTION * total
            if full:
                for problem in definitions.problems:
                    log.warning("scorecard not evaluated: %s", problem)
                for warning in definitions.warnings:
                    log.warning("scorecard check cannot pass: %s", warning)
                store.write_definitions(tx, definitions.scorecards, now)
                store.clear_all(tx)
                changes = SummaryChanges()  # the summaries start again from empty
                ids = store.entity_ids(tx)
                repositories = None
            summary.full = full
            summary.entities = len(ids)
            if ids:
                self._score(tx, ids, definitions.scorecards, now, summary, changes, full=full)
            with summary.phase("write"):
                moved = store.apply_summaries(tx, changes.levels, changes.owners, changes.served)
            with summary.phase("repositories"):
                if repositories is None or repositories:
                    summary.repositories = store.rescore_repositories(tx, repositories, repository_gap)
            today = now.date().isoformat()
            with summary.phase("history"):
                if full or ids or repositories or moved or store.read_state(tx, "history_day") != today:
                    store.record_day(tx, now)
                    trust = KindTrust.of(self.settings.scorecards.trusted_sources)
                    cards = definitions.by_name()
                    summary.initiatives = len(keep_progress(store, tx, cards, trust, now, summary.problems))
                store.write_state(tx, {"digest": digest, "history_day": today, "scored_at": now.isoformat()})
            commit_started = time.perf_counter()
        summary.phases["commit"] = round(time.perf_counter() - commit_started, 4)
        summary.seconds = round(time.perf_counter() - started, 3)
        self.last_summary = summary
        log.info(
            "re-scored %d entities (%s) in %.3f s: %d results, %d gaps",
            summary.entities,
            "full" if summary.full else "incremental",
            summary.seconds,
            summary.results,
            summary.gaps,
        )
        return summary

    # -- what to evaluate ---------------------------------------------------------------------------------

    def definitions(self, tx: Transaction) -> Definitions:
        """The scorecards to evaluate now: files (built-in and configured) and the catalog's."""
        files, problems = read_file_scorecards(self.settings, self.scorecard_files)
        trust = KindTrust.of(self.settings.scorecards.trusted_sources)
        catalog = trusted_scorecards(self.store.catalog_scorecards(tx), trust, problems)
        definitions = merge_definitions(files, catalog, problems)
        definitions.warnings = unseeable_paths(definitions.scorecards, self.settings.sync.fact_paths)
        return definitions

    def _settings_fingerprint(self) -> list[str]:
        return [
            f"format={EVALUATION_FORMAT}",
            "roles=" + ",".join(self.settings.ownership.required_team_roles),
            "facts=" + ",".join(self.settings.sync.fact_paths),
            "plugins=" + self.plugins.fingerprint(),
        ]

    def _dirty(
        self, tx: Transaction, now: datetime, hinted: Sequence[int], totals: SummaryChanges
    ) -> tuple[list[int], list[int]]:
        """The entities to re-score and the repositories to re-judge."""
        store = self.store
        changes = store.find_changes(tx)
        if changes.vanished:
            self._clear(tx, sorted(changes.vanished), totals)
        keys = {
            *changes.entities.values(),
            *changes.vanished.values(),
            *(repository_key(rid) for rid in changes.repositories),
        }
        lists = store.changed_lists(tx, changes.entities)
        affected = store.dependents(tx, keys, lists) if keys or lists else set()
        expired = store.expired_subjects(tx, now)
        ids = {*changes.entities, *hinted, *affected, *expired} - set(changes.vanished)
        return sorted(ids), changes.repositories

    def _clear(self, tx: Transaction, ids: Sequence[int], totals: SummaryChanges) -> None:
        """Forget what was written for these entities, and count out of the summaries what they added."""
        for before in self.store.clear_entities(tx, ids):
            totals.count_out(before)

    # -- evaluation ---------------------------------------------------------------------------------------

    def _score(
        self,
        tx: Transaction,
        ids: list[int],
        cards: Sequence[ScorecardDef],
        now: datetime,
        summary: ScoringSummary,
        changes: SummaryChanges,
        *,
        full: bool,
    ) -> None:
        env = RuleEnv(
            now, self.settings.ownership.required_team_roles, self.plugins, self.settings.sync.fact_paths
        )
        store = self.store
        view = CatalogView()
        everywhere = (
            {card.name: store.applicable_ids(tx, card.entity_filter, None) for card in cards} if full else {}
        )
        for part in _batches(ids, self.chunk_size):
            with summary.phase("write"):
                if not full:
                    self._clear(tx, part, changes)
            with summary.phase("load"):
                keys = load_subjects(store, tx, view, part)
                applicable = everywhere or {
                    card.name: store.applicable_ids(tx, card.entity_filter, part) for card in cards
                }
            outcomes = self._evaluate(tx, view, keys, cards, applicable, env, summary)
            with summary.phase("write"):
                for outcome in outcomes:
                    changes.count_in(outcome)
                results, gaps = store.write_outcomes(tx, outcomes, now)
            summary.results += results
            summary.gaps += gaps
            view.forget(keys)
            view.repositories.clear()  # facts are per repository: rarely shared across chunks

    def _evaluate(
        self,
        tx: Transaction,
        view: CatalogView,
        keys: list[str],
        cards: Sequence[ScorecardDef],
        applicable: dict[str, set[int]],
        env: RuleEnv,
        summary: ScoringSummary,
    ) -> list[EntityOutcome]:
        plan: dict[str, tuple[list[ScorecardDef], Wants]] = {}
        for key in keys:
            meta = view.metas[key]
            chosen = [] if meta.orphaned else [c for c in cards if meta.id in applicable[c.name]]
            forms: frozenset[str] = frozenset().union(*(card.forms for card in chosen))
            types: frozenset[str] = frozenset().union(*(card.relation_types for card in chosen))
            plan[key] = (chosen, wants_for(meta.kind, forms, types))
        with summary.phase("load"):
            fill(self.store, tx, view, Need(edges={(k, t) for k in keys for t in plan[k][1].relations}))
            guess = Need()
            for key in keys:
                guess.merge(speculate(view, key, plan[key][1]))
            fill(self.store, tx, view, guess)
        contexts: dict[str, Context] = {}
        pending = list(keys)
        for _ in range(MAX_ROUNDS):
            need = Need()
            retry = []
            with summary.phase("resolve"):
                for key in pending:
                    try:
                        contexts[key] = resolve_context(view, key, plan[key][1])
                    except Missing as missing:
                        need.merge(missing.need)
                        retry.append(key)
            if not retry:
                break
            with summary.phase("load"):
                fill(self.store, tx, view, need)
            pending = retry
        else:
            log.error(
                "%d entities could not be resolved in %d rounds; retried next time", len(pending), MAX_ROUNDS
            )
        roles = self.settings.ownership.required_team_roles
        selecting = _filter_relation_types(cards)
        with summary.phase("evaluate"):
            outcomes = [
                evaluate_entity(contexts[key], plan[key][0], env, required_roles=roles)
                for key in keys
                if key in contexts
            ]
        for outcome in outcomes:  # whether a scorecard applies may depend on these relation lists
            outcome.dependencies |= {(outcome.key, relation_type) for relation_type in selecting}
        return outcomes


_RELATION_TYPES = {relation_type.lower(): relation_type for relation_type in RELATION_PAIRS}


def _filter_relation_types(cards: Sequence[ScorecardDef]) -> set[str]:
    """The relation types ``appliesTo`` filters test (``relations.ownedBy=...``), as stored."""
    found: set[str] = set()
    for card in cards:
        for alternative in card.entity_filter.alternatives:
            for condition in alternative.conditions:
                if condition.is_relation:
                    name = condition.key.removeprefix(RELATIONS_PREFIX)
                    found.add(_RELATION_TYPES.get(name, name))
    return found
