"""Checks added by a Python package through the entry point group ``catalog_sync.checks``.

The package is ``tests/fixtures/check_plugin`` (installable with pip). Rather than installing it into
the shared virtualenv, each test makes it visible the way an installed package is: its source folder
on ``sys.path`` and a ``*.dist-info`` folder holding its ``entry_points.txt`` (written from the
package's own ``pyproject.toml``) on ``sys.path`` too, which is all ``importlib.metadata`` reads.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from catalog_sync.scoring.plugins import ENTRY_POINT_GROUP, installed_entry_points
from tests.integration.conftest import Catalog, product_yaml
from tests.integration.scoring_org import ScoredCatalog, scorer_for

PLUGIN = Path(__file__).resolve().parents[1] / "fixtures" / "check_plugin"

SCORECARD = """\
apiVersion: catalog/v1
kind: Scorecard
metadata: {name: acme-extras}
spec:
  appliesTo: [kind=product]
  levels: [basic, complete]
  checks:
    - {id: cost-center, title: Has a cost center, level: basic, weight: 2,
       rule: {plugin: {name: has-label, options: {label: cost-center}}}}
    - {id: inventory, title: Registered in the inventory, level: complete,
       rule: {plugin: {name: flaky-service}}}
    - {id: moved, title: A check whose package moved, level: complete, rule: {plugin: {name: gone}}}
    - {id: nowhere, title: A check nobody installed, level: complete, rule: {plugin: {name: not-installed}}}
"""

LABELLED = product_yaml("billing").replace(
    "  name: billing\n", "  name: billing\n  labels: {cost-center: cc-4200}\n"
)


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The example check package, visible to ``importlib.metadata`` as if pip had installed it."""
    project = tomllib.loads((PLUGIN / "pyproject.toml").read_text())
    site = tmp_path / "site"
    info = site / "acme_checks-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-checks\nVersion: 0.1.0\n")
    points = project["project"]["entry-points"][ENTRY_POINT_GROUP]
    lines = [f"[{ENTRY_POINT_GROUP}]", *(f"{name} = {target}" for name, target in points.items())]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    monkeypatch.syspath_prepend(str(PLUGIN))
    monkeypatch.syspath_prepend(str(site))


def test_the_package_registers_its_checks(installed: None) -> None:
    found = installed_entry_points()
    assert {name: found[name].value for name in ("has-label", "flaky-service", "gone")} == {
        "has-label": "acme_checks:has_label",
        "flaky-service": "acme_checks:broken",
        "gone": "acme_checks.removed:check",
    }


def test_plugin_checks_are_evaluated_and_broken_ones_fail_with_the_reason(
    installed: None, make_catalog: Callable[..., Catalog]
) -> None:
    catalog = make_catalog(scorecards={"trusted_sources": ["fleet"]})
    catalog.repo("platform", {"scorecards/acme.yaml": SCORECARD, "catalog-info.yaml": _location()})
    catalog.repo("billing", {"catalog-info.yaml": LABELLED})
    catalog.repo("ledger", {"catalog-info.yaml": product_yaml("ledger")})
    org = ScoredCatalog(catalog, scorer_for(catalog))
    org.sync()
    billing = org.result("acme-extras", "product:default/billing")
    assert billing["checks"]["cost-center"] == {
        "id": "cost-center",
        "passed": True,
        "value": "cc-4200",
        "message": "label cost-center is 'cc-4200'",
    }
    inventory = billing["checks"]["inventory"]
    assert inventory["passed"] is False
    assert inventory["message"] == (
        "plugin check 'flaky-service' failed: ConnectionError: the inventory service did not answer"
    )
    assert billing["checks"]["moved"]["passed"] is False
    assert "cannot be loaded: ModuleNotFoundError" in billing["checks"]["moved"]["message"]
    assert billing["checks"]["nowhere"]["message"].startswith("no check named 'not-installed' is registered")
    assert (billing["level"], billing["score"]) == ("basic", 40.0)  # 2 of 5
    ledger = org.result("acme-extras", "product:default/ledger")
    assert ledger["checks"]["cost-center"]["passed"] is False
    assert ledger["checks"]["cost-center"]["message"] == "no label cost-center: add it to metadata.labels"
    assert (ledger["level"], ledger["score"]) == ("", 0.0)


def test_plugin_answers_are_refreshed_daily(installed: None, make_catalog: Callable[..., Catalog]) -> None:
    catalog = make_catalog(scorecards={"trusted_sources": ["fleet"]})
    catalog.repo("platform", {"scorecards/acme.yaml": SCORECARD, "catalog-info.yaml": _location()})
    catalog.repo("billing", {"catalog-info.yaml": LABELLED})
    org = ScoredCatalog(catalog)
    org.sync()
    first = org.result("acme-extras", "product:default/billing")["evaluated_at"]
    assert org.scorer.rescore([]).entities == 0
    catalog.clock.advance(days=1, seconds=1)
    summary = org.scorer.rescore([])
    assert (summary.full, summary.entities) == (False, 1)
    assert org.result("acme-extras", "product:default/billing")["evaluated_at"] > first


def _location() -> str:
    return (
        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: scorecards}\n"
        "spec: {targets: [./scorecards/acme.yaml]}\n"
    )
