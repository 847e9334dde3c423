"""Incremental re-scoring: each kind of change re-scores what depends on it, after one pass, and no more.

Small organisations of real repositories, each built to exercise one path by which a change reaches
an entity's result: a person joining or leaving a group, an entity deleted for good, a relation
added or removed by another product, a repository file, a scorecard edited or removed, settings.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from catalog_sync.scoring.definitions import ScorecardFiles
from catalog_sync.store.tables import scorecards
from tests.integration.conftest import Catalog, product_yaml
from tests.integration.scoring_org import ScoredCatalog, scorer_for

SIZE_CARD = """\
apiVersion: catalog/v1
kind: Scorecard
metadata: {name: basics}
spec:
  appliesTo: [kind=component, kind=product]
  levels: [ok]
  checks:
    - {id: people, title: Someone to call, level: ok, rule: {ownerTeamMinMembers: 1}}
    - {id: used, title: Used by another product, level: ok, rule: {relation: {type: dependencyOf, min: 1}}}
    - {id: readme, title: A README, level: ok, rule: {repoFile: {paths: [README.md]}}}
"""

WEB = """\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: web}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: shop}
spec: {type: website, lifecycle: production, owner: web}
"""

USER = """\
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: ada}
spec: {memberOf: [%s]}
"""

TEAM = """\
apiVersion: catalog/v1
kind: Team
metadata: {name: payments}
spec:
  members:
    - {name: ada, role: product-owner}
    - {name: grace, role: developer}
---
apiVersion: catalog/v1
kind: Capability
metadata: {name: checkout}
spec: {owner: payments}
"""


TRUSTED = {"trusted_sources": ["fleet"]}
"""The fleet's repositories may define scorecards (``scorecards.trusted_sources``)."""


def _scored(make_catalog: Callable[..., Catalog], **config: object) -> ScoredCatalog:
    catalog = make_catalog(scorecards=TRUSTED, **config)
    catalog.repo("platform", {"catalog-info.yaml": SIZE_CARD})
    return ScoredCatalog(catalog)


def test_people_joining_and_leaving_a_group_rescore_what_it_owns(
    make_catalog: Callable[..., Catalog],
) -> None:
    org = _scored(make_catalog)
    org.repo("web").commit("the web group", files={"catalog-info.yaml": WEB})
    org.sync()
    assert org.result("basics", "component:default/shop")["checks"]["people"]["value"] == 0
    assert ("team_without_members", "group:default/web") in org.gaps()
    people = org.repo("people")
    people.commit("ada joins web", files={"catalog-info.yaml": USER % "web"})
    org.sync()
    joined = org.result("basics", "component:default/shop")["checks"]["people"]
    assert (joined["passed"], joined["value"], joined["message"]) == (
        True,
        1,
        "group:default/web has 1 member (at least 1 needed)",
    )
    assert ("team_without_members", "group:default/web") not in org.gaps()
    people.commit("ada moves to mobile", files={"catalog-info.yaml": USER % "mobile"})
    org.sync()
    assert org.result("basics", "component:default/shop")["checks"]["people"]["value"] == 0
    assert ("team_without_members", "group:default/web") in org.gaps()


def test_a_deleted_owner_makes_its_products_unknown_owned(make_catalog: Callable[..., Catalog]) -> None:
    org = _scored(make_catalog, sync={"orphan_policy": "delete", "orphan_grace_seconds": 0})
    org.repo("org").commit("teams", files={"catalog-info.yaml": TEAM})
    org.repo("pay").commit("pay", files={"catalog-info.yaml": product_yaml("pay")})
    org.sync()
    assert org.gaps() == {("team_missing_roles", "team:default/payments")}
    only_capability = TEAM.split("---\n")[1]
    org.repo("org").commit("payments disbanded", files={"catalog-info.yaml": only_capability})
    org.sync()  # the team becomes an orphan and, with a grace of 0, is deleted in the same pass
    assert org.catalog.entity("team:default/payments") is None
    assert org.gaps() == {
        ("unknown_owner", "product:default/pay"),
        ("unknown_owner", "capability:default/checkout"),
    }
    people = org.result("basics", "product:default/pay")["checks"]["people"]
    assert people["message"] == "owner team:default/payments is not a Team or Group in the catalog"


def test_relations_other_products_write_rescore_the_product_they_point_at(
    make_catalog: Callable[..., Catalog],
) -> None:
    org = _scored(make_catalog)
    org.repo("pay").commit("pay", files={"catalog-info.yaml": product_yaml("pay")})
    shop = org.repo("shop")
    uses_pay = product_yaml("shop").replace("spec:\n", "spec:\n  dependsOn: [pay]\n")
    shop.commit("shop uses pay", files={"catalog-info.yaml": uses_pay})
    org.sync()
    assert org.result("basics", "product:default/pay")["checks"]["used"]["value"] == 1
    shop.commit("shop stops using pay", files={"catalog-info.yaml": product_yaml("shop")})
    org.sync()
    assert org.result("basics", "product:default/pay")["checks"]["used"]["value"] == 0
    assert org.scorer.last_summary is not None
    assert org.scorer.last_summary.entities <= 3  # shop, pay, and the team reading its own lists
    shop.commit("shop uses pay again", files={"catalog-info.yaml": uses_pay})
    org.sync()
    assert org.result("basics", "product:default/pay")["checks"]["used"]["passed"] is True


def test_a_file_added_to_a_repository_rescores_its_entities(make_catalog: Callable[..., Catalog]) -> None:
    org = _scored(make_catalog)
    pay = org.repo("pay")
    pay.commit("pay", files={"catalog-info.yaml": product_yaml("pay")})
    org.sync()
    readme = org.result("basics", "product:default/pay")["checks"]["readme"]
    assert (readme["passed"], readme["message"]) == (False, "none of README.md is in the repository")
    pay.commit("a README at last", files={"README.md": "# pay\n"})
    org.sync()
    readme = org.result("basics", "product:default/pay")["checks"]["readme"]
    assert (readme["passed"], readme["value"]) == (True, "README.md")


def test_editing_or_removing_a_scorecard_rescores_everything_it_applies_to(
    make_catalog: Callable[..., Catalog],
) -> None:
    org = _scored(make_catalog)
    org.repo("pay").commit("pay", files={"catalog-info.yaml": product_yaml("pay", lifecycle="deprecated")})
    org.sync()
    assert set(org.result("basics", "product:default/pay")["checks"]) == {"people", "used", "readme"}
    stricter = SIZE_CARD + (
        "    - {id: live, title: In production, level: ok,\n"
        "       rule: {field: spec.lifecycle, equals: production}}\n"
    )
    org.repo("platform").commit("a stricter scorecard", files={"catalog-info.yaml": stricter})
    org.sync()
    assert org.scorer.last_summary is not None
    assert org.scorer.last_summary.full
    live = org.result("basics", "product:default/pay")["checks"]["live"]
    assert (live["passed"], live["message"]) == (False, "spec.lifecycle is 'deprecated', not 'production'")
    platform = org.repo("platform")
    platform.delete("catalog-info.yaml")
    platform.commit("no more custom scorecard")
    org.sync()
    assert org.scored("basics") == set()
    with org.catalog.engine.connect() as conn:
        names = set(conn.execute(select(scorecards.c.name)).scalars())
    assert names == {"product-readiness", "service-basics"}


def test_configured_scorecards_and_roles(make_catalog: Callable[..., Catalog]) -> None:
    catalog = make_catalog(
        scorecards={"builtin": False, "paths": ["cards"]},
        ownership={"required_team_roles": ["developer"]},
    )
    cards = catalog.root / "cards"
    cards.mkdir()
    (cards / "basics.yaml").write_text(SIZE_CARD)
    org = ScoredCatalog(catalog)
    org.repo("org").commit("teams", files={"catalog-info.yaml": TEAM})
    org.repo("pay").commit("pay", files={"catalog-info.yaml": product_yaml("pay")})
    org.sync()
    with catalog.engine.connect() as conn:
        origins = dict(conn.execute(select(scorecards.c.name, scorecards.c.origin)).all())
    assert origins == {"basics": "file"}
    assert org.result("basics", "product:default/pay")["checks"]["people"]["value"] == 2
    assert org.gaps() == set()  # the team has a developer, the only role required here


def test_a_configured_scorecard_file_edited_between_passes_is_used_as_edited(
    make_catalog: Callable[..., Catalog],
) -> None:
    catalog = make_catalog(scorecards={"builtin": False, "paths": ["cards"]})
    cards = catalog.root / "cards"
    cards.mkdir()
    (cards / "basics.yaml").write_text(SIZE_CARD)
    org = ScoredCatalog(catalog, scorer_for(catalog, scorecard_files=ScorecardFiles()))
    org.repo("org").commit("teams", files={"catalog-info.yaml": TEAM})
    org.repo("pay").commit("pay", files={"catalog-info.yaml": product_yaml("pay")})
    org.sync()
    assert org.result("basics", "product:default/pay")["checks"]["people"]["passed"] is True
    org.sync()
    assert org.scorer.scorecard_files.parses == 1  # unchanged: not parsed again
    # The same length, written at once: only the file's bytes tell the edit apart.
    (cards / "basics.yaml").write_text(SIZE_CARD.replace("ownerTeamMinMembers: 1", "ownerTeamMinMembers: 3"))
    org.sync()
    assert org.result("basics", "product:default/pay")["checks"]["people"]["passed"] is False
    assert org.scorer.scorecard_files.parses == 2


def test_a_catalog_scorecard_replaces_a_built_in_one_of_the_same_name(
    make_catalog: Callable[..., Catalog],
) -> None:
    catalog = make_catalog(scorecards=TRUSTED)
    own = SIZE_CARD.replace("name: basics", "name: product-readiness")
    catalog.repo("platform", {"catalog-info.yaml": own})
    catalog.repo("pay", {"catalog-info.yaml": product_yaml("pay")})
    org = ScoredCatalog(catalog)
    org.sync()
    with catalog.engine.connect() as conn:
        origins = dict(conn.execute(select(scorecards.c.name, scorecards.c.origin)).all())
    assert origins == {"product-readiness": "catalog", "service-basics": "builtin"}
    assert set(org.result("product-readiness", "product:default/pay")["checks"]) == {
        "people",
        "used",
        "readme",
    }


def test_a_scorecard_selecting_by_relation_follows_relations_other_products_write(
    make_catalog: Callable[..., Catalog],
) -> None:
    catalog = make_catalog(scorecards=TRUSTED)
    used = SIZE_CARD.replace("name: basics", "name: shared").replace(
        "appliesTo: [kind=component, kind=product]", 'appliesTo: ["kind=product,relations.dependencyOf"]'
    )
    catalog.repo("platform", {"catalog-info.yaml": used})
    org = ScoredCatalog(catalog)
    org.repo("pay").commit("pay", files={"catalog-info.yaml": product_yaml("pay")})
    shop = org.repo("shop")
    shop.commit("shop", files={"catalog-info.yaml": product_yaml("shop")})
    org.sync()
    assert org.scored("shared") == set()
    uses_pay = product_yaml("shop").replace("spec:\n", "spec:\n  dependsOn: [pay]\n")
    shop.commit("shop uses pay", files={"catalog-info.yaml": uses_pay})
    org.sync()
    assert org.scored("shared") == {"product:default/pay"}
    shop.commit("shop stops using pay", files={"catalog-info.yaml": product_yaml("shop")})
    org.sync()
    assert org.scored("shared") == set()


def test_a_bare_owner_resolves_to_a_group_described_later(make_catalog: Callable[..., Catalog]) -> None:
    org = _scored(make_catalog)
    org.repo("pay").commit("pay", files={"catalog-info.yaml": product_yaml("pay", owner="web")})
    org.sync()  # written while no Team or Group "web" exists: its relation names team:default/web
    assert ("unknown_owner", "product:default/pay") in org.gaps()
    org.repo("web").commit("the web group", files={"catalog-info.yaml": WEB})
    org.sync()
    assert ("unknown_owner", "product:default/pay") not in org.gaps()
    people = org.result("basics", "product:default/pay")["checks"]["people"]
    assert people["message"] == "group:default/web has 0 members (at least 1 needed)"
