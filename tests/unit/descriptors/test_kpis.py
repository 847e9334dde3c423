"""KPI declarations: ids derived from names, windows, and the kind of measure a KPI names."""

from __future__ import annotations

import pytest

from catalog_sync.descriptors.kpis import kpi_id, measure_kind, substitute_window, window_seconds


@pytest.mark.parametrize(
    ("kpi", "expected"),
    [
        ({"name": "Payment success rate"}, "payment-success-rate"),
        ({"name": "  Lead time (p50) -- days "}, "lead-time-p50-days"),
        ({"name": "Payment success rate", "id": "pay-ok"}, "pay-ok"),
        ({"name": "x" * 100}, "x" * 63),
        ({"name": "€ / €"}, ""),
    ],
)
def test_a_kpi_id_defaults_to_its_name_as_a_slug(kpi: dict[str, str], expected: str) -> None:
    assert kpi_id(kpi) == expected


@pytest.mark.parametrize(("window", "seconds"), [("30d", 2_592_000), ("90m", 5400), ("2w", 1_209_600)])
def test_a_window_is_read_in_seconds(window: str, seconds: int) -> None:
    assert window_seconds(window) == seconds


def test_a_kpi_without_measure_is_declared_and_each_form_names_its_kind() -> None:
    assert measure_kind({"name": "a"}) == "declared"
    assert measure_kind({"measure": {"git": "release-frequency"}}) == "git"
    assert measure_kind({"measure": {"prometheus": "up"}}) == "prometheus"
    assert measure_kind({"measure": {"push": True}}) == "push"


def test_every_window_placeholder_is_replaced() -> None:
    assert substitute_window("rate(a[$window]) / rate(b[$window])", "7d") == "rate(a[7d]) / rate(b[7d])"
