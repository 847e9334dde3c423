"""Running plugin checks: the built-in ones, and everything a plugin may do wrong."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from typing import Any

from catalog_sync.scoring.plugins import CheckResult, CheckSubject, PluginChecks
from tests.unit.scoring.helpers import NOW


def subject(spec: dict[str, Any]) -> CheckSubject:
    return CheckSubject(
        {"kind": "Product", "metadata": {"name": "x"}, "spec": spec}, "product:default/x", None, None, NOW
    )


def test_kpi_categories_counts_distinct_categories() -> None:
    kpis = [{"category": "speed-to-market"}, {"category": "speed-to-market"}, {"category": "other"}]
    result = PluginChecks({}).run("kpi-categories", subject({"kpis": kpis}), {"min": 3})
    assert result == CheckResult(
        False,
        2,
        "KPIs in 2 categories (other, speed-to-market); is below the 3 needed: add KPIs for speed-to-market, "
        "customer-satisfaction, business-alignment or team-performance",
    )


def test_automated_runbooks_counts_only_automated_ones() -> None:
    runbooks = [{"automated": True}, {"automated": False}, {"automated": "yes"}]
    result = PluginChecks({}).run("automated-runbooks", subject({"runbooks": runbooks}), {})
    assert (result.passed, result.value, result.message) == (True, 1, "1 of 3 runbooks automated (1 needed)")


def answering(value: Any) -> Any:
    return lambda subject, options: value


def test_what_a_plugin_answers_becomes_a_result(monkeypatch: Any) -> None:
    checks = PluginChecks({"p": EntryPoint("p", "m:f", "catalog_sync.checks")})
    for answer, expected in [
        (True, CheckResult(True, True, "passed")),
        ({"passed": False, "value": 3, "message": "three"}, CheckResult(False, 3, "three")),
        (CheckResult(True, 1, "one"), CheckResult(True, 1, "one")),
        (
            "yes",
            CheckResult(
                False, None, "plugin check 'p' answered a str, not a CheckResult (passed, value, message)"
            ),
        ),
    ]:
        checks._loaded["p"] = answering(answer)
        assert checks.run("p", subject({}), {}) == expected


def test_a_plugin_cannot_change_what_other_checks_see() -> None:
    def meddle(seen: CheckSubject, options: dict[str, Any]) -> bool:
        seen.entity["spec"]["owner"] = "someone"
        options["x"] = 1
        return True

    checks = PluginChecks({})
    checks._loaded["meddle"] = meddle  # type: ignore[assignment]  # a plugin breaking the read-only contract
    given = subject({})
    options: dict[str, Any] = {}
    assert checks.run("meddle", given, options).passed
    assert given.entity["spec"] == {}
    assert options == {}


def test_an_entry_point_that_is_not_callable_is_a_failed_check() -> None:
    checks = PluginChecks({"v": EntryPoint("v", "catalog_sync.scoring.plugins:ENTRY_POINT_GROUP", "g")})
    result = checks.run("v", subject({}), {})
    assert result.passed is False
    assert result.message.endswith("is not callable")
