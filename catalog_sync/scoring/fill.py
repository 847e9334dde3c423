"""Filling a ``CatalogView`` from the store: what the view lacks, asked for in bulk.

The view says what evaluation needs (``Need``); this module works out which of it the view does not
hold yet and asks the ``ScoringStore`` for exactly that, a few ``IN (...)`` queries per round however
many entities are pending. The store answers for keys and ids; the view's bookkeeping (what is
loaded, what is absent) stays here, on scoring's side.
"""

from __future__ import annotations

from collections.abc import Sequence

from catalog_sync.scoring.view import ALL_TYPES, CatalogView, Need
from catalog_sync.store.base import Transaction
from catalog_sync.store.scoring.protocols import ScoringStore


def fill(store: ScoringStore, tx: Transaction, view: CatalogView, need: Need) -> None:
    """Load everything ``need`` names that the view does not hold yet."""
    edges = sorted(pair for pair in need.edges if not view.has_edges(*pair))
    with_body = {key for key in need.bodies if not view.has_body(key)}
    light = ({*need.metas, *(key for key, _ in edges)} - with_body) - view.metas.keys() - view.absent
    _load_entities(store, tx, view, sorted(light), body=False)
    _load_entities(store, tx, view, sorted(with_body), body=True)
    _load_edges(store, tx, view, edges)
    facts = sorted(r for r in need.repositories if r not in view.repositories)
    if facts:
        view.repositories.update(store.load_facts(tx, facts))
    kpis = sorted(k for k in need.kpis if k not in view.kpi_values)
    if kpis:
        view.kpi_values.update(store.load_kpi_values(tx, kpis))
    parts = sorted(k for k in need.parts if k not in view.parts)
    if parts:
        serving, groups = store.load_parts(tx, parts)
        view.add_parts(parts, serving, groups)


def load_subjects(store: ScoringStore, tx: Transaction, view: CatalogView, ids: Sequence[int]) -> list[str]:
    """Load the entities to score (light part and body) by id; answer their keys in order."""
    keys: list[str] = []
    for meta, body in store.load_subjects(tx, ids):
        view.add_meta(meta, body)
        keys.append(meta.key)
    return keys


def _load_entities(
    store: ScoringStore, tx: Transaction, view: CatalogView, keys: list[str], *, body: bool
) -> None:
    if not keys:
        return
    found = set()
    for meta, loaded in store.load_entities(tx, keys, body=body):
        view.add_meta(meta, loaded)
        found.add(meta.key)
    view.mark_absent(k for k in keys if k not in found)


def _load_edges(
    store: ScoringStore, tx: Transaction, view: CatalogView, pairs: list[tuple[str, str]]
) -> None:
    by_type: dict[str, list[str]] = {}
    for key, relation_type in pairs:
        by_type.setdefault(relation_type, []).append(key)
    for relation_type, keys in by_type.items():
        wanted = sorted(set(keys))
        rows = store.load_edges(tx, wanted, None if relation_type == ALL_TYPES else relation_type)
        view.add_edges([(key, relation_type) for key in wanted], rows)
