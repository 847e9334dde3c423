"""A sync process's collector: what exists at start-up is left alone, and garbage made later still goes."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from catalog_sync.sync.collector import THRESHOLDS, tune_collector


@pytest.fixture
def restored_collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


class Node:
    """One half of a reference cycle, which only the collector frees."""

    other: Node | None = None


def make_cycle() -> weakref.ref[Node]:
    first, second = Node(), Node()
    first.other, second.other = second, first
    return weakref.ref(first)


@pytest.mark.usefixtures("restored_collector")
def test_startup_objects_are_frozen_and_later_cycles_are_still_collected() -> None:
    before = make_cycle()
    tune_collector()
    assert before() is None, "garbage present at start-up was collected, not frozen for good"
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == THRESHOLDS
    later = make_cycle()
    assert later() is not None
    gc.collect()
    assert later() is None, "a cycle made after tuning was never collected"
