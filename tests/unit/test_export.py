"""The Backstage export: each mapping rule as a Backstage user would see it in the exported YAML."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, insert

from catalog_sync.export import dump_yaml, export_backstage, iter_backstage, to_backstage
from catalog_sync.export_mapping import is_valid_key, user_name
from catalog_sync.model import is_valid_name
from catalog_sync.store.base import Database
from catalog_sync.store.catalog_store import SqlCatalogReads
from catalog_sync.store.tables import entities

LOCATION = "url:https://git.example.com/acme/shop/blob/main/catalog-info.yaml"


def ours(kind: str, name: str, spec: dict[str, Any] | None = None, **meta: Any) -> dict[str, Any]:
    """An envelope of one of our kinds, as the store keeps it."""
    metadata_ = {"name": name, "namespace": "default", **meta}
    return {"apiVersion": "catalog/v1", "kind": kind, "metadata": metadata_, "spec": dict(spec or {})}


def backstage(kind: str, name: str, spec: dict[str, Any] | None = None, **meta: Any) -> dict[str, Any]:
    """An envelope of a Backstage kind, as the store keeps it."""
    metadata_ = {"name": name, "namespace": "default", **meta}
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": kind,
        "metadata": metadata_,
        "spec": dict(spec or {}),
    }


def by_ref(exported: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Exported entities by ``kind:namespace/name``."""
    out: dict[str, dict[str, Any]] = {}
    for entity in exported:
        key = f"{entity['kind']}:{entity['metadata']['namespace']}/{entity['metadata']['name']}"
        assert key not in out, f"{key} exported twice"
        out[key] = entity
    return out


FULL_PRODUCT = ours(
    "Product",
    "payments-gateway",
    {
        "type": "service",
        "lifecycle": "retired",
        "owner": "payments-team",
        "tier": 1,
        "capabilities": ["payments", "domain:checkout"],
        "dependsOn": ["cart", "component:newsletter", "resource:payments-db"],
        "outcomes": ["Refunds within two days"],
        "kpis": [{"name": "Success rate", "category": "customer-satisfaction", "target": 98.5, "unit": "%"}],
        "runbooks": [
            {
                "title": "Fail over",
                "url": "https://git.example.com/acme/pay/runbooks/failover.md",
                "automated": False,
            },
            {"title": "Restart", "url": "./runbooks/restart.md", "automated": True},
        ],
        "support": {"oncall": "pay-primary", "channel": "#payments", "email": "pay@acme.example"},
        "techDebt": [{"title": "3DS1 fallback", "severity": "high"}],
    },
    title="Payments Gateway",
    tags=["payments", "pci"],
    labels={"cost-center": "cc-4200"},
    annotations={"github.com/project-slug": "acme/pay", "backstage.io/managed-by-location": LOCATION},
    links=[{"url": "https://grafana.example/d/pay", "title": "Dashboard"}, {"url": "#not-a-url"}],
)


def test_product_becomes_component_with_owner_refs_and_dependencies() -> None:
    component = by_ref(to_backstage([FULL_PRODUCT]))["Component:default/payments-gateway"]
    assert component["apiVersion"] == "backstage.io/v1alpha1"
    assert component["spec"] == {
        "type": "service",
        "lifecycle": "retired",
        "owner": "group:default/payments-team",
        "dependsOn": [
            "component:default/cart",
            "component:default/newsletter",
            "resource:default/payments-db",
        ],
    }
    assert component["metadata"]["title"] == "Payments Gateway"
    assert component["metadata"]["tags"] == ["payments", "pci"]
    assert component["metadata"]["labels"] == {"cost-center": "cc-4200"}


def test_product_fields_backstage_lacks_are_kept_as_annotations() -> None:
    annotations = to_backstage([FULL_PRODUCT])[0]["metadata"]["annotations"]
    spec = FULL_PRODUCT["spec"]
    assert annotations["catalog-sync.io/kind"] == "Product"
    assert annotations["catalog-sync.io/tier"] == "1"
    assert annotations["catalog-sync.io/capabilities"] == "domain:default/payments,domain:default/checkout"
    assert json.loads(annotations["catalog-sync.io/outcomes"]) == spec["outcomes"]
    assert json.loads(annotations["catalog-sync.io/kpis"]) == spec["kpis"]
    assert json.loads(annotations["catalog-sync.io/runbooks"]) == spec["runbooks"]
    assert json.loads(annotations["catalog-sync.io/support"]) == spec["support"]
    assert json.loads(annotations["catalog-sync.io/tech-debt"]) == spec["techDebt"]
    assert annotations["github.com/project-slug"] == "acme/pay"
    assert annotations["backstage.io/managed-by-location"] == LOCATION


def test_runbooks_and_support_become_links_only_when_they_are_urls() -> None:
    links = to_backstage([FULL_PRODUCT])[0]["metadata"]["links"]
    assert [(link["url"], link.get("type")) for link in links] == [
        ("https://grafana.example/d/pay", None),
        ("https://git.example.com/acme/pay/runbooks/failover.md", "runbook"),
        ("mailto:pay@acme.example", "email"),
    ]
    chat = ours(
        "Product",
        "p",
        {
            "type": "service",
            "lifecycle": "production",
            "owner": "t",
            "support": {"channel": "https://chat.example.com/c/pay"},
        },
    )
    assert to_backstage([chat])[0]["metadata"]["links"] == [
        {
            "url": "https://chat.example.com/c/pay",
            "title": "Chat with the owners",
            "type": "chat",
            "icon": "chat",
        }
    ]


def test_unowned_product_is_owned_by_one_visible_placeholder_group() -> None:
    orphaned_owner = [
        ours("Product", "chatbot", {"type": "service", "lifecycle": "experimental"}),
        ours("Product", "reports", {"type": "website", "lifecycle": "production"}),
    ]
    exported = by_ref(to_backstage(orphaned_owner))
    assert exported["Component:default/chatbot"]["spec"]["owner"] == "group:default/unowned"
    assert exported["Component:default/reports"]["spec"]["owner"] == "group:default/unowned"
    placeholder = exported["Group:default/unowned"]
    assert placeholder["spec"] == {"type": "placeholder", "children": []}
    assert "no owner" in placeholder["metadata"]["description"]


def test_no_placeholder_when_everything_has_an_owner() -> None:
    owned = ours("Product", "shop", {"type": "website", "lifecycle": "production", "owner": "web"})
    assert [e["kind"] for e in to_backstage([owned])] == ["Component"]


def test_a_real_team_named_unowned_is_not_duplicated_by_the_placeholder() -> None:
    exported = to_backstage(
        [
            ours("Team", "unowned", {}),
            ours("Product", "chatbot", {"type": "service", "lifecycle": "production"}),
        ]
    )
    groups = [e for e in exported if e["kind"] == "Group"]
    assert len(groups) == 1
    assert groups[0]["spec"]["type"] == "team"


def test_unknown_and_individual_owners_are_kept_as_written() -> None:
    exported = by_ref(
        to_backstage(
            [
                ours(
                    "Product",
                    "pricing",
                    {"type": "service", "lifecycle": "production", "owner": "team-that-left"},
                ),
                ours(
                    "Product", "pages", {"type": "website", "lifecycle": "production", "owner": "user:lena"}
                ),
            ]
        )
    )
    assert exported["Component:default/pricing"]["spec"]["owner"] == "group:default/team-that-left"
    assert exported["Component:default/pages"]["spec"]["owner"] == "user:default/lena"
    assert "Group:default/unowned" not in exported


TEAMS = [
    ours("Team", "tribe", {"displayName": "Commerce Tribe", "contact": {"email": "tribe@acme.example"}}),
    ours(
        "Team",
        "checkout",
        {
            "displayName": "Checkout Squad",
            "parent": "tribe",
            "members": [
                {"name": "amara.okafor", "role": "product-owner"},
                {"name": "Ana María", "role": "developer"},
                {"name": "lena", "role": "developer"},
            ],
            "contact": {"channel": "#checkout"},
        },
    ),
    ours(
        "Team",
        "payments",
        {"parent": "team:tribe", "members": [{"name": "amara.okafor", "role": "developer"}]},
    ),
    backstage("User", "lena", {"profile": {"displayName": "Lena Fischer"}, "memberOf": ["marketing"]}),
]


def test_team_becomes_group_with_parent_children_members_and_roles() -> None:
    exported = by_ref(to_backstage(TEAMS))
    tribe, checkout = exported["Group:default/tribe"], exported["Group:default/checkout"]
    assert tribe["spec"] == {
        "type": "team",
        "profile": {"displayName": "Commerce Tribe", "email": "tribe@acme.example"},
        "children": ["group:default/checkout", "group:default/payments"],
    }
    assert checkout["spec"]["parent"] == "group:default/tribe"
    assert checkout["spec"]["children"] == []
    assert checkout["spec"]["members"] == [
        "user:default/amara.okafor",
        "user:default/ana-maria",
        "user:default/lena",
    ]
    assert json.loads(checkout["metadata"]["annotations"]["catalog-sync.io/roles"]) == {
        "product-owner": ["amara.okafor"],
        "developer": ["ana-maria", "lena"],
    }
    assert json.loads(checkout["metadata"]["annotations"]["catalog-sync.io/contact"]) == {
        "channel": "#checkout"
    }


def test_each_member_is_one_user_in_every_team_they_belong_to() -> None:
    exported = by_ref(to_backstage(TEAMS))
    amara = exported["User:default/amara.okafor"]
    assert amara["spec"]["memberOf"] == ["group:default/checkout", "group:default/payments"]
    assert amara["spec"]["profile"] == {"displayName": "amara.okafor"}
    ana = exported["User:default/ana-maria"]
    assert ana["spec"]["profile"] == {"displayName": "Ana María"}
    assert ana["metadata"]["annotations"]["catalog-sync.io/member-name"] == "Ana María"
    lena = exported["User:default/lena"]
    assert lena["spec"]["profile"] == {"displayName": "Lena Fischer"}
    assert lena["spec"]["memberOf"] == ["group:default/marketing", "group:default/checkout"]
    assert sum(1 for e in exported.values() if e["kind"] == "User") == 3


def test_team_without_members_is_a_group_without_members() -> None:
    group = to_backstage([ours("Team", "lonely", {})])[0]
    assert group["spec"] == {"type": "team", "children": []}
    assert "catalog-sync.io/roles" not in group["metadata"].get("annotations", {})


def test_capability_without_owner_becomes_domain_owned_by_placeholder() -> None:
    exported = by_ref(
        to_backstage(
            [
                ours(
                    "Capability",
                    "loyalty",
                    {"parent": "commerce", "outcomes": ["Repeat customers place 30%"]},
                )
            ]
        )
    )
    domain = exported["Domain:default/loyalty"]
    assert domain["spec"] == {
        "owner": "group:default/unowned",
        "type": "capability",
        "subdomainOf": "domain:default/commerce",
    }
    assert json.loads(domain["metadata"]["annotations"]["catalog-sync.io/outcomes"]) == [
        "Repeat customers place 30%"
    ]
    assert "Group:default/unowned" in exported


def test_backstage_component_passes_through_without_server_fields() -> None:
    stored = backstage(
        "Component",
        "newsletter",
        {
            "type": "service",
            "lifecycle": "production",
            "owner": "marketing",
            "system": "mkt",
            "providesApis": ["newsletter-api"],
            "dependsOn": ["resource:db", "product:cart"],
        },
        uid="8f1c2b8e-0000-4000-8000-000000000000",
        etag="abc",
        annotations={"backstage.io/techdocs-ref": "dir:.", "backstage.io/managed-by-location": LOCATION},
    )
    stored["apiVersion"] = "backstage.io/v1beta1"
    stored["relations"] = [{"type": "ownedBy", "targetRef": "group:default/marketing"}]
    stored["status"] = {"items": []}
    component = to_backstage([stored])[0]
    assert set(component) == {"apiVersion", "kind", "metadata", "spec"}
    assert component["apiVersion"] == "backstage.io/v1alpha1"
    assert "uid" not in component["metadata"]
    assert "etag" not in component["metadata"]
    assert component["metadata"]["annotations"]["backstage.io/techdocs-ref"] == "dir:."
    assert component["spec"] == {
        "type": "service",
        "lifecycle": "production",
        "owner": "group:default/marketing",
        "system": "system:default/mkt",
        "providesApis": ["api:default/newsletter-api"],
        "dependsOn": ["resource:default/db", "component:default/cart"],
    }


def test_backstage_kinds_without_owner_get_the_placeholder() -> None:
    exported = by_ref(
        to_backstage(
            [
                backstage("Component", "c", {"type": "service", "lifecycle": "production"}),
                backstage("System", "s", {}),
                backstage("Resource", "r", {"type": "database"}),
            ]
        )
    )
    for key in ("Component:default/c", "System:default/s", "Resource:default/r"):
        assert exported[key]["spec"]["owner"] == "group:default/unowned"
    assert exported["Group:default/unowned"]["spec"]["type"] == "placeholder"


def test_relative_api_definition_placeholder_points_at_the_descriptors_repository() -> None:
    api = backstage(
        "API",
        "orders-api",
        {
            "type": "openapi",
            "lifecycle": "production",
            "owner": "team-a",
            "definition": {"$text": "./openapi.yaml"},
        },
        annotations={"backstage.io/managed-by-location": LOCATION},
    )
    exported = to_backstage([api])[0]
    assert exported["spec"]["definition"] == {
        "$text": "https://git.example.com/acme/shop/blob/main/openapi.yaml"
    }


def test_names_are_refs_in_the_entitys_namespace() -> None:
    product = ours(
        "Product",
        "basket",
        {
            "type": "service",
            "lifecycle": "production",
            "owner": "checkout",
            "dependsOn": ["prices", "default/cart"],
        },
        namespace="shop",
    )
    component = to_backstage([product])[0]
    assert component["metadata"]["namespace"] == "shop"
    assert component["spec"]["owner"] == "group:shop/checkout"
    assert component["spec"]["dependsOn"] == ["component:shop/prices", "component:default/cart"]


def test_locations_and_scorecards_are_not_exported_and_orphans_are() -> None:
    orphan = ours(
        "Product",
        "old",
        {"type": "service", "lifecycle": "deprecated", "owner": "t"},
        annotations={"backstage.io/orphan": "true"},
    )
    exported = to_backstage(
        [
            backstage("Location", "org", {"targets": ["./teams.yaml"]}),
            ours("Scorecard", "readiness", {"levels": ["bronze"], "checks": []}),
            orphan,
        ]
    )
    assert [e["kind"] for e in exported] == ["Component"]
    assert exported[0]["metadata"]["annotations"]["backstage.io/orphan"] == "true"


def test_backstage_entity_wins_over_our_entity_of_the_same_exported_name() -> None:
    exported = to_backstage(
        [
            ours("Product", "cart", {"type": "service", "lifecycle": "production", "owner": "t"}),
            backstage("Component", "cart", {"type": "library", "lifecycle": "production", "owner": "t"}),
            ours("Team", "web", {}),
            backstage("Group", "web", {"type": "department", "children": []}),
        ]
    )
    refs = sorted((e["kind"], e["metadata"]["name"], e["spec"]["type"]) for e in exported)
    assert refs == [("Component", "cart", "library"), ("Group", "web", "department")]


@pytest.mark.parametrize(
    ("member", "expected"),
    [
        ("Ana María", "ana-maria"),
        ("  Dr. Seán O'Neil ", "dr.-sean-o-neil"),
        ("_x_", "x"),
        ("Zoë.Müller@acme", "zoe.muller-acme"),
    ],
)
def test_member_names_become_valid_user_names(member: str, expected: str) -> None:
    assert user_name(member) == expected


def test_user_names_that_cannot_be_transliterated_are_still_valid_and_distinct() -> None:
    first, second = user_name("李雷"), user_name("韩梅梅")
    assert is_valid_name(first)
    assert is_valid_name(second)
    assert first != second
    assert is_valid_name(user_name("a" * 80 + " b"))


def test_every_exported_annotation_is_a_valid_key_with_a_string_value() -> None:
    tricky = ours(
        "Product",
        "tricky",
        {"type": "service", "lifecycle": "production", "tier": 2},
        annotations={"good.example.com/x": "y", "Bad Key": "z", "example.com/n": 5},
    )
    exported = to_backstage([FULL_PRODUCT, *TEAMS, tricky])
    for entity in exported:
        for key, value in (entity["metadata"].get("annotations") or {}).items():
            assert is_valid_key(key), key
            assert isinstance(value, str), (key, value)
    annotations = by_ref(exported)["Component:default/tricky"]["metadata"]["annotations"]
    assert "Bad Key" not in annotations
    assert annotations["example.com/n"] == "5"


def test_yaml_is_multi_document_and_quotes_what_yaml_1_2_would_read_as_numbers() -> None:
    docs = [
        {"metadata": {"name": "1e3", "annotations": {"a": "0o17", "b": "line 1\nline 2\n"}}},
        {"kind": "x"},
    ]
    text = dump_yaml(docs)
    assert text.count("\n---\n") == 1
    assert "'1e3'" in text
    assert "'0o17'" in text
    assert "b: |\n" in text
    assert list(yaml.safe_load_all(text)) == docs


@pytest.fixture
def engine(store_engine: Engine) -> Engine:
    """An empty catalog database, SQLite then PostgreSQL (where rows are read with a server-side cursor)."""
    return store_engine


def store(engine: Engine, body: dict[str, Any], *, orphaned: bool = False) -> None:
    """Insert one entity row as the reconcile writer lays it out."""
    meta = body["metadata"]
    now = datetime.now(UTC)
    kind = body["kind"].lower()
    with engine.begin() as connection:
        connection.execute(
            insert(entities).values(
                uid=str(uuid.uuid4()),
                ref_key=f"{kind}:{meta['namespace']}/{meta['name']}".lower(),
                kind=kind,
                namespace=meta["namespace"],
                name=meta["name"],
                body=json.dumps(body),
                content_hash="0" * 64,
                etag=uuid.uuid4().hex,
                orphaned_at=now if orphaned else None,
                created_at=now,
                updated_at=now,
            )
        )


def test_export_from_the_database_matches_the_mapping_and_marks_orphans(engine: Engine) -> None:
    bodies = [
        FULL_PRODUCT,
        *TEAMS,
        ours("Capability", "payments", {"owner": "tribe"}),
        ours("Product", "chatbot", {"type": "service", "lifecycle": "experimental"}),
        backstage("Location", "org", {"target": "./x.yaml"}),
    ]
    for body in bodies:
        store(engine, body)
    gone = ours("Product", "legacy", {"type": "service", "lifecycle": "deprecated", "owner": "tribe"})
    store(engine, gone, orphaned=True)

    text = _export(engine)
    exported = by_ref(list(yaml.safe_load_all(text)))
    expected = by_ref(
        to_backstage(
            [
                *bodies,
                {**gone, "metadata": {**gone["metadata"], "annotations": {"backstage.io/orphan": "true"}}},
            ]
        )
    )
    assert exported == expected
    assert exported["Component:default/legacy"]["metadata"]["annotations"]["backstage.io/orphan"] == "true"
    assert "Location:default/org" not in exported
    database = Database(engine)
    with database.reading() as tx:
        assert by_ref(list(iter_backstage(SqlCatalogReads(database), tx))) == expected


def test_export_of_an_empty_catalog_is_empty(engine: Engine) -> None:
    assert _export(engine) == ""


def _export(engine: Engine) -> str:
    database = Database(engine)
    with database.reading() as tx:
        return export_backstage(SqlCatalogReads(database), tx)
