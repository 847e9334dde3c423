"""The two consumers of scoring's tables, each a ``typing.Protocol``: the scorer, and the readers.

``ScoringStore`` is what a re-score reads and writes. A re-score is one transaction holding a lock
(``rescoring``), so every operation takes that ``Transaction``: two workers never interleave their
writes, and a re-score that fails leaves everything as it was. ``ScoringReads`` is what the API and
the portal read; each read takes the request's read ``Transaction``, so one HTTP request uses one
connection. ``catalog_sync.store.scoring`` implements both over SQLAlchemy Core.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import Any, Protocol

from catalog_sync.descriptors.references import ScorecardTerms
from catalog_sync.store.base import Transaction
from catalog_sync.store.filters import EntityFilter
from catalog_sync.store.outbox.types import Event
from catalog_sync.store.scoring.initiatives import BurnPoint, CandidateRow
from catalog_sync.store.scoring.types import (
    Changes,
    EdgeRow,
    EntityOutcome,
    Gap,
    Meta,
    Page,
    PublishedScorecard,
    ScoredBefore,
    Served,
    TeamFacts,
    Totals,
)


class ScoringStore(Protocol):
    """What the scorer reads of the catalog and writes of its outcomes."""

    def rescoring(self) -> AbstractContextManager[Transaction]:
        """A write transaction holding the re-score lock: concurrent re-scores wait for each other."""
        ...

    # -- bookkeeping -----------------------------------------------------------------------------------------

    def read_state(self, tx: Transaction, key: str) -> str | None:
        """One value the scorer kept (``digest``, ``history_day``, ``scored_at``)."""
        ...

    def write_state(self, tx: Transaction, values: dict[str, str]) -> None:
        """Replace values the scorer keeps."""
        ...

    # -- what to evaluate -----------------------------------------------------------------------------------

    def catalog_scorecards(self, tx: Transaction) -> list[tuple[str, dict[str, Any], str | None]]:
        """The live ``kind: Scorecard`` entities: ``(ref key, body, source name)``, so that scoring can
        ignore those of untrusted sources; the source is None when the entity's repository is gone."""
        ...

    def entity_count(self, tx: Transaction) -> int:
        """How many entities the catalog holds."""
        ...

    def entity_ids(self, tx: Transaction) -> list[int]:
        """Every entity id, ascending."""
        ...

    def find_changes(self, tx: Transaction) -> Changes:
        """What changed in the catalog since it was last scored."""
        ...

    def changed_lists(self, tx: Transaction, entity_ids: Iterable[int]) -> set[tuple[str, str]]:
        """The relation lists ``(source key, type)`` holding a row one of these entities originated."""
        ...

    def dependents(self, tx: Transaction, keys: set[str], lists: set[tuple[str, str]]) -> set[int]:
        """Scored entities whose evaluation read one of these keys or relation lists."""
        ...

    def expired_subjects(self, tx: Transaction, now: datetime) -> set[int]:
        """Entities whose result depended on time and may have changed by ``now``."""
        ...

    def applicable_ids(
        self, tx: Transaction, entity_filter: EntityFilter, ids: Sequence[int] | None
    ) -> set[int]:
        """The entities an ``appliesTo`` filter selects, among ``ids`` (all when None)."""
        ...

    # -- loading what evaluation reads ----------------------------------------------------------------------

    def load_subjects(self, tx: Transaction, ids: Sequence[int]) -> list[tuple[Meta, dict[str, Any]]]:
        """The entities to score, light part and body, by id."""
        ...

    def load_entities(
        self, tx: Transaction, keys: Sequence[str], *, body: bool
    ) -> list[tuple[Meta, dict[str, Any] | None]]:
        """Entities by ref key (bodies when asked); keys not in the catalog are left out."""
        ...

    def load_edges(self, tx: Transaction, keys: Sequence[str], relation_type: str | None) -> list[EdgeRow]:
        """The relation rows from these keys, of one type (every type when None)."""
        ...

    def load_facts(self, tx: Transaction, ids: Sequence[int]) -> dict[int, dict[str, Any] | None]:
        """Repository facts by id (None when a repository has none, or is gone)."""
        ...

    def load_kpi_values(
        self, tx: Transaction, keys: Sequence[str]
    ) -> dict[str, dict[str, tuple[float | None, str | None]]]:
        """Stored KPI values by entity key and KPI id: (last good value, error of the last try);
        every key asked is present (empty when nothing was measured)."""
        ...

    def load_parts(self, tx: Transaction, keys: Sequence[str]) -> tuple[dict[str, str], dict[str, list[str]]]:
        """For each key: one live product or component it ``hasPart``, and its group targets."""
        ...

    # -- writing outcomes -----------------------------------------------------------------------------------

    def write_definitions(self, tx: Transaction, cards: Sequence[PublishedScorecard], now: datetime) -> None:
        """Publish the evaluated scorecards for the API."""
        ...

    def clear_all(self, tx: Transaction) -> None:
        """Forget every result, summary, entity gap and dependency (before a full re-score)."""
        ...

    def clear_entities(self, tx: Transaction, ids: Sequence[int]) -> list[ScoredBefore]:
        """Forget what was written for these entities; answer what each added to the kept totals."""
        ...

    def write_outcomes(
        self, tx: Transaction, outcomes: Iterable[EntityOutcome], now: datetime
    ) -> tuple[int, int]:
        """Write freshly evaluated entities; answer how many results and gaps were written."""
        ...

    def apply_summaries(self, tx: Transaction, levels: Totals, owners: Totals, served: Served) -> bool:
        """Apply changes to the kept totals (per level, per owner, products per capability and team);
        answer whether any moved."""
        ...

    def rescore_repositories(
        self, tx: Transaction, ids: Sequence[int] | None, gap_of: Callable[[str, str], Gap]
    ) -> int:
        """Re-judge these repositories (all when None) for descriptors; answer the gaps written."""
        ...

    def record_day(self, tx: Transaction, now: datetime) -> None:
        """Replace today's history points with the current totals; drop points past retention."""
        ...

    def announce(self, tx: Transaction, events: Sequence[Event], now: datetime) -> None:
        """Write events the scorer judged (initiatives due or overdue) to the outbox, in the re-score's
        transaction; nothing when no channel listens."""
        ...

    # -- initiatives ---------------------------------------------------------------------------------------

    def catalog_initiatives(self, tx: Transaction) -> list[tuple[str, dict[str, Any], str | None]]:
        """The live ``kind: Initiative`` entities: ``(ref key, body, source name)``, as for scorecards."""
        ...

    def initiative_candidates(
        self, tx: Transaction, scorecard: str, entity_filter: EntityFilter
    ) -> list[CandidateRow]:
        """The stored results of ``scorecard`` whose entity the filter selects."""
        ...

    def record_initiative_days(
        self, tx: Transaction, points: Sequence[tuple[str, int, int]], now: datetime
    ) -> None:
        """Replace today's burn-up point of each initiative ``(name, in scope, done)``; forget the points
        of initiatives no longer defined and those past retention."""
        ...

    def initiative_points(
        self, tx: Transaction, names: Iterable[str], first_day: date
    ) -> dict[str, list[BurnPoint]]:
        """Burn-up points ``(day, in scope, done)`` of these initiatives from ``first_day``, oldest first."""
        ...

    def write_initiatives(
        self,
        tx: Transaction,
        rows: Sequence[dict[str, Any]],
        covered: Sequence[dict[str, Any]],
        now: datetime,
    ) -> None:
        """Replace every initiative's row and the entities each covers."""
        ...


class ScoringReads(Protocol):
    """What the API and the portal read of scoring, each on the request's read transaction."""

    def scorecard_terms(self, tx: Transaction) -> dict[str, ScorecardTerms]:
        """The published scorecards' check ids and levels, to check names written in a descriptor."""
        ...

    def list_scorecards(self, tx: Transaction, after: str | None, limit: int) -> Page:
        """Scorecards by name, each with its summary."""
        ...

    def get_scorecard(self, tx: Transaction, name: str) -> dict[str, Any]:
        """One scorecard with its summary; NotFoundError when there is none of that name."""
        ...

    def results(
        self,
        tx: Transaction,
        name: str,
        *,
        entity_filter: EntityFilter | None,
        level: str | None,
        after: str | tuple[Any, str] | None,
        limit: int,
        sort: str = "entity",
        descending: bool = False,
    ) -> Page:
        """One scorecard's results, by entity ref (or by ``sort``, one of ``RESULT_SORTS``);
        ``level`` is a level name or ``none``; ``after`` is the previous page's ``Page.after``."""
        ...

    def history(self, tx: Transaction, name: str, days: int, today: date) -> list[dict[str, Any]]:
        """Daily points of one scorecard, oldest first."""
        ...

    def list_initiatives(
        self, tx: Transaction, after: str | None, limit: int, owners: Sequence[str] | None
    ) -> Page:
        """Initiatives by due day; ``owners`` (a team's ref keys) keeps those it runs or has entities in."""
        ...

    def get_initiative(self, tx: Transaction, name: str) -> dict[str, Any]:
        """One initiative with its progress; NotFoundError when none has that name."""
        ...

    def initiative_history(self, tx: Transaction, name: str, days: int, today: date) -> list[dict[str, Any]]:
        """The daily burn-up of one initiative, oldest first; NotFoundError for an unknown name."""
        ...

    def initiative_entities(
        self, tx: Transaction, name: str, done: bool | None, after: str | None, limit: int
    ) -> Page:
        """The entities one initiative covers, not done first; NotFoundError for an unknown name."""
        ...

    def entity_initiatives(self, tx: Transaction, ref_key: str) -> list[dict[str, Any]]:
        """The initiatives covering one entity, each with ``entityDone``."""
        ...

    def entity_scorecards(self, tx: Transaction, ref_key: str) -> list[dict[str, Any]]:
        """Every scorecard result of one entity; NotFoundError when the entity does not exist."""
        ...

    def gaps(
        self,
        tx: Transaction,
        *,
        gap_type: str | None,
        owner: str | None,
        after: tuple[str, str, int] | None,
        limit: int,
        sort: str = "type",
        descending: bool = False,
    ) -> tuple[Page, dict[str, int]]:
        """Ownership gaps by type and subject (or by ``sort``, one of ``GAP_SORTS``), and the count of
        each type under the same filters."""
        ...

    def team_summary(self, tx: Transaction, name: str, namespace: str = "default") -> TeamFacts:
        """One team's facts (``catalog_sync.scoring.teams.team_document`` makes the summary of them)."""
        ...

    def insight(self, tx: Transaction, name: str) -> list[dict[str, Any]]:
        """One insight list, whole: capability-overlap, coordination-load, runbook-automation or
        tech-debt."""
        ...

    def capability_tree(self, tx: Transaction) -> list[dict[str, Any]]:
        """Every capability, parents before children (``depth``), with the products serving it and
        whether it is served at all (``unserved``) or by several teams (``duplicated``)."""
        ...

    def team_directory(self, tx: Transaction) -> list[dict[str, Any]]:
        """Every Team and Group with its gaps, average levels, runbooks, dependencies and debt."""
        ...

    def owner_results(self, tx: Transaction, owner: str, limit: int) -> list[dict[str, Any]]:
        """The results of what ``owner`` (a stored key) owns, with their checks' definitions, for
        ``catalog_sync.scoring.next_steps``."""
        ...

    def entity_results(self, tx: Transaction, ref_key: str) -> list[dict[str, Any]]:
        """One entity's results with their checks' definitions, for ``next_steps``."""
        ...
