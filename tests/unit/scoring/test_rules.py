"""Each rule form judged on hand-made contexts: pass or fail, the value shown, and the message."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from catalog_sync.scoring.definitions import CheckDef
from catalog_sync.scoring.plugins import CheckResult, PluginChecks
from catalog_sync.scoring.resolve import Context, Owner
from catalog_sync.scoring.rules import RuleEnv, evaluate_rule, lookup
from catalog_sync.scoring.view import Edge
from tests.unit.scoring.helpers import NOW, context, team

ENV = RuleEnv(NOW, ("product-owner", "developer", "operations"), PluginChecks({}), ("README.md", "docs/"))
SPEC = {
    "spec": {
        "tier": 2,
        "lifecycle": "production",
        "kpis": [{"name": "a", "category": "speed-to-market"}, {"name": "b", "category": "other"}],
        "support": {"email": "pay@acme.example"},
    },
    "metadata": {"name": "x", "annotations": {"backstage.io/techdocs-ref": "dir:."}},
}


def judge(form: str, rule: Any, ctx: Context | None = None) -> tuple[CheckResult, Any]:
    check = CheckDef("c", "C", "", "bronze", 1, 1.0, form, rule)
    return evaluate_rule(check, ctx or context(SPEC), ENV)


def test_lookup_follows_dots_list_items_and_keys_that_hold_dots() -> None:
    body = SPEC
    assert lookup(body, "spec.tier") == (True, 2)
    assert lookup(body, "spec.kpis[1].category") == (True, "other")
    assert lookup(body, "spec.kpis[5].category") == (False, None)
    assert lookup(body, "metadata.annotations.backstage.io/techdocs-ref") == (True, "dir:.")
    assert lookup(body, "spec.tier.deeper") == (False, None)
    assert lookup(body, "spec.owner") == (False, None)


@pytest.mark.parametrize(
    ("rule", "passed", "value", "message"),
    [
        ({"field": "spec.tier", "exists": True}, True, 2, "spec.tier is set"),
        ({"field": "spec.owner", "exists": True}, False, None, "spec.owner is not set"),
        ({"field": "spec.owner", "exists": False}, True, None, "spec.owner is not set"),
        (
            {"field": "spec.lifecycle", "equals": "production"},
            True,
            "production",
            "spec.lifecycle is 'production'",
        ),
        ({"field": "spec.tier", "equals": 2.0}, True, 2, "spec.tier is 2"),
        ({"field": "spec.tier", "equals": True}, False, 2, "spec.tier is 2, not True"),
        (
            {"field": "spec.lifecycle", "in": ["experimental", "deprecated"]},
            False,
            "production",
            "spec.lifecycle is 'production', not one of experimental, deprecated",
        ),
        (
            {"field": "spec.support.email", "matches": "@acme-retail\\.example$"},
            False,
            "pay@acme.example",
            "spec.support.email 'pay@acme.example' does not match '@acme-retail\\\\.example$'",
        ),
        ({"field": "spec.kpis", "minItems": 3}, False, 2, "spec.kpis has 2 items; at least 3 needed"),
        ({"field": "spec.kpis", "minItems": 2}, True, 2, "spec.kpis has 2 items (at least 2 needed)"),
        ({"field": "spec.runbooks", "minItems": 1}, False, 0, "spec.runbooks has 0 items; at least 1 needed"),
        ({"field": "spec.tier", "min": 1, "max": 1}, False, 2, "spec.tier is 2, above the maximum 1"),
        (
            {"field": "spec.lifecycle", "min": 1},
            False,
            "production",
            "spec.lifecycle is 'production', not a number (the minimum is 1)",
        ),
    ],
)
def test_field_rules(rule: dict[str, Any], passed: bool, value: Any, message: str) -> None:
    result, until = judge("field", rule)
    assert (result.passed, result.value, result.message) == (passed, value, message)
    assert until is None


def test_owner_rules_say_what_is_wrong_with_the_owner() -> None:
    cases = {
        Owner("team", "team:default/pay", "pay"): (True, "owned by team:default/pay"),
        Owner("missing"): (False, "no spec.owner: name the team responsible end to end"),
        Owner("individual", "user:default/ada", "user:ada"): (
            False,
            "owned by user:default/ada, a person: hand it to a team",
        ),
        Owner("unknown", "team:default/gone", "gone"): (
            False,
            "owner team:default/gone is not a Team or Group in the catalog",
        ),
    }
    for owner, expected in cases.items():
        result, _ = judge("ownerResolves", True, context(owner=owner))
        assert (result.passed, result.message) == expected


def test_owner_team_roles_name_the_missing_ones() -> None:
    owner = Owner("team", "team:default/pay", "pay")
    staffed = context(owner=owner, team=team())
    result, _ = judge("ownerTeamHasRoles", True, staffed)
    assert (result.passed, result.value) == (True, [])
    short = context(owner=owner, team=team(roles={"developer": 2}))
    result, _ = judge("ownerTeamHasRoles", ["product-owner", "developer", "security"], short)
    assert (result.passed, result.value) == (False, ["product-owner", "security"])
    assert result.message.startswith("team:default/pay has no product-owner, security")
    group = context(owner=Owner("team", "group:default/web", "web"), team=team("group:default/web", roles={}))
    result, _ = judge("ownerTeamHasRoles", True, group)
    assert result.message == (
        "group:default/web is a Backstage Group: its members carry no roles "
        "(needed: product-owner, developer, operations)"
    )
    nobody, _ = judge("ownerTeamHasRoles", True, context(owner=Owner("missing")))
    assert (nobody.passed, nobody.value) == (False, ["product-owner", "developer", "operations"])


def test_owner_team_size_and_capabilities_and_relations() -> None:
    owner = Owner("team", "team:default/pay", "pay")
    result, _ = judge("ownerTeamMinMembers", 4, context(owner=owner, team=team(members=3)))
    assert (result.passed, result.value, result.message) == (
        False,
        3,
        "team:default/pay has 3 members (at least 4 needed)",
    )
    result, _ = judge("capabilityAligned", True, context(capabilities=["capability:default/pay"]))
    assert (result.passed, result.value, result.message) == (True, 1, "serves capability:default/pay")
    result, _ = judge("capabilityAligned", True, context(kind="component", capabilities=[]))
    assert result.message.endswith("set spec.system to a System whose spec.domain is a Domain of the catalog")
    edges = {
        "dependsOn": [Edge("dependsOn", "product:default/a", 1), Edge("dependsOn", "resource:default/db", 1)]
    }
    result, _ = judge("relation", {"type": "dependsOn", "targetKind": "Product"}, context(edges=edges))
    assert (result.passed, result.value) == (True, 1)
    result, _ = judge("relation", {"type": "dependsOn", "min": 3}, context(edges=edges))
    assert (result.passed, result.value, result.message) == (
        False,
        2,
        "2 dependsOn relations (at least 3 needed)",
    )


def test_repository_rules() -> None:
    facts = {
        "paths_present": {"README.md": False, "docs/": True},
        "last_commit_at": (NOW - timedelta(days=10, hours=1)).isoformat(),
    }
    result, _ = judge("repoFile", {"paths": ["README.md", "docs/"]}, context(facts=facts))
    assert (result.passed, result.value) == (True, "docs/")
    result, _ = judge("repoFile", {"paths": ["SECURITY.md", "README.md"]}, context(facts=facts))
    assert result.message == (
        "none of SECURITY.md, README.md is in the repository "
        "(only sync.fact_paths and the files directly inside their folders are looked for;"
        " add SECURITY.md there)"
    )
    # A file directly inside a listed folder is looked for: its absence is just that, with no hint.
    result, _ = judge("repoFile", {"paths": ["docs/index.md"]}, context(facts=facts))
    assert result.message == "none of docs/index.md is in the repository"
    result, until = judge("repoCommitWithinDays", 30, context(facts=facts))
    assert (result.passed, result.value, result.message) == (
        True,
        10,
        "the last commit was 10 days ago (at most 30)",
    )
    assert until == NOW - timedelta(days=10, hours=1) + timedelta(days=30)
    result, until = judge("repoCommitWithinDays", 7, context(facts=facts))
    assert (result.passed, until) == (False, None)


def test_descriptor_age() -> None:
    fresh = context(changed=NOW - timedelta(days=1))
    result, until = judge("descriptorUpdatedWithinDays", 180, fresh)
    assert (result.passed, result.value, until) == (True, 1, NOW - timedelta(days=1) + timedelta(days=180))
    unknown, _ = judge("descriptorUpdatedWithinDays", 180, context())
    assert (unknown.passed, unknown.message) == (False, "when the descriptor was last changed is unknown")


def test_unknown_plugin_fails_with_the_reason() -> None:
    result, until = judge("plugin", {"name": "nowhere"})
    assert result.passed is False
    assert "no check named 'nowhere'" in result.message
    assert until == NOW + timedelta(days=1)
