"""The chart as helm renders it: a small driver around the real helm binary.

Values are passed as files (each test writes what it needs), never through ``--set``, so what is tested
reads like what an operator writes.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fixtures.helm import helm_env

ROOT = Path(__file__).resolve().parents[3]
CHART = ROOT / "helm" / "catalog-sync"
CI_VALUES = sorted((CHART / "ci").glob("*-values.yaml"))
OPERATOR_API = "monitoring.coreos.com/v1"
RELEASE = "catalog"


@dataclass
class Chart:
    """helm with a private HOME, pointed at the chart."""

    helm: Path
    home: Path
    scratch: Path

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """One helm command on the chart; the caller reads the exit status and the output."""
        return subprocess.run(
            [str(self.helm), *args],
            capture_output=True,
            text=True,
            env=helm_env(self.home),
            timeout=120,
            check=False,
        )

    def values_file(self, values: dict[str, Any]) -> Path:
        """Write values to a file of their own, as an operator would."""
        path = self.scratch / f"values-{len(list(self.scratch.glob('values-*.yaml')))}.yaml"
        path.write_text(yaml.safe_dump(values))
        return path

    def template(
        self,
        *files: Path,
        values: dict[str, Any] | None = None,
        api_versions: Sequence[str] = (),
        kube_version: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """``helm template`` with these values files (and ``values`` last)."""
        args = ["template", RELEASE, str(CHART), "--namespace", "catalog"]
        for path in [*files, *([self.values_file(values)] if values else [])]:
            args += ["--values", str(path)]
        for api in api_versions:
            args += ["--api-versions", api]
        if kube_version:
            args += ["--kube-version", kube_version]
        return self.run(*args)

    def render(self, *files: Path, **kwargs: Any) -> list[dict[str, Any]]:
        """The rendered objects; fails the test with helm's message when rendering fails."""
        done = self.template(*files, **kwargs)
        assert done.returncode == 0, done.stderr
        return [d for d in yaml.safe_load_all(done.stdout) if d]


@pytest.fixture(scope="session")
def chart(helm_binary: Path, tmp_path_factory: pytest.TempPathFactory) -> Chart:
    """The chart and the pinned helm, with a throwaway HOME."""
    return Chart(helm_binary, tmp_path_factory.mktemp("helm-home"), tmp_path_factory.mktemp("helm-values"))


def find(objects: list[dict[str, Any]], kind: str, suffix: str = "") -> dict[str, Any]:
    """The one object of this kind whose name ends with ``suffix``."""
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"].endswith(suffix)]
    assert len(found) == 1, (
        f"expected one {kind} named *{suffix}, found {[o['metadata']['name'] for o in found]}"
    )
    return found[0]


def pod_specs(objects: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Every pod template of the rendered workloads, by workload name."""
    return [
        (o["metadata"]["name"], o["spec"]["template"]["spec"])
        for o in objects
        if o["kind"] in ("Deployment", "Job", "StatefulSet", "DaemonSet", "CronJob")
    ]
