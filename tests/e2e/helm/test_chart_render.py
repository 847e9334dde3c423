"""The chart lints, renders objects every supported Kubernetes accepts, and holds its promises:
restricted pods, the migration ordered before what it reads, no secret in a ConfigMap, the shipped
alert rules and dashboards, and monitoring objects only where the operator's API exists."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from catalog_sync.config import parse_settings
from tests.e2e.helm.conftest import CHART, CI_VALUES, OPERATOR_API, ROOT, Chart, find, pod_specs

OLDEST_KUBERNETES = "1.25.0"
NEWEST_KUBERNETES = "1.37.0"
DASHBOARDS = ROOT / "dashboards"
RULES = DASHBOARDS / "alerts" / "catalog-sync.rules.yml"
POSTGRESQL = CHART / "ci" / "postgresql-values.yaml"
OPERATOR = CHART / "ci" / "operator-values.yaml"
EXISTING = CHART / "ci" / "existing-secret-values.yaml"


def test_the_chart_states_the_oldest_kubernetes_it_is_validated_against():
    chart_yaml = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart_yaml["kubeVersion"] == f">={OLDEST_KUBERNETES}-0"


def test_the_chart_lints_strictly_with_its_defaults(chart: Chart):
    done = chart.run("lint", "--strict", str(CHART))
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("values", CI_VALUES, ids=lambda p: p.name)
def test_the_chart_lints_strictly_with_each_ci_values_file(chart: Chart, values: Path):
    done = chart.run("lint", "--strict", str(CHART), "--values", str(values))
    assert done.returncode == 0, done.stdout + done.stderr


def test_there_is_a_ci_values_file_for_each_way_of_running():
    assert {p.name for p in CI_VALUES} >= {
        "sqlite-values.yaml",
        "postgresql-values.yaml",
        "operator-values.yaml",
        "existing-secret-values.yaml",
    }


@pytest.mark.parametrize("kubernetes", [OLDEST_KUBERNETES, NEWEST_KUBERNETES])
@pytest.mark.parametrize("values", [None, *CI_VALUES], ids=lambda p: p.name if p else "defaults")
def test_every_rendered_object_is_valid_for_the_oldest_and_newest_kubernetes(
    chart: Chart, values: Path | None, kubernetes: str, tmp_path: Path
):
    done = chart.template(*([values] if values else []), api_versions=[OPERATOR_API], kube_version=kubernetes)
    assert done.returncode == 0, done.stderr
    # Custom resources have no schema in Kubernetes itself: the operator's are checked below.
    documents = [d for d in yaml.safe_load_all(done.stdout) if d and d["apiVersion"] != OPERATOR_API]
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(yaml.safe_dump_all(documents))
    validate = Path(sys.executable).with_name("kubernetes-validate")
    checked = subprocess.run(
        [str(validate), "--strict", "--quiet", "--kubernetes-version", kubernetes, str(rendered)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def _containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [*spec.get("initContainers", []), *spec["containers"]]


@pytest.mark.parametrize("values", [None, *CI_VALUES], ids=lambda p: p.name if p else "defaults")
def test_every_container_runs_under_pod_security_restricted(chart: Chart, values: Path | None):
    objects = chart.render(*([values] if values else []), api_versions=[OPERATOR_API])
    specs = pod_specs(objects)
    assert specs
    for name, spec in specs:
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert spec["automountServiceAccountToken"] is False, name
        assert "hostNetwork" not in spec, name
        assert "hostPID" not in spec, name
        for container in _containers(spec):
            where = f"{name}/{container['name']}"
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False, where
            assert security["readOnlyRootFilesystem"] is True, where
            assert security["runAsNonRoot"] is True, where
            assert security["runAsUser"] != 0, where
            assert security["capabilities"] == {"drop": ["ALL"]}, where
            assert security["seccompProfile"] == {"type": "RuntimeDefault"}, where
            assert container["resources"]["requests"], where
            assert container["resources"]["limits"], where
            tmp = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
            assert tmp, f"{where} has no writable /tmp"
            volume = next(v for v in spec["volumes"] if v["name"] == tmp[0]["name"])
            assert "emptyDir" in volume, where


def test_the_api_is_probed_on_healthz_and_readyz_and_rolls_when_the_config_changes(chart: Chart):
    before = find(chart.render(POSTGRESQL), "Deployment", "-api")
    container = before["spec"]["template"]["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    after = find(
        chart.render(POSTGRESQL, values={"config": {"sync": {"interval_seconds": 900}}}), "Deployment", "-api"
    )
    annotation = "checksum/config"
    assert before["spec"]["template"]["metadata"]["annotations"][annotation]
    assert (
        before["spec"]["template"]["metadata"]["annotations"][annotation]
        != after["spec"]["template"]["metadata"]["annotations"][annotation]
    )


CHART_VOLUMES = {"tmp", "config", "cache", "data", "metrics"}
CA_VALUES: dict[str, Any] = {
    "config": {
        "sources": [
            {
                "name": "acme",
                "type": "github",
                "org": "acme",
                "api_url": "https://github.acme.example/api/v3",
                "auth": {"token_env": "GITHUB_TOKEN"},
                "ca_file": "/etc/ssl/acme-ca/ca.pem",
            }
        ]
    },
    "extraVolumes": [{"name": "acme-ca", "configMap": {"name": "acme-ca"}}],
    "extraVolumeMounts": [{"name": "acme-ca", "mountPath": "/etc/ssl/acme-ca", "readOnly": True}],
}


def _catalog_sync_pods(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The pod templates that run catalog-sync: the API, the workers and the migration Job."""
    return {
        suffix: find(objects, kind, suffix)["spec"]["template"]["spec"]
        for kind, suffix in [("Deployment", "-api"), ("Deployment", "-worker"), ("Job", "-migrate")]
        if any(o["kind"] == kind and o["metadata"]["name"].endswith(suffix) for o in objects)
    }


@pytest.mark.parametrize("values", [None, POSTGRESQL], ids=["sqlite", "postgresql"])
def test_extra_volumes_are_mounted_once_in_every_container_that_runs_catalog_sync(
    chart: Chart, values: Path | None
):
    """A source's ca_file names a file the chart does not ship: the bundle the operator mounts must be
    there for the migration Job, the API and the workers alike, or the source fails where it is missing."""
    pods = _catalog_sync_pods(chart.render(*([values] if values else []), values=CA_VALUES))
    assert set(pods) == ({"-api", "-worker", "-migrate"} if values else {"-api"})
    for where, spec in pods.items():
        assert [v for v in spec["volumes"] if v["name"] == "acme-ca"] == CA_VALUES["extraVolumes"], where
        for container in _containers(spec):
            mounts = [m for m in container["volumeMounts"] if m["name"] == "acme-ca"]
            assert mounts == CA_VALUES["extraVolumeMounts"], f"{where}/{container['name']}"
            assert "/etc/catalog-sync" in {m["mountPath"] for m in container["volumeMounts"]}


@pytest.mark.parametrize("values", [None, POSTGRESQL], ids=["sqlite", "postgresql"])
def test_without_extra_volumes_only_the_charts_own_are_mounted(chart: Chart, values: Path | None):
    pods = _catalog_sync_pods(chart.render(*([values] if values else [])))
    assert pods
    for where, spec in pods.items():
        assert {v["name"] for v in spec["volumes"]} <= CHART_VOLUMES, where
        for container in _containers(spec):
            assert {m["name"] for m in container["volumeMounts"]} <= CHART_VOLUMES, where


def test_the_ca_file_of_a_source_is_in_the_configuration_the_pods_read(chart: Chart):
    objects = chart.render(values=CA_VALUES)
    config = yaml.safe_load(find(objects, "ConfigMap", "catalog-sync")["data"]["catalog-sync.yaml"])
    (mount,) = CA_VALUES["extraVolumeMounts"]
    assert config["sources"][0]["ca_file"].startswith(mount["mountPath"] + "/")


def _readme_config_examples() -> list[dict[str, Any]]:
    blocks = (CHART / "README.md").read_text().split("```yaml\n")[1:]
    examples = [yaml.safe_load(block.split("```")[0]) for block in blocks]
    return [e["config"] for e in examples if isinstance(e, dict) and "config" in e]


def test_the_readmes_configuration_examples_are_accepted_by_catalog_sync():
    """An operator copies these: a key the configuration refuses would stop every pod at start."""
    examples = _readme_config_examples()
    assert len(examples) >= 2
    for config in examples:
        parse_settings(config, environ={"GITHUB_TOKEN": "example-token-0123456789"})


def _hook(obj: dict[str, Any]) -> tuple[str, int]:
    annotations = obj["metadata"].get("annotations", {})
    return annotations.get("helm.sh/hook", ""), int(annotations.get("helm.sh/hook-weight", "0"))


def test_the_migration_job_runs_before_install_and_upgrade_after_what_it_reads(chart: Chart):
    objects = chart.render(POSTGRESQL)
    job = find(objects, "Job", "-migrate")
    hook, job_weight = _hook(job)
    assert set(hook.split(",")) == {"pre-install", "pre-upgrade"}
    spec = job["spec"]["template"]["spec"]
    config_map = next(v["configMap"]["name"] for v in spec["volumes"] if "configMap" in v)
    secrets = {
        e["valueFrom"]["secretKeyRef"]["name"] for e in spec["containers"][0]["env"] if "valueFrom" in e
    }
    assert secrets
    for kind, name in [("ConfigMap", config_map), *[("Secret", s) for s in secrets]]:
        read = next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)
        read_hook, read_weight = _hook(read)
        assert set(read_hook.split(",")) == {"pre-install", "pre-upgrade"}, f"{kind} {name} is not a hook"
        assert read_weight < job_weight, f"{kind} {name} is not created before the Job"
    assert spec["containers"][0]["command"] + spec["containers"][0]["args"] == [
        "catalog-sync",
        "db",
        "upgrade",
    ]


def test_with_an_existing_secret_the_job_reads_it_and_the_chart_writes_no_secret(chart: Chart):
    objects = chart.render(EXISTING)
    assert not [o for o in objects if o["kind"] == "Secret"]
    for name, spec in pod_specs(objects):
        refs = {
            e["valueFrom"]["secretKeyRef"]["name"] for e in _containers(spec)[0]["env"] if "valueFrom" in e
        }
        assert "catalog-sync-credentials" in refs, name


def test_no_secret_value_reaches_a_configmap_or_an_environment_value(chart: Chart):
    objects = chart.render(POSTGRESQL, api_versions=[OPERATOR_API])
    secret_values = [
        base64.b64decode(value).decode()
        for o in objects
        if o["kind"] == "Secret"
        for value in o["data"].values()
    ]
    values = yaml.safe_load(POSTGRESQL.read_text())
    assert values["database"]["url"] in secret_values
    pieces = {piece for v in secret_values for piece in v.split(",")} | {"example-password"}
    for obj in objects:
        if obj["kind"] == "Secret":
            continue
        text = yaml.safe_dump(obj)
        for piece in pieces:
            assert piece not in text, f"{obj['kind']} {obj['metadata']['name']} shows a secret"


def test_the_prometheus_rule_is_the_shipped_rule_file_and_promtool_accepts_it(
    chart: Chart, promtool: Path, tmp_path: Path
):
    rule = find(chart.render(OPERATOR, api_versions=[OPERATOR_API]), "PrometheusRule")
    assert rule["spec"] == yaml.safe_load(RULES.read_text())
    rule_file = tmp_path / "rendered.rules.yml"
    rule_file.write_text(yaml.safe_dump(rule["spec"]))
    checked = subprocess.run(
        [str(promtool), "check", "rules", str(rule_file)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_dashboards_are_configmaps_grafana_loads_and_equal_to_the_shipped_ones(chart: Chart):
    objects = chart.render(OPERATOR, api_versions=[OPERATOR_API])
    maps = [
        o
        for o in objects
        if o["kind"] == "ConfigMap" and o["metadata"]["labels"].get("grafana_dashboard") == "1"
    ]
    rendered = {name: json.loads(text) for o in maps for name, text in o["data"].items()}
    shipped = {p.name: json.loads(p.read_text()) for p in DASHBOARDS.glob("*.json")}
    assert shipped
    assert rendered == shipped
    assert {o["metadata"]["namespace"] for o in maps} == {"monitoring"}


def test_the_chart_copies_of_dashboards_and_rules_are_identical_to_their_source():
    pairs = [(p, CHART / "files" / "dashboards" / p.name) for p in DASHBOARDS.glob("*.json")]
    pairs.append((RULES, CHART / "files" / "alerts" / RULES.name))
    copies = {p.name for p in (CHART / "files" / "dashboards").glob("*.json")}
    assert copies == {p.name for p in DASHBOARDS.glob("*.json")}, "run `make chart-files`"
    for source, copy in pairs:
        assert copy.read_bytes() == source.read_bytes(), (
            f"{copy} differs from {source}: run `make chart-files`"
        )


def test_monitoring_objects_exist_only_where_the_operator_api_does(chart: Chart):
    without = {o["kind"] for o in chart.render(OPERATOR)}
    with_api = {o["kind"] for o in chart.render(OPERATOR, api_versions=[OPERATOR_API])}
    assert not without & {"ServiceMonitor", "PrometheusRule"}
    assert with_api >= {"ServiceMonitor", "PrometheusRule"}


def test_the_ingress_routes_every_path_to_the_api_so_webhooks_arrive(chart: Chart):
    objects = chart.render(POSTGRESQL)
    ingress = find(objects, "Ingress")
    service = find(objects, "Service", "catalog-sync")
    (path,) = ingress["spec"]["rules"][0]["http"]["paths"]
    assert (path["path"], path["pathType"]) == ("/", "Prefix")
    assert path["backend"]["service"]["name"] == service["metadata"]["name"]
    assert service["spec"]["selector"]["app.kubernetes.io/component"] == "api"


def test_several_workers_get_a_budget_an_autoscaled_api_and_a_network_policy(chart: Chart):
    objects = chart.render(POSTGRESQL)
    assert find(objects, "Deployment", "-worker")["spec"]["replicas"] == 4
    assert find(objects, "HorizontalPodAutoscaler", "-api")["spec"]["minReplicas"] == 3
    assert "replicas" not in find(objects, "Deployment", "-api")["spec"]
    assert {o["metadata"]["name"] for o in objects if o["kind"] == "PodDisruptionBudget"} == {
        "catalog-catalog-sync-api",
        "catalog-catalog-sync-worker",
    }
    policy = find(objects, "NetworkPolicy", "-api")
    assert policy["spec"]["ingress"][0]["from"][0]["namespaceSelector"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"database": {"type": "sqlite"}, "api": {"replicas": 2}}, "/api/replicas"),
        ({"database": {"type": "sqlite"}, "worker": {"enabled": True}}, "/worker/enabled"),
        (
            {"database": {"type": "sqlite"}, "api": {"autoscaling": {"enabled": True}}},
            "/api/autoscaling/enabled",
        ),
        ({"database": {"type": "postgresql"}}, "/database/url"),
        ({"database": {"type": "postgresql", "url": "postgresql://u@h/db"}}, "/database/url"),
        ({"database": {"type": "postgresql", "url": "sqlite:///x.db"}}, "/database/url"),
        (
            {"database": {"type": "postgresql"}, "existingSecret": "s", "secrets": {"apiTokens": ["a" * 20]}},
            "/secrets/apiTokens",
        ),
        ({"config": {"database": "postgresql+psycopg://u:p@h/db"}}, "/config"),
        ({"secrets": {"apiTokens": ["short"]}}, "/secrets/apiTokens/0"),
        ({"api": {"replica": 1}}, "replica"),
        (
            {
                "extraVolumes": [{"name": "ca"}],
                "extraVolumeMounts": [{"name": "ca", "mountPath": "/etc/catalog-sync"}],
            },
            "/extraVolumeMounts/0/mountPath",
        ),
        (
            {
                "extraVolumes": [{"name": "ca"}],
                "extraVolumeMounts": [{"name": "ca", "mountPath": "/var/cache/catalog-sync/"}],
            },
            "/extraVolumeMounts/0/mountPath",
        ),
        ({"extraVolumeMounts": [{"name": "ca", "mountPath": "etc/ca"}]}, "/extraVolumeMounts/0/mountPath"),
        ({"extraVolumes": [{"name": "config", "configMap": {"name": "acme-ca"}}]}, "/extraVolumes/0/name"),
        (
            {
                "extraVolumes": [{"name": "db"}],
                "extraVolumeMounts": [{"name": "db", "mountPath": "/var/lib/catalog-sync"}],
            },
            "SQLite folder",
        ),
    ],
    ids=[
        "sqlite-two-replicas",
        "sqlite-with-worker",
        "sqlite-autoscaled",
        "postgresql-without-url",
        "postgresql-without-psycopg",
        "postgresql-with-sqlite-url",
        "existing-secret-and-values",
        "database-in-the-configmap",
        "short-api-token",
        "misspelt-key",
        "mount-over-the-configuration",
        "mount-over-the-cache",
        "relative-mount-path",
        "volume-named-as-the-charts",
        "mount-over-the-sqlite-folder",
    ],
)
def test_the_schema_refuses_what_cannot_work_naming_the_value(
    chart: Chart, values: dict[str, Any], message: str
):
    done = chart.template(values=values)
    assert done.returncode != 0
    # helm 4 writes the value's path as /api/replicas, helm 3 as api.replicas.
    assert message in done.stderr or message.strip("/").replace("/", ".") in done.stderr, done.stderr


def test_the_packaged_chart_carries_the_rules_and_dashboards(chart: Chart, tmp_path: Path):
    packaged = chart.run("package", str(CHART), "--destination", str(tmp_path))
    assert packaged.returncode == 0, packaged.stderr
    (archive,) = tmp_path.glob("catalog-sync-*.tgz")
    done = chart.run(
        "template", "catalog", str(archive), "--values", str(OPERATOR), "--api-versions", OPERATOR_API
    )
    assert done.returncode == 0, done.stderr
    objects = [d for d in yaml.safe_load_all(done.stdout) if d]
    assert find(objects, "PrometheusRule")["spec"] == yaml.safe_load(RULES.read_text())
    dashboards = [o for o in objects if o["metadata"].get("labels", {}).get("grafana_dashboard") == "1"]
    assert len(dashboards) == len(list(DASHBOARDS.glob("*.json")))


def test_the_service_monitor_scrapes_ports_the_services_expose(chart: Chart):
    objects = chart.render(OPERATOR, api_versions=[OPERATOR_API])
    monitor = find(objects, "ServiceMonitor")
    selector = monitor["spec"]["selector"]["matchLabels"]
    services = [
        o for o in objects if o["kind"] == "Service" and selector.items() <= o["metadata"]["labels"].items()
    ]
    exposed = {port["name"] for service in services for port in service["spec"]["ports"]}
    assert {endpoint["port"] for endpoint in monitor["spec"]["endpoints"]} == exposed == {"http", "metrics"}


def test_a_kubernetes_older_than_the_oldest_validated_is_refused(chart: Chart):
    done = chart.template(kube_version="1.24.0")
    assert done.returncode != 0
    assert "kubeVersion" in done.stderr or "incompatible" in done.stderr, done.stderr
