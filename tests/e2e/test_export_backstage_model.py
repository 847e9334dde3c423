"""The export of a realistic catalog, checked by Backstage's own ``@backstage/catalog-model``.

The example organisation (``descriptors/examples``, one folder per repository) is parsed as the sync
would parse it, stored, exported, and every exported document is read by Backstage's YAML parser,
envelope policies and kind validators in node. Hand-written hard cases add what the examples do not
show: names that must be made valid, collisions, placeholders, orphans and YAML 1.2 traps.
"""

from __future__ import annotations

import json
import posixpath
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, create_engine, insert

from catalog_sync.config import DescriptorSettings
from catalog_sync.descriptors import LoadLimits, location_targets, parse_file
from catalog_sync.descriptors.patterns import matches
from catalog_sync.export import export_backstage
from catalog_sync.model import Entity
from catalog_sync.reconcile import location_url, prepare_entity
from catalog_sync.store.base import Database
from catalog_sync.store.catalog_store import SqlCatalogReads
from catalog_sync.store.tables import entities, metadata
from tests.fixtures.required import node_packages

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = REPO_ROOT / "descriptors" / "examples"
CHECKER = Path(__file__).resolve().parent / "backstage_model"
PACKAGES = CHECKER.with_name("backstage") / "package.json"
GIT_HOST = "https://git.example.com/acme-retail"

HARD_CASES = """\
apiVersion: catalog/v1
kind: Team
metadata: {name: big-team, namespace: edge, title: Big team}
spec:
  displayName: Big team
  members:
    - {name: Ana María, role: product-owner}
    - {name: 李雷, role: developer}
    - {name: user:edge/ops.person, role: operations}
  contact: {email: big@edge.example, channel: "https://chat.edge.example/c/big"}
---
apiVersion: catalog/v1
kind: Team
metadata: {name: empty-team, namespace: edge}
spec: {parent: big-team}
---
apiVersion: catalog/v1
kind: Team
metadata: {name: shared, namespace: edge}
spec: {members: [{name: someone, role: developer}]}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: shared, namespace: edge}
spec: {type: department, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: ops.person, namespace: edge}
spec: {profile: {displayName: Ops Person}, memberOf: []}
---
apiVersion: catalog/v1
kind: Product
metadata: {name: unowned-thing, namespace: edge}
spec:
  type: data-product
  lifecycle: retired
  capabilities: [no-owner]
  runbooks: [{title: Restart, url: ./runbooks/restart.md, automated: true}]
  support: {channel: "https://chat.edge.example/c/unowned"}
---
apiVersion: catalog/v1
kind: Product
metadata:
  name: "1e10"
  namespace: edge
  labels: {version: "1e5"}
  annotations: {example.com/code: "0o17"}
spec: {type: service, lifecycle: production, owner: ghost-team, tier: 4}
---
apiVersion: catalog/v1
kind: Product
metadata: {name: person-owned, namespace: edge}
spec: {type: website, lifecycle: experimental, owner: user:ana-maria, dependsOn: ["1e10", cart]}
---
apiVersion: catalog/v1
kind: Capability
metadata: {name: edge-root, namespace: edge}
spec: {owner: big-team}
---
apiVersion: catalog/v1
kind: Capability
metadata: {name: no-owner, namespace: edge}
spec: {parent: edge-root, outcomes: [Something measurable]}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: bare-component, namespace: edge}
spec: {type: service, lifecycle: production, dependsOn: ["product:unowned-thing"], providesApis: [orders-api]}
---
apiVersion: backstage.io/v1beta1
kind: API
metadata: {name: orders-api, namespace: edge}
spec: {type: openapi, lifecycle: production, owner: team:big-team, definition: {$text: ./openapi.yaml}}
---
apiVersion: catalog/v1
kind: Product
metadata: {name: cart, namespace: edge}
spec: {type: service, lifecycle: production, owner: big-team}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: cart, namespace: edge}
spec: {type: library, lifecycle: production, owner: group:shared}
---
apiVersion: backstage.io/v1alpha1
kind: Location
metadata: {name: edge-location, namespace: edge}
spec: {targets: [./more.yaml]}
"""


@pytest.fixture(scope="module")
def model_dir() -> Path:
    """``.tools/node-backstage`` holding the pinned packages, installed with npm unless already there
    (one install with the client's test: the same manifest)."""
    return node_packages(PACKAGES, "node-backstage")


def _parse(path: str, data: bytes) -> Iterator[Entity]:
    parsed = parse_file(path, data, LoadLimits())
    errors = [problem.format() for problem in parsed.all_problems() if problem.severity == "error"]
    assert not errors, errors
    for document in parsed.documents:
        assert document.entity is not None
        yield document.entity


def example_entities() -> Iterator[Entity]:
    """Every entity of the example repositories, stored as a sync would store it."""
    patterns = DescriptorSettings().patterns
    for repo in sorted(path for path in EXAMPLES.iterdir() if path.is_dir()):
        queue = sorted(
            path.relative_to(repo).as_posix()
            for path in repo.rglob("*")
            if path.is_file() and matches(path.relative_to(repo).as_posix(), patterns)
        )
        seen: set[str] = set()
        while queue:
            relative = queue.pop(0)
            if relative in seen:
                continue
            seen.add(relative)
            for entity in _parse(relative, (repo / relative).read_bytes()):
                yield prepare_entity(entity, location_url(f"{GIT_HOST}/{repo.name}", "main", relative))
                folder = posixpath.dirname(relative)
                queue.extend(posixpath.normpath(posixpath.join(folder, t)) for t in location_targets(entity))


def hard_case_entities() -> list[Entity]:
    """The hand-written hard cases, parsed and stored the same way."""
    location = location_url(f"{GIT_HOST}/edge-cases", "main", "catalog-info.yaml")
    return [prepare_entity(e, location) for e in _parse("catalog-info.yaml", HARD_CASES.encode())]


def store_all(engine: Engine, items: list[Entity], orphans: set[str]) -> None:
    now = datetime.now(UTC)
    rows = [
        {
            "uid": str(uuid.uuid4()),
            "ref_key": entity.ref.key,
            "kind": entity.ref.kind,
            "namespace": entity.namespace.lower(),
            "name": entity.name,
            "body": json.dumps(entity.to_dict()),
            "content_hash": entity.content_hash(),
            "etag": uuid.uuid4().hex,
            "orphaned_at": now if entity.ref.key in orphans else None,
            "created_at": now,
            "updated_at": now,
        }
        for entity in items
    ]
    with engine.begin() as connection:
        connection.execute(insert(entities), rows)


@pytest.fixture(scope="module")
def catalog() -> list[Entity]:
    """The example organisation plus the hard cases."""
    examples = list(example_entities())
    assert len({e.ref for e in examples}) == len(examples), "an example entity is declared twice"
    assert {e.kind for e in examples} >= {"Product", "Team", "Capability", "Component", "Group", "User"}
    return [*examples, *hard_case_entities()]


@pytest.fixture(scope="module")
def exported_yaml(catalog: list[Entity], tmp_path_factory: pytest.TempPathFactory) -> str:
    """The export of the whole catalog, read back from a real database."""
    engine = create_engine(f"sqlite:///{tmp_path_factory.mktemp('export') / 'catalog.db'}")
    metadata.create_all(engine)
    store_all(engine, catalog, orphans={"product:edge/unowned-thing"})
    database = Database(engine)
    with database.reading() as tx:
        return export_backstage(SqlCatalogReads(database), tx)


@pytest.fixture(scope="module")
def report(model_dir: Path, exported_yaml: str) -> dict[str, Any]:
    """What Backstage's catalog model says of every exported document."""
    done = subprocess.run(
        ["node", str(CHECKER / "validate.mjs"), str(model_dir)],
        input=exported_yaml,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.stdout, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_backstage_accepts_every_exported_entity(report: dict[str, Any], exported_yaml: str) -> None:
    assert report["failures"] == []
    assert report["duplicates"] == []
    assert report["documents"] == len(list(yaml.safe_load_all(exported_yaml)))
    assert set(report["kinds"]) == {"Component", "API", "Resource", "System", "Domain", "Group", "User"}


def test_every_ref_resolves_except_the_owners_that_are_deliberately_unknown(report: dict[str, Any]) -> None:
    assert report["refs"] > 100
    unresolved = {(item["field"], item["target"]) for item in report["unresolved"]}
    assert ("spec.owner", "group:edge/ghost-team") in unresolved
    assert unresolved <= {
        ("spec.owner", "group:edge/ghost-team"),
        ("spec.owner", "group:default/team-that-left"),
    }


def test_every_catalog_entity_is_exported_under_its_backstage_kind(
    catalog: list[Entity], exported_yaml: str
) -> None:
    exported = {
        f"{doc['kind']}:{doc['metadata']['namespace']}/{doc['metadata']['name']}".lower(): doc
        for doc in yaml.safe_load_all(exported_yaml)
    }
    as_kind = {"product": "component", "team": "group", "capability": "domain"}
    for entity in catalog:
        kind = entity.ref.kind
        if kind in ("location", "scorecard"):
            assert f"{kind}:{entity.namespace}/{entity.name}".lower() not in exported
            continue
        assert f"{as_kind.get(kind, kind)}:{entity.namespace}/{entity.name}".lower() in exported, entity.ref

    assert exported["group:default/unowned"]["spec"]["type"] == "placeholder"
    assert exported["component:default/support-chatbot"]["spec"]["owner"] == "group:default/unowned"
    assert exported["component:default/campaign-pages"]["spec"]["owner"] == "user:default/lena.fischer"
    assert (
        exported["component:edge/unowned-thing"]["metadata"]["annotations"]["backstage.io/orphan"] == "true"
    )
    assert exported["component:edge/cart"]["spec"]["type"] == "library"
    assert exported["group:edge/shared"]["spec"]["type"] == "department"
    assert exported["group:edge/empty-team"]["spec"] == {
        "type": "team",
        "parent": "group:edge/big-team",
        "children": [],
    }
    assert exported["group:edge/big-team"]["spec"]["children"] == ["group:edge/empty-team"]
    assert exported["user:edge/ana-maria"]["spec"]["profile"]["displayName"] == "Ana María"
    assert exported["user:edge/ops.person"]["spec"]["memberOf"] == ["group:edge/big-team"]
    assert exported["api:edge/orders-api"]["spec"]["definition"] == {
        "$text": f"{GIT_HOST}/edge-cases/blob/main/openapi.yaml"
    }
    assert exported["component:edge/1e10"]["metadata"]["annotations"]["example.com/code"] == "0o17"
