"""Label values of the catalog-state gauges, bounded whatever the descriptors say.

Descriptor authors choose the words the gauges would be labelled with: a Component's lifecycle is free
text, anyone may define a scorecard with any levels, any repository may declare teams. One 380 KB
descriptor file gave ``catalog_entities`` 2,001 series (one per invented lifecycle), and every series
costs Prometheus memory for as long as it is retained. So each label takes its value from a known,
fixed set, and everything else is folded into ``other``:

- ``kind``: the kinds of the catalog (``model.KINDS``); ``lifecycle``: the documented lifecycles
  (experimental, production, deprecated, retired) and ``none``; ``tier``: ``1``-``4`` and ``none``;
  ``type`` of a gap: ``scoring.gaps.GAP_TYPES``.
- ``scorecard``: at most ``MAX_SCORECARDS`` are named, the built-in ones first, then those of
  ``scorecards.paths``, then the catalog's, each group by name; ``level``: the first ``MAX_LEVELS``
  levels of a named scorecard and ``none``.
- ``owner`` (of ``catalog_scorecard_score_average``): a team that owns scored entities; the
  ``MAX_OWNERS`` teams with the most scored entities are named (then by name), the rest are ``other``.

- ``category`` and ``status`` of ``catalog_kpis`` and ``catalog_team_kpis``: the documented KPI
  categories and statuses; ``owner`` of ``catalog_team_kpis``: the ``MAX_OWNERS`` teams with the most
  KPIs (then by name), the rest added together as ``other``, products without a team ``none``;
  ``entity`` and ``kpi`` of ``catalog_kpi_ratio``: only KPIs of tier-1 and tier-2 products that have a
  value, at most ``MAX_KPI_RATIOS`` of them (tier 1 first, then by entity and id); the rest are left
  out, not folded (a ratio of ``other`` would mean nothing).

Folding keeps the numbers true: counts of folded values are added together and averages are
weighted by their entities, so every family still adds up to the catalog's totals.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from catalog_sync.descriptors.kinds_ours import LIFECYCLES
from catalog_sync.descriptors.kpis import KPI_CATEGORIES, STATUSES
from catalog_sync.model import KINDS

OTHER_LABEL = "other"
"""The label value of everything outside a label's known set."""
NONE_LABEL = "none"
"""The label value of an unset tier or lifecycle, an entity below a scorecard's first level, no owner."""

KNOWN_KINDS: frozenset[str] = frozenset(KINDS)
KNOWN_LIFECYCLES: tuple[str, ...] = LIFECYCLES
KNOWN_TIERS: tuple[str, ...] = ("1", "2", "3", "4")
MAX_SCORECARDS = 10
"""Scorecards named in the gauges; an organisation keeps a handful, each one a dashboard row."""
MAX_LEVELS = 10
"""Levels named per scorecard (bronze, silver, gold and the like)."""
MAX_OWNERS = 100
"""Teams named in ``catalog_scorecard_score_average``; the smaller teams' entities are averaged as
``other`` (each team's own numbers stay in ``/api/teams/{name}/summary``)."""

MAX_KPI_RATIOS = 1000
"""Series of ``catalog_kpi_ratio``: the KPIs of the most critical products, where alerts belong."""
RATIO_TIERS = (1, 2)

_ORIGIN_RANKS = {"builtin": 0, "file": 1}
"""Scorecards the operator chose come before those of the catalog when names are handed out."""

K = TypeVar("K", bound=Hashable)


def kind_label(kind: str | None) -> str:
    """A kind of the catalog as stored (lower case), else ``other``."""
    if not kind:
        return NONE_LABEL
    return kind if kind.lower() in KNOWN_KINDS else OTHER_LABEL


def lifecycle_label(lifecycle: str | None) -> str:
    """A documented lifecycle, ``none`` when unset, else ``other``."""
    if lifecycle is None or lifecycle == "" or lifecycle == NONE_LABEL:
        return NONE_LABEL
    return lifecycle if lifecycle in KNOWN_LIFECYCLES else OTHER_LABEL


def tier_label(tier: str | None) -> str:
    """A business tier ``1``-``4``, ``none`` when unset, else ``other``."""
    if tier is None or tier == "" or tier == NONE_LABEL:
        return NONE_LABEL
    return tier if tier in KNOWN_TIERS else OTHER_LABEL


def known_label(value: str, known: Iterable[str]) -> str:
    """``value`` when it is one of ``known``, else ``other``."""
    return value if value in set(known) else OTHER_LABEL


def sum_by(rows: Iterable[tuple[K, int]]) -> list[tuple[K, int]]:
    """Counts of rows whose labels folded into the same values, added together (in label order)."""
    totals: Counter[K] = Counter()
    for key, count in rows:
        totals[key] += count
    return sorted(totals.items(), key=lambda item: str(item[0]))


@dataclass(frozen=True)
class ScorecardLabels:
    """Which scorecards, and which of their levels, the gauges name; the rest are ``other``."""

    levels: dict[str, frozenset[str]]

    def scorecard(self, name: str) -> str:
        """The label of a scorecard."""
        return name if name in self.levels else OTHER_LABEL

    def level(self, scorecard: str, level: str | None) -> str:
        """The label of a level of a scorecard (``none`` below its first level)."""
        if level is None or level == "" or level == NONE_LABEL:
            return NONE_LABEL
        return level if level in self.levels.get(scorecard, frozenset()) else OTHER_LABEL


def choose_scorecards(definitions: Iterable[tuple[str, str, Sequence[str]]]) -> ScorecardLabels:
    """Name at most ``MAX_SCORECARDS`` of the defined ``(name, origin, levels)``: the built-in ones,
    then the operator's files, then the catalog's, each by name; each with its first ``MAX_LEVELS``."""
    ranked = sorted(definitions, key=lambda card: (_ORIGIN_RANKS.get(card[1], 2), card[0]))
    return ScorecardLabels(
        {name: frozenset(levels[:MAX_LEVELS]) for name, _origin, levels in ranked[:MAX_SCORECARDS]}
    )


def top_owners(counts: Iterable[tuple[str, int]]) -> frozenset[str]:
    """The ``MAX_OWNERS`` owners with the largest counts, added over their rows (then by name);
    no owner (``""``, ``none``) is never named, it has a label of its own."""
    totals: Counter[str] = Counter()
    for owner, count in counts:
        if owner and owner != NONE_LABEL:
            totals[owner] += count
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    return frozenset(owner for owner, _count in ranked[:MAX_OWNERS])


def choose_owners(totals: Iterable[tuple[str, str, int, float]]) -> frozenset[str]:
    """The ``MAX_OWNERS`` owners with the most scored entities over every scorecard (then by name)."""
    return top_owners((owner, count) for _card, owner, count, _score in totals)


def owner_label(owner: str | None, named: frozenset[str]) -> str:
    """An owner named in the gauges, ``none`` for entities without a team owner, else ``other``."""
    if owner is None or owner == "" or owner == NONE_LABEL:
        return NONE_LABEL
    return owner if owner in named else OTHER_LABEL


def fold_averages(
    totals: Iterable[tuple[str, str, int, float]], scorecards: ScorecardLabels, owners: frozenset[str]
) -> list[tuple[str, str, float]]:
    """``(scorecard, owner, average)`` from ``(scorecard, owner, entities, score sum)``, folded
    values averaged over all their entities (two decimals, as the unfolded gauge)."""
    sums: defaultdict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0.0])
    for card, owner, count, score in totals:
        entry = sums[(scorecards.scorecard(card), owner_label(owner, owners))]
        entry[0] += count
        entry[1] += score
    return sorted(
        (card, owner, round(score / count, 2) if count else 0.0)
        for (card, owner), (count, score) in sums.items()
    )


def kpi_counts(items: Iterable[Mapping[str, Any]]) -> list[tuple[str, str, int]]:
    """``(category, status, count)`` for every documented category and status, zeros included."""
    counts: Counter[tuple[str, str]] = Counter(
        {(category, status): 0 for category in KPI_CATEGORIES for status in STATUSES}
    )
    for item in items:
        counts[
            (known_label(str(item["category"]), KPI_CATEGORIES), known_label(item["status"], STATUSES))
        ] += 1
    return sorted((category, status, n) for (category, status), n in counts.items())


def team_kpi_counts(items: Sequence[Mapping[str, Any]]) -> list[tuple[str, str, str, int]]:
    """``(owner, category, status, count)``: how each team does on each category. The ``MAX_OWNERS``
    teams with the most KPIs are named, the rest are added together as ``other`` and products without
    a team owner are ``none``; categories and statuses are bounded as in ``kpi_counts``. Every named
    owner has every category and status (zeros included), so a team's missed KPIs can go to zero."""
    named = top_owners((str(item.get("owner") or ""), 1) for item in items)
    counts: Counter[tuple[str, str, str]] = Counter()
    for item in items:
        owner = owner_label(item.get("owner"), named)
        counts[
            (owner, known_label(str(item["category"]), KPI_CATEGORIES), known_label(item["status"], STATUSES))
        ] += 1
    for owner in {owner for owner, _category, _status in counts}:
        for category in KPI_CATEGORIES:
            for status in STATUSES:
                counts[(owner, category, status)] += 0
    return sorted((owner, category, status, n) for (owner, category, status), n in counts.items())


def kpi_ratios(items: Iterable[Mapping[str, Any]]) -> list[tuple[str, str, str, str, float]]:
    """``(entity, kpi, tier, direction, value / target)`` of tier-1 and tier-2 products' KPIs with a
    value, bounded. Tier and direction are functions of the entity and the KPI, so they add no series;
    they let an alert tell a missed KPI (below 1 when at-least, above 1 when at-most) by the ratio."""
    chosen = sorted(
        (item for item in items if item.get("tier") in RATIO_TIERS and item.get("ratio") is not None),
        key=lambda item: (item["tier"], item["entityRef"], item["id"]),
    )
    return [
        (item["entityRef"], item["id"], str(item["tier"]), str(item["direction"]), float(item["ratio"]))
        for item in chosen[:MAX_KPI_RATIOS]
    ]
