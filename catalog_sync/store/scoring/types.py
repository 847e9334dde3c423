"""The records scoring and its store both speak: plain data, so neither side imports the other's code.

The store sits below scoring (scoring imports the store; never the reverse), yet both must agree on
what a re-score loads and writes: the light part of an entity (``Meta``), one entity's evaluated
outcome (``EntityOutcome`` with its ``ScoreResult``s and ``Gap``s), the tallies the summaries add up,
what changed since the last re-score. Those records live here, below both, and carry no behaviour
beyond trivial arithmetic; ``catalog_sync.scoring`` re-exports the ones its own modules are known by.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from catalog_sync.model import KINDS

GAP_TYPES = (
    "missing_owner",
    "unknown_owner",
    "individual_owner",
    "orphaned_owner",
    "team_without_members",
    "team_missing_roles",
    "product_without_capability",
    "capability_without_product",
    "orphaned_entity",
    "repository_without_descriptor",
)
"""Every kind of ownership gap (SPEC section 5), in the order lists and counts show them."""

ALL_TYPES = "*"
"""The relation type meaning every relation of an entity (in a dependency's part, and when loading)."""

NONE_LEVEL = "none"
"""How an entity below a scorecard's first level is shown (it is stored as "")."""

TEAM_PAGE = 100
"""Entities and gaps listed in a team summary at most (the counts are always complete)."""

Tally = tuple[str, str, int]
"""What one result adds to the summaries: ``(scorecard, level, score in tenths)``."""

Totals = dict[tuple[str, str], list[int]]
"""``(scorecard, level or owner) -> [entities, score tenths]``: changes to the summaries."""

Served = dict[tuple[str, str], int]
"""``(capability, owning team) -> products``: changes to the products serving each capability."""

SERVING_KINDS = frozenset(key for key, info in KINDS.items() if info.product_like)
"""Kinds whose entities serve a capability (products and components)."""

EdgeRow = tuple[str, str, str, int]
"""One stored relation row: ``(source key, type, target key, originating entity id)``."""


def tenths(score: float) -> int:
    """A score (0-100, one decimal) as the integer the summaries add up, so sums never drift."""
    return round(score * 10)


def served_capabilities(live: bool, owner: str, kind: str, capabilities: Sequence[str]) -> list[str]:
    """The capabilities an entity counts for among those a team serves: a live, team-owned product's
    or component's, each once (the capability-overlap insight counts these)."""
    if not live or not owner or kind not in SERVING_KINDS:
        return []
    return list(dict.fromkeys(capabilities))


@dataclass(slots=True)
class Meta:
    """The light part of an entity: enough to know what it is and whether it is still described."""

    id: int
    key: str
    kind: str
    etag: str
    orphaned: bool
    repository_id: int | None
    path: str | None
    descriptor_changed_at: datetime | None


@dataclass(frozen=True)
class Gap:
    """One gap: its type, what has it, who should act, the tier, and what to do."""

    type: str
    entity_ref: str | None
    kind: str | None
    owner: str | None
    tier: str
    detail: str


@dataclass(frozen=True)
class ScoreResult:
    """An entity's result on one scorecard."""

    scorecard: str
    level: str
    rank: int
    score: float
    checks: list[dict[str, Any]]
    """``{id, passed, value, message}`` per check, in the scorecard's order (the definition holds the
    rest: title, level, weight), so a stored result stays small; an exempted check also carries
    ``exempted: {reason, until, approvedBy}``."""
    exempted: int = 0
    """How many of the checks passed only by an exemption (for the gauge of active exemptions)."""


@dataclass
class EntityOutcome:
    """Everything one evaluation of one entity produced, ready to be written."""

    entity_id: int
    key: str
    ref: str
    kind: str
    etag: str
    live: bool
    owner: str
    tier: str
    capabilities: list[str]
    runbooks_manual: int
    runbooks_automated: int
    results: list[ScoreResult] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    dependencies: set[tuple[str, str]] = field(default_factory=set)
    valid_until: datetime | None = None

    def tallies(self) -> list[Tally]:
        """What this entity's results add to the summaries."""
        return [(result.scorecard, result.level, tenths(result.score)) for result in self.results]

    def served(self) -> list[str]:
        """The capabilities this entity counts for in the products per capability and team."""
        return served_capabilities(self.live, self.owner, self.kind, self.capabilities)


@dataclass(frozen=True)
class ScoredBefore:
    """What an entity added to the kept totals when it was last scored, so a re-score can count it out."""

    owner: str
    tallies: list[Tally]
    served: list[str]


class PublishedScorecard(Protocol):
    """What the store publishes of an evaluated scorecard, for the API (which never reads files)."""

    @property
    def name(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def origin(self) -> str: ...
    @property
    def entity_ref(self) -> str | None: ...
    @property
    def levels(self) -> tuple[str, ...]: ...
    @property
    def spec(self) -> Any: ...
    @property
    def digest(self) -> str: ...


@dataclass
class Changes:
    """What changed in the catalog since it was last scored."""

    entities: dict[int, str]
    """Changed or new entities: id -> ref key."""
    vanished: dict[int, str]
    """Scored entities no longer in the catalog: id -> ref key."""
    repositories: list[int]
    """Repositories whose commit, descriptors or removal changed (or that are new, or gone)."""


@dataclass(frozen=True)
class Page:
    """One page: its items, how many match in all, and where the next page starts (None at the end)."""

    items: list[dict[str, Any]]
    total: int
    after: Any = None


@dataclass(frozen=True)
class TeamFacts:
    """What the store knows of one team for its summary; ``scoring.teams`` adds the members by role.

    Members and roles are judged by scoring's own rule (``resolve.team_info``), from the team's body
    and its ``hasMember`` rows, so the summary and the gaps never disagree on who is in a team.
    """

    key: str
    meta: Meta
    body: dict[str, Any]
    member_rows: list[EdgeRow]
    header: dict[str, Any]
    owned: dict[str, Any]
    scorecards: list[dict[str, Any]]
    gaps: dict[str, Any]
    insights: dict[str, Any]
