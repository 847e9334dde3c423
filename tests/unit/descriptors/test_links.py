"""The refs a descriptor writes, found with their lines and the kinds they may mean, and the name
offered when one is not in the catalog."""

from __future__ import annotations

from catalog_sync.descriptors import LoadLimits, parse_file
from catalog_sync.descriptors.links import link_message, nearest

PRODUCT = """\
apiVersion: catalog/v1
kind: Product
metadata: {name: checkout, namespace: shop}
spec:
  type: service
  lifecycle: production
  owner: payments
  capabilities:
    - capability:default/payments
    - checkout
  dependsOn: [product:cart]
"""
GROUP = """\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: web}
spec: {type: team, children: [], members: [ann, user:default/bob], parent: org}
"""


def _links(text: str) -> list[tuple[str, tuple[str, ...], int | None, int | None]]:
    [document] = parse_file("f.yaml", text.encode(), LoadLimits()).documents
    return [(link.field, link.keys, link.line, link.column) for link in document.links]


def test_every_ref_field_is_found_at_its_line_with_the_kinds_it_may_mean() -> None:
    assert _links(PRODUCT) == [
        ("spec.owner", ("team:shop/payments", "group:shop/payments"), 7, 10),
        ("spec.capabilities[0]", ("capability:default/payments",), 9, 7),
        ("spec.capabilities[1]", ("capability:shop/checkout", "domain:shop/checkout"), 10, 7),
        ("spec.dependsOn[0]", ("product:shop/cart",), 11, 15),
    ]


def test_a_groups_parent_and_members_are_refs() -> None:
    assert [(field, keys) for field, keys, _, _ in _links(GROUP)] == [
        ("spec.parent", ("group:default/org", "team:default/org")),
        ("spec.members[0]", ("user:default/ann",)),
        ("spec.members[1]", ("user:default/bob",)),
    ]


def test_the_nearest_name_prefers_the_same_kind_and_gives_up_when_nothing_is_alike() -> None:
    candidates = ["team:default/payments-team", "group:default/payments-tem", "team:default/web"]
    assert nearest("team:default/payments-tem", candidates) == "team:default/payments-team"
    assert nearest("team:default/zzz", candidates) is None
    assert nearest("capability:default/payments-team", candidates) == "team:default/payments-team"


def test_the_message_names_both_kinds_and_the_suggestion() -> None:
    [document] = parse_file("f.yaml", PRODUCT.encode(), LoadLimits()).documents
    owner, capability = document.links[0], document.links[1]
    assert link_message(owner, "team:shop/payment") == (
        "team:shop/payments (nor group:shop/payments) is not in the catalog; did you mean team:shop/payment?"
    )
    assert link_message(capability, None) == "capability:default/payments is not in the catalog"
