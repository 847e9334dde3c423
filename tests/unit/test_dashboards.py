"""The Grafana dashboards and the alert rules shipped in ``dashboards/``.

Dashboards: the committed JSON is what the generator gives; every query parses as PromQL (promtool);
every metric a dashboard queries is one the service really exports; every metric of SPEC section 7 is
shown somewhere. Alerts: the rules pass ``promtool check rules`` and their unit tests; each alert carries
a summary, a description, a severity and a runbook_url whose section exists and says what to do.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from catalog_sync.config import parse_settings
from catalog_sync.kpis import Measurer
from catalog_sync.metrics import record_pass, sync_event_metrics
from catalog_sync.scoring import Scorer
from catalog_sync.sources.examples import build_example_repositories
from catalog_sync.store.base import Database
from catalog_sync.store.engine import open_engine
from catalog_sync.store.kpis import SqlKpiStore
from catalog_sync.store.migrate import upgrade
from catalog_sync.store.scoring import SqlScoringStore
from catalog_sync.sync import SyncEngine
from dashboards.generate import render_all
from tests.fixtures.fakegithub import fake_github
from tests.fixtures.hosted import body_of, sign
from tests.fixtures.syncstore import sync_store
from tests.fixtures.tools import app_with_metrics

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = ROOT / "dashboards"
ALERTS = DASHBOARDS / "alerts"
RULES = ALERTS / "catalog-sync.rules.yml"
RUNBOOKS = ALERTS / "runbooks.md"
SPEC_METRICS = {
    "catalog_entities",
    "catalog_kpis",
    "catalog_kpi_ratio",
    "catalog_ownership_gaps",
    "catalog_scorecard_entities",
    "catalog_scorecard_score_average",
    "catalog_repositories",
    "catalog_descriptor_errors",
    "catalog_entity_conflicts",
    "catalog_sync_runs_total",
    "catalog_repository_syncs_total",
    "catalog_sync_duration_seconds",
    "catalog_sync_last_success_timestamp_seconds",
    "catalog_http_requests_total",
    "catalog_http_request_duration_seconds",
    # section 8
    "catalog_scm_requests_total",
    "catalog_scm_rate_limit_remaining",
    "catalog_webhook_deliveries_total",
    "catalog_webhook_visible_seconds",
}
TOKEN = "ghp_dashboards0123456789abcdefghijklmnopq"
SECRET = "dashboards-webhook-secret"
PAYMENTS = (
    "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: payments}\n"
    "spec: {type: service, lifecycle: production, owner: team-a}\n"
)
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$scorecard": ".*"}
METRIC = re.compile(r"\bcatalog_[a-z0-9_]+\b")
HISTOGRAM_SUFFIX = re.compile(r"_(bucket|sum|count)$")


def committed() -> dict[str, dict[str, Any]]:
    return {path.name: json.loads(path.read_text()) for path in sorted(DASHBOARDS.glob("*.json"))}


def panels(model: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in model.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def queries() -> list[tuple[str, str]]:
    """``(where, PromQL)`` of every panel target and query variable of every dashboard."""
    found = []
    for name, model in committed().items():
        for panel in panels(model):
            for target in panel.get("targets", []):
                found.append((f"{name}: {panel['title']}", target["expr"]))
        for variable in model.get("templating", {}).get("list", []):
            if variable["type"] == "query":
                inner = re.fullmatch(r"label_values\((.+),\s*\w+\)", variable["query"])
                assert inner, f"{name}: variable {variable['name']} is not a label_values() query"
                found.append((f"{name}: variable {variable['name']}", inner.group(1)))
    return found


def substituted(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    assert "$" not in expr, f"unknown Grafana variable in {expr}"
    return expr


def test_the_committed_dashboards_are_what_the_generator_gives() -> None:
    generated = render_all()
    on_disk = {path.name: path.read_text() for path in DASHBOARDS.glob("*.json")}
    assert on_disk == generated, "run `python -m dashboards.generate` and commit the result"


def test_the_three_dashboards_exist_with_unique_ids_and_the_data_source_variable() -> None:
    models = committed()
    assert set(models) == {"catalog-overview.json", "catalog-scorecards.json", "catalog-sync-health.json"}
    for name, model in models.items():
        ids = [panel["id"] for panel in panels(model)]
        assert len(ids) == len(set(ids)), name
        variables = {v["name"]: v for v in model["templating"]["list"]}
        assert variables["datasource"]["query"] == "prometheus"
        for panel in panels(model):
            for target in panel.get("targets", []):
                assert target["datasource"]["uid"] == "${datasource}", f"{name}: {panel['title']}"


def test_every_dashboard_query_parses_as_promql(promtool: Path, tmp_path: Path) -> None:
    found = queries()
    rules = [
        {"record": f"dashboard:query_{number}", "expr": substituted(expr), "labels": {"panel": where}}
        for number, (where, expr) in enumerate(found)
    ]
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))

    checked = subprocess.run([str(promtool), "check", "rules", str(path)], capture_output=True, text=True)

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(found)} rules found" in checked.stdout


def test_a_broken_query_would_be_caught(promtool: Path, tmp_path: Path) -> None:
    path = tmp_path / "broken.yml"
    rule = {"record": "dashboard:query_0", "expr": "sum by (kind (catalog_entities)"}
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": [rule]}]}))
    checked = subprocess.run([str(promtool), "check", "rules", str(path)], capture_output=True, text=True)
    assert checked.returncode != 0


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """The sample names of a real scrape: the example organisation synced and scored, a GitHub
    organisation listed and read through a local GitHub, one request and one webhook delivery made."""
    root = tmp_path_factory.mktemp("dashboards-scrape")
    build_example_repositories(ROOT / "descriptors" / "examples", root / "repos")
    with pytest.MonkeyPatch.context() as environment, fake_github(root / "github") as hub:
        environment.setenv("DASHBOARDS_GITHUB_TOKEN", TOKEN)
        environment.setenv("DASHBOARDS_WEBHOOK_SECRETS", SECRET)
        hub.orgs.add("acme")
        hub.tokens.add(TOKEN)
        hub.add_repo("acme", "payments", files={"catalog-info.yaml": PAYMENTS})
        settings = parse_settings(
            {
                "database": f"sqlite:///{root / 'catalog.db'}",
                "sources": [
                    {"name": "examples", "type": "local", "path": str(root / "repos")},
                    {
                        "name": "acme",
                        "type": "github",
                        "org": "acme",
                        "api_url": hub.api_url,
                        "auth": {"token_env": "DASHBOARDS_GITHUB_TOKEN"},
                    },
                ],
                "scorecards": {"trusted_sources": ["examples"]},
                "sync": {"cache_dir": str(root / "cache"), "allowed_protocols": ["http", "file"]},
                "webhooks": {"github": {"secrets_env": "DASHBOARDS_WEBHOOK_SECRETS"}},
            },
            str(root),
        )
        engine = open_engine(settings.database)
        try:
            upgrade(engine)
            sync_event_metrics()  # counts the hosting API's requests, as build_sync_engine has it do
            summary = SyncEngine(
                settings,
                sync_store(engine),
                after_pass=[Scorer(settings, SqlScoringStore(Database(engine))).as_hook(), record_pass],
            ).run_pass()
            assert summary.errors == 0
            Measurer(settings.kpis, SqlKpiStore(Database(engine))).run_round()  # the examples' git KPIs
            client = app_with_metrics(settings, engine).test_client()
            client.get("/healthz")
            ping = body_of({"zen": "Keep it logically awesome.", "hook_id": 1})
            answer = client.post(
                "/api/webhooks/github",
                data=ping,
                headers={
                    "Content-Type": "application/json",
                    "X-GitHub-Event": "ping",
                    "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
                    "X-Hub-Signature-256": sign(SECRET, ping),
                },
            )
            assert answer.status_code == 200, answer.get_data(as_text=True)
            text = client.get("/metrics").get_data(as_text=True)
        finally:
            engine.dispose()
    return {sample.name for family in text_string_to_metric_families(text) for sample in family.samples}


def test_every_metric_a_dashboard_queries_is_exported(exported: set[str]) -> None:
    missing = {
        (where, name) for where, expr in queries() for name in METRIC.findall(expr) if name not in exported
    }
    assert not missing


def test_every_query_reads_catalog_sync_metrics_only() -> None:
    for where, expr in queries():
        assert METRIC.search(expr), f"{where} queries no catalog-sync metric: {expr}"


def test_every_spec_metric_is_shown_on_a_dashboard() -> None:
    shown = {HISTOGRAM_SUFFIX.sub("", name) for _, expr in queries() for name in METRIC.findall(expr)}
    assert shown >= SPEC_METRICS


def test_every_metric_an_alert_reads_is_exported(exported: set[str]) -> None:
    exprs = [rule["expr"] for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]
    assert {name for expr in exprs for name in METRIC.findall(expr)} <= exported


def test_the_alert_rules_pass_promtool_and_their_unit_tests(promtool: Path) -> None:
    checked = subprocess.run([str(promtool), "check", "rules", str(RULES)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tests = sorted((ALERTS / "tests").glob("*.yml"))
    assert tests
    tested = subprocess.run(
        [str(promtool), "test", "rules", *map(str, tests)], capture_output=True, text=True, timeout=120
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr


def github_anchor(heading: str) -> str:
    """The anchor GitHub (and most Markdown renderers) give a heading."""
    return re.sub(r"[^a-z0-9 _-]", "", heading.strip().lower()).replace(" ", "-")


def test_every_alert_is_explained_and_points_at_a_runbook_section_that_says_what_to_do() -> None:
    runbooks = RUNBOOKS.read_text()
    sections = {
        github_anchor(match.group(1)): body
        for match, body in zip(
            re.finditer(r"^## (.+)$", runbooks, re.M),
            re.split(r"^## .+$", runbooks, flags=re.M)[1:],
            strict=True,
        )
    }
    rules = [rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]
    alerts = [rule for rule in rules if "alert" in rule]
    tested = (ALERTS / "tests" / "catalog-sync.test.yml").read_text()
    assert len(alerts) >= 6
    for rule in alerts:
        name = rule["alert"]
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, name
        assert rule["annotations"]["summary"], name
        if not rule["expr"].startswith("absent("):  # an absence has no number to give
            assert "$value" in rule["annotations"]["description"], f"{name}: the description gives no number"
        url = rule["annotations"]["runbook_url"]
        page, _, anchor = url.partition("#")
        assert page == "dashboards/alerts/runbooks.md", name
        assert anchor == name.lower(), f"{name}: the runbook_url names another alert's section"
        assert anchor in sections, f"{name}: no runbook section #{anchor}"
        assert "What to do." in sections[anchor], f"{name}: its runbook section does not say what to do"
        assert f"alertname: {name}" in tested, f"{name} has no promtool unit test"
