"""The PostgreSQL fixture never lets CI pass without PostgreSQL, and explains a local skip."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _run_without_binaries(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    test_file = tmp_path / "test_needs_postgres.py"
    test_file.write_text("def test_it(postgres_url):\n    assert postgres_url\n")
    env = {key: value for key, value in os.environ.items() if key not in ("CI", "PYTEST_XDIST_WORKER")}
    env["CATALOG_SYNC_PG_BIN"] = str(tmp_path / "no-such-folder")
    env["PYTHONPATH"] = str(ROOT)
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # the fixture needs no plugin; loading them all takes seconds
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-rs",
            "-p",
            "tests.fixtures.postgres",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            str(test_file),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_missing_postgres_fails_under_ci(tmp_path: Path) -> None:
    result = _run_without_binaries(tmp_path, "true")
    assert result.returncode != 0, result.stdout
    assert "required under CI=true" in result.stdout
    assert "skipped" not in result.stdout.splitlines()[-1]


def test_missing_postgres_skips_with_the_reason_elsewhere(tmp_path: Path) -> None:
    result = _run_without_binaries(tmp_path, None)
    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout
    assert "PostgreSQL server binaries not found" in result.stdout
