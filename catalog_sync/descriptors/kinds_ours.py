"""The spec of our own kinds (the IT product model): Product, Team and Capability.

Strict on purpose: these kinds are ours, so an unknown key is a typo we can point at, not another
tool's extension we must carry.
"""

from __future__ import annotations

from typing import Any

from marshmallow import validates_schema

from catalog_sync.descriptors.exemptions import exemptions_field
from catalog_sync.descriptors.fields import (
    Flag,
    Ref,
    Strict,
    Text,
    Whole,
    free_text,
    in_range,
    nested,
    one_of,
    refs,
    text,
    words,
)
from catalog_sync.descriptors.kpis import Kpi, check_unique_ids

LIFECYCLES = ("experimental", "production", "deprecated", "retired")
SEVERITIES = ("low", "medium", "high", "critical")


class Runbook(Strict):
    """An operating procedure; ``automated`` marks a productized runbook (a self-service)."""

    title = text(required=True, description="what the procedure does")
    url = text(required=True, description="where it is written down or run")
    automated = Flag(
        required=True, metadata={"description": "true when it runs without a person (productized)"}
    )


class Support(Strict):
    """How to reach the owning team."""

    oncall = text(description="the on-call rotation or pager")
    channel = text(description="the chat channel")
    email = text(description="the team's address")


class TechDebt(Strict):
    """A known shortcoming the team means to fix."""

    title = text(required=True, description="what is wrong")
    severity = Text(required=True, validate=[one_of(SEVERITIES)], metadata={"description": "how bad it is"})
    url = text(description="the issue that tracks it")


class ProductSpec(Strict):
    """An enduring IT product or productized service, owned end to end by one team."""

    type = text(
        required=True,
        description="service, website, library, data-product, platform, automation, or another word",
    )
    lifecycle = Text(
        required=True,
        validate=[one_of(LIFECYCLES)],
        metadata={"description": "where the product is in its life"},
    )
    owner = Ref("team", metadata={"description": "the one team responsible end to end (team ref)"})
    tier = Whole(
        validate=[in_range(1, 4)], metadata={"description": "business criticality, 1 = most critical"}
    )
    capabilities = refs("capability", description="business capabilities it serves (capability refs)")
    depends_on = refs("product", data_key="dependsOn", description="products or components it needs")
    outcomes = words(description="business outcomes it is aligned with")
    kpis = nested(Kpi, many=True, description="how the product is measured")
    runbooks = nested(Runbook, many=True, description="operating procedures")
    support = nested(Support, description="how to reach the owners")
    tech_debt = nested(TechDebt, many=True, data_key="techDebt", description="known shortcomings")
    exemptions = exemptions_field()

    @validates_schema
    def _check_kpi_ids(self, data: dict[str, Any], **_: Any) -> None:
        check_unique_ids(data.get("kpis") or [])


class Member(Strict):
    """One person of a team and the role they play in it."""

    name = text(required=True, description="the person's user name (a user entity's name)")
    role = text(
        required=True, description="product-owner, product-manager, developer, tester, operations, ..."
    )


class Contact(Strict):
    """How to reach a team."""

    email = text(description="the team's address")
    channel = text(description="the chat channel")


class TeamSpec(Strict):
    """A cross-functional team that owns products end to end."""

    display_name = free_text(data_key="displayName", description="the team's name as people say it")
    parent = Ref("team", metadata={"description": "the team this one belongs to (team ref)"})
    members = nested(Member, many=True, description="the people of the team and their roles")
    contact = nested(Contact, description="how to reach the team")
    exemptions = exemptions_field()


class CapabilitySpec(Strict):
    """A business capability that products serve."""

    parent = Ref("capability", metadata={"description": "the wider capability (capability ref)"})
    owner = Ref("team", metadata={"description": "the business owner (team ref)"})
    outcomes = words(description="business outcomes the capability delivers")
    exemptions = exemptions_field()
