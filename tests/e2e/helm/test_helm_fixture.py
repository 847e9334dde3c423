"""The helm fixture never lets CI pass without helm, and explains a local skip."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.helm.conftest import ROOT

pytestmark = pytest.mark.slow


def _run_without_helm(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    test_file = tmp_path / "test_needs_helm.py"
    test_file.write_text("def test_it(helm_binary):\n    assert helm_binary\n")
    dropped = ("CI", "PYTEST_XDIST_WORKER", "PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL")
    env = {key: value for key, value in os.environ.items() if key not in dropped}
    env.update(
        {
            "CATALOG_SYNC_HELM_DIR": str(tmp_path / "helm"),  # empty: helm must be fetched
            "PIP_CONFIG_FILE": os.devnull,
            "PIP_INDEX_URL": "http://127.0.0.1:1/simple",  # nothing listens there: the index is unreachable
            "PIP_NO_CACHE_DIR": "1",
            "PIP_RETRIES": "0",
            "PIP_TIMEOUT": "5",
            "PYTHONPATH": str(ROOT),
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",  # the fixture needs no plugin; loading them takes seconds
        }
    )
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "tests.fixtures.helm", "-p", "no:cacheprovider",
         "--rootdir", str(tmp_path), str(test_file)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )  # fmt: skip


def test_missing_helm_fails_under_ci(tmp_path: Path) -> None:
    result = _run_without_helm(tmp_path, "true")
    assert result.returncode != 0, result.stdout
    assert "required under CI=true" in result.stdout
    assert "skipped" not in result.stdout.splitlines()[-1]


def test_missing_helm_skips_with_the_reason_elsewhere(tmp_path: Path) -> None:
    result = _run_without_helm(tmp_path, None)
    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout
    assert "helm is needed for the chart's tests" in result.stdout
