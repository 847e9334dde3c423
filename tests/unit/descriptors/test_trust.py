"""Kinds that act on the whole organisation are accepted only from trusted sources."""

from __future__ import annotations

from catalog_sync.descriptors.loader import LoadLimits
from catalog_sync.descriptors.trust import KindTrust
from catalog_sync.descriptors.validate import parse_file

FILE = b"""\
apiVersion: catalog/v1
kind: Team
metadata: {name: platform}
---
apiVersion: catalog/v1
kind: Scorecard
metadata: {name: product-readiness}
spec:
  appliesTo: [kind=product]
  levels: [gold]
  checks:
    - {id: x, title: X, level: gold, rule: {ownerResolves: true}}
"""


def test_a_scorecard_from_an_untrusted_source_becomes_an_error_on_its_document() -> None:
    parsed = parse_file("catalog-info.yaml", FILE, LoadLimits())
    refused = KindTrust.of(["platform"]).refuse_untrusted([parsed], "fleet")
    assert refused == 1
    team, card = parsed.documents
    assert team.entity is not None
    assert card.entity is None
    assert card.ref == "scorecard:default/product-readiness"
    assert [p.format() for p in card.problems] == [
        "catalog-info.yaml:5:1: error: kind Scorecard may be defined only in a trusted source "
        "(scorecards.trusted_sources); source 'fleet' is not trusted [scorecard:default/product-readiness]"
    ]


def test_a_trusted_source_keeps_its_scorecards() -> None:
    parsed = parse_file("catalog-info.yaml", FILE, LoadLimits())
    assert KindTrust.of(["platform"]).refuse_untrusted([parsed], "platform") == 0
    assert all(doc.entity is not None for doc in parsed.documents)
    assert not parsed.has_errors


def test_only_restricted_kinds_need_trust_and_an_entity_without_a_source_has_none() -> None:
    trust = KindTrust.of(["platform"])
    assert trust.refusal("Product", "fleet") is None
    assert trust.refusal("Scorecard", "platform") is None
    assert "an entity without a repository is not trusted" in (trust.refusal("Scorecard", None) or "")
