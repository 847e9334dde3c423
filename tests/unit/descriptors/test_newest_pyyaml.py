"""The hostile corpus against the newest PyYAML on the index, not only the locked one.

libyaml changes its own limits between releases (the one bundled with PyYAML 6.0.4 began refusing
deep flow nesting itself, with its own message); a deployment that resolves afresh must still give
the documented messages, lines and columns. The locked PyYAML runs the corpus in the ordinary suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def newest_pyyaml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the newest PyYAML wheel, to put ahead of the installed one on sys.path."""
    target = tmp_path_factory.mktemp("newest-pyyaml")
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--only-binary=:all:"]
    result = subprocess.run(
        [*command, "--target", str(target), "pyyaml"], capture_output=True, text=True, timeout=600
    )
    if result.returncode != 0:
        message = f"could not install the newest PyYAML: {result.stderr.strip()[-2000:]}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return target


@pytest.mark.slow
def test_hostile_corpus_gives_the_documented_messages_with_the_newest_pyyaml(newest_pyyaml: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(newest_pyyaml), str(ROOT)])}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # the corpus needs no plugin; loading them all takes seconds
    probe = subprocess.run(
        [sys.executable, "-c", "import yaml; print(yaml.__file__, yaml.__version__, yaml.__with_libyaml__)"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    location, version, with_libyaml = probe.stdout.split()
    assert Path(location).is_relative_to(newest_pyyaml), probe.stdout
    assert with_libyaml == "True", f"PyYAML {version} was installed without libyaml"
    corpus = str(Path(__file__).with_name("test_corpus.py"))
    # Nor the shared fixtures (real servers, browsers) of tests/conftest.py: the corpus asks for none.
    options = ["-q", "-p", "no:cacheprovider", "--noconftest", "-k", "hostile or pure"]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *options, corpus],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, f"with PyYAML {version}:\n{result.stdout[-4000:]}"
