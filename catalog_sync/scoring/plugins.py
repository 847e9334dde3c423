"""Checks that Python packages add, registered under the entry point group ``catalog_sync.checks``.

A package declares, in its ``pyproject.toml``::

    [project.entry-points."catalog_sync.checks"]
    has-sbom = "acme_checks.sbom:check"

and a scorecard names it: ``rule: {plugin: {name: has-sbom, options: {format: cyclonedx}}}``. The
entry point is a callable ``check(subject: CheckSubject, options: Mapping) -> CheckResult`` (a bare
``bool`` is accepted too). It must not modify what it is given, and should be quick and free of I/O:
it runs once per entity per scorecard.

Whatever a plugin does, scoring goes on: a check that is not installed, that cannot be imported,
that raises or that answers something else than a result becomes a *failed* check whose message says
why, so the owners of the scorecard see it in the portal instead of a worker crashing.

Two checks ship with catalog-sync itself because the built-in scorecards need them and no field rule
can say them: ``kpi-categories`` (KPIs in at least ``min`` distinct categories, default 2) and
``automated-runbooks`` (at least ``min`` runbooks marked ``automated: true``, default 1). Their names
are reserved: an entry point of the same name is ignored.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import EntryPoint, entry_points
from typing import Any

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "catalog_sync.checks"


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: whether it passed, the value shown beside it, what to do about it."""

    passed: bool
    value: Any = None
    message: str = ""


@dataclass(frozen=True)
class CheckSubject:
    """What a plugin check sees of one entity.

    ``entity`` is the envelope as stored; ``owner`` the resolved owner ref (None when there is none);
    ``repository`` the facts of the entity's repository (``paths_present``, ``last_commit_at``,
    ``commits_30d``, ...), None when it has none; ``now`` the evaluation time.
    """

    entity: Mapping[str, Any]
    ref: str
    owner: str | None
    repository: Mapping[str, Any] | None
    now: datetime


PluginCheck = Callable[[CheckSubject, Mapping[str, Any]], Any]


def _min_option(options: Mapping[str, Any], default: int) -> int:
    value = options.get("min", default)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else default


def kpi_categories(subject: CheckSubject, options: Mapping[str, Any]) -> CheckResult:
    """KPIs in at least ``min`` categories: a product measured one way only is not steered."""
    wanted = _min_option(options, 2)
    kpis = subject.entity.get("spec", {}).get("kpis")
    categories = sorted(
        {str(kpi.get("category")) for kpi in kpis if isinstance(kpi, Mapping) and kpi.get("category")}
        if isinstance(kpis, list)
        else set()
    )
    passed = len(categories) >= wanted
    named = ", ".join(categories) if categories else "none"
    verb = "meets" if passed else "is below"
    counted = f"{len(categories)} category" if len(categories) == 1 else f"{len(categories)} categories"
    message = f"KPIs in {counted} ({named}); {verb} the {wanted} needed"
    if not passed:
        message += (
            ": add KPIs for speed-to-market, customer-satisfaction, business-alignment or team-performance"
        )
    return CheckResult(passed, len(categories), message)


def automated_runbooks(subject: CheckSubject, options: Mapping[str, Any]) -> CheckResult:
    """At least ``min`` automated runbooks: a productized runbook is an operating procedure made a service."""
    wanted = _min_option(options, 1)
    runbooks = subject.entity.get("spec", {}).get("runbooks")
    items = [r for r in runbooks if isinstance(r, Mapping)] if isinstance(runbooks, list) else []
    automated = sum(1 for r in items if r.get("automated") is True)
    passed = automated >= wanted
    message = f"{automated} of {len(items)} runbooks automated ({wanted} needed)"
    if not passed:
        message += "; automate the most frequent procedure and mark it automated: true"
    return CheckResult(passed, automated, message)


BUILTIN_CHECKS: dict[str, PluginCheck] = {
    "kpi-categories": kpi_categories,
    "automated-runbooks": automated_runbooks,
}


def installed_entry_points() -> dict[str, EntryPoint]:
    """The entry points of ``catalog_sync.checks`` visible now, the first of a name winning."""
    found: dict[str, EntryPoint] = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name in BUILTIN_CHECKS:
            log.warning("entry point %s=%s ignored: the name is a built-in check", entry.name, entry.value)
            continue
        found.setdefault(entry.name, entry)
    return found


class PluginChecks:
    """Runs plugin checks by name, loading each entry point once and never letting one raise."""

    def __init__(self, entries: Mapping[str, EntryPoint] | None = None) -> None:
        self.entries = dict(installed_entry_points() if entries is None else entries)
        self._loaded: dict[str, PluginCheck | str] = {}

    def fingerprint(self) -> str:
        """The names and targets of the installed checks, so installing one triggers a full re-score."""
        return ",".join(f"{name}={entry.value}" for name, entry in sorted(self.entries.items()))

    def _load(self, name: str) -> PluginCheck | str:
        """The callable, or the reason it cannot be used."""
        if name in self._loaded:
            return self._loaded[name]
        outcome: PluginCheck | str
        if name in BUILTIN_CHECKS:
            outcome = BUILTIN_CHECKS[name]
        elif name not in self.entries:
            outcome = (
                f"no check named {name!r} is registered under the entry point group {ENTRY_POINT_GROUP} "
                "(is its package installed where the sync workers run?)"
            )
        else:
            entry = self.entries[name]
            try:
                loaded = entry.load()
            except Exception as exc:  # a broken plugin must not stop scoring
                outcome = (
                    f"plugin check {name!r} ({entry.value}) cannot be loaded: {type(exc).__name__}: {exc}"
                )
            else:
                outcome = (
                    loaded if callable(loaded) else f"plugin check {name!r} ({entry.value}) is not callable"
                )
        if isinstance(outcome, str):
            log.warning("%s", outcome)
        self._loaded[name] = outcome
        return outcome

    def run(self, name: str, subject: CheckSubject, options: Mapping[str, Any]) -> CheckResult:
        """Run one check; any failure of the plugin itself becomes a failed check saying why."""
        check = self._load(name)
        if isinstance(check, str):
            return CheckResult(False, None, check)
        trusted = name in BUILTIN_CHECKS
        given = subject if trusted else _copied(subject)
        try:
            answer = check(given, dict(options) if not trusted else options)
        except Exception as exc:  # the plugin's bug is reported on the check, not raised
            return CheckResult(False, None, f"plugin check {name!r} failed: {type(exc).__name__}: {exc}")
        return _as_result(name, answer)


def _copied(subject: CheckSubject) -> CheckSubject:
    """A copy a plugin may modify without changing what other checks see."""
    return CheckSubject(
        copy.deepcopy(dict(subject.entity)),
        subject.ref,
        subject.owner,
        copy.deepcopy(dict(subject.repository)) if subject.repository is not None else None,
        subject.now,
    )


def _as_result(name: str, answer: Any) -> CheckResult:
    if isinstance(answer, CheckResult):
        return answer
    if isinstance(answer, bool):
        return CheckResult(answer, answer, "passed" if answer else "failed")
    if isinstance(answer, Mapping) and isinstance(answer.get("passed"), bool):
        return CheckResult(answer["passed"], answer.get("value"), str(answer.get("message") or ""))
    shown = type(answer).__name__
    return CheckResult(
        False, None, f"plugin check {name!r} answered a {shown}, not a CheckResult (passed, value, message)"
    )
