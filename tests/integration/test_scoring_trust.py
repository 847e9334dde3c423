"""Only trusted sources define scorecards: a repository cannot take over an organisation-wide scorecard.

Real repositories, real passes and the API, on SQLite and PostgreSQL: a repository of an untrusted
source that describes its own ``product-readiness`` leaves the built-in one in force and shows the
refusal as its error; the same repository in a trusted source defines a scorecard that is scored.
"""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from catalog_sync.cli import build_app
from catalog_sync.store.tables import scorecards
from tests.fixtures.gitrepos import GitRepo
from tests.integration.conftest import Catalog, product_yaml
from tests.integration.scoring_org import ScoredCatalog

PAY = """\
apiVersion: catalog/v1
kind: Product
metadata: {name: pay}
spec:
  type: service
  lifecycle: production
  owner: payments
  capabilities: [checkout]
  outcomes: [Customers pay by card]
  support: {channel: "#payments"}
---
apiVersion: catalog/v1
kind: Team
metadata: {name: payments}
spec:
  members: [{name: ada, role: product-owner}]
---
apiVersion: catalog/v1
kind: Capability
metadata: {name: checkout}
"""
TAKEOVER = """\
apiVersion: catalog/v1
kind: Team
metadata: {name: platform}
---
apiVersion: catalog/v1
kind: Scorecard
metadata: {name: %s}
spec:
  appliesTo: [kind=product]
  levels: [bronze, silver]
  checks:
    - {id: exists, title: It exists, level: silver, rule: {field: metadata.name, exists: true}}
"""
REFUSED = (
    "kind Scorecard may be defined only in a trusted source (scorecards.trusted_sources); "
    "source 'platform' is not trusted"
)


def _catalog(catalog: Catalog, *, trusted: tuple[str, ...] = ()) -> Catalog:
    """The fleet plus a second source, ``platform``: one repository of its own."""
    catalog.config["sources"] = [
        *catalog.config["sources"],
        {"name": "platform", "type": "local", "path": "org"},
    ]
    catalog.config["scorecards"] = {"trusted_sources": list(trusted)}
    return catalog


def _origins(catalog: Catalog) -> dict[str, str]:
    with catalog.engine.connect() as conn:
        return dict(conn.execute(select(scorecards.c.name, scorecards.c.origin)).all())


def _repository(client: FlaskClient, name: str) -> dict[str, Any]:
    items = client.get("/api/repositories?limit=50").get_json()["items"]
    return next(item for item in items if item["name"] == name)


def test_an_untrusted_repository_cannot_replace_a_built_in_scorecard(catalog: Catalog) -> None:
    _catalog(catalog)
    org = ScoredCatalog(catalog)
    org.repo("pay").commit("pay", files={"catalog-info.yaml": PAY})
    org.sync()
    before = org.result("product-readiness", "product:default/pay")
    assert before["level"] == "bronze"

    GitRepo(catalog.root / "org").commit(
        "our own readiness", files={"catalog-info.yaml": TAKEOVER % "product-readiness"}
    )
    summary = org.sync()

    assert _origins(catalog) == {"product-readiness": "builtin", "service-basics": "builtin"}
    after = org.result("product-readiness", "product:default/pay")
    assert (after["level"], after["score"], set(after["checks"])) == (
        before["level"],
        before["score"],
        set(before["checks"]),
    )
    assert catalog.entity("scorecard:default/product-readiness") is None
    assert catalog.entity("team:default/platform") is not None  # the rest of the file is read as usual
    assert summary.descriptor_problems == 1
    client = build_app(catalog.settings, catalog.engine).test_client()
    repository = _repository(client, "org")
    assert repository["source"] == "platform"
    assert [(e["path"], e["line"], e["message"], e.get("entityRef")) for e in repository["errors"]] == [
        ("catalog-info.yaml", 5, REFUSED, "scorecard:default/product-readiness")
    ]


def test_a_trusted_repository_defines_a_scorecard_that_is_scored(catalog: Catalog) -> None:
    _catalog(catalog, trusted=("platform",))
    org = ScoredCatalog(catalog)
    org.repo("pay").commit("pay", files={"catalog-info.yaml": product_yaml("pay")})
    GitRepo(catalog.root / "org").commit("our own card", files={"catalog-info.yaml": TAKEOVER % "org-basics"})
    org.sync()

    assert _origins(catalog)["org-basics"] == "catalog"
    result = org.result("org-basics", "product:default/pay")
    assert (result["level"], result["score"]) == ("silver", 100.0)
    client = build_app(catalog.settings, catalog.engine).test_client()
    assert _repository(client, "org")["errors"] == []


def test_a_source_that_loses_its_trust_no_longer_scores_what_it_defined(catalog: Catalog) -> None:
    _catalog(catalog, trusted=("platform",))
    GitRepo(catalog.root / "org").commit("our own card", files={"catalog-info.yaml": TAKEOVER % "org-basics"})
    catalog.repo("pay", {"catalog-info.yaml": product_yaml("pay")})
    ScoredCatalog(catalog).sync()
    assert "org-basics" in _origins(catalog)

    catalog.config["scorecards"] = {"trusted_sources": []}
    org = ScoredCatalog(catalog)  # the same repositories, read by a service restarted without the trust
    org.sync()
    assert _origins(catalog) == {"product-readiness": "builtin", "service-basics": "builtin"}
    assert org.scored("org-basics") == set()


def test_a_source_given_trust_is_read_again_without_a_new_commit(catalog: Catalog) -> None:
    """The rules a repository is read by are the configuration's: trust granted at a restart applies
    at the next pass, not at the repository's next commit."""
    _catalog(catalog)
    GitRepo(catalog.root / "org").commit("our own card", files={"catalog-info.yaml": TAKEOVER % "org-basics"})
    catalog.repo("pay", {"catalog-info.yaml": product_yaml("pay")})
    ScoredCatalog(catalog).sync()
    client = build_app(catalog.settings, catalog.engine).test_client()
    assert [e["message"] for e in _repository(client, "org")["errors"]] == [REFUSED]

    catalog.config["scorecards"] = {"trusted_sources": ["platform"]}
    org = ScoredCatalog(catalog)  # restarted with the trust; the repository has not moved
    summary = org.sync()

    assert _repository(client, "org")["errors"] == []
    assert _origins(catalog)["org-basics"] == "catalog"
    assert org.result("org-basics", "product:default/pay")["level"] == "silver"
    assert summary.descriptor_problems == 0


def test_unchanged_rules_cost_no_second_read(catalog: Catalog) -> None:
    _catalog(catalog, trusted=("platform",))
    GitRepo(catalog.root / "org").commit("our own card", files={"catalog-info.yaml": TAKEOVER % "org-basics"})
    ScoredCatalog(catalog).sync()
    again = ScoredCatalog(catalog).sync()  # a restart with the same configuration
    assert again.unchanged == again.repositories


def test_a_widened_pattern_reads_files_already_committed(catalog: Catalog) -> None:
    """A file a new ``descriptors.patterns`` entry matches is read at the next pass, with no commit."""
    catalog.repo("pay", {"catalog-info.yaml": product_yaml("pay"), "more/svc.yaml": product_yaml("svc")})
    ScoredCatalog(catalog).sync()
    assert catalog.entity("product:default/svc") is None

    catalog.config["descriptors"] = {"patterns": ["catalog-info.yaml", "more/*.yaml"]}
    ScoredCatalog(catalog).sync()
    assert catalog.entity("product:default/svc") is not None
