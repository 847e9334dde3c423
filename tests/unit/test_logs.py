"""Credentials never reach the log output, whichever command runs and whoever wrote the line."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from catalog_sync.logs import LOG_FORMAT, RedactingFilter

# A fresh process per command: the logging configuration is the program's own, not pytest's.
SCRIPT = """
import logging, os, sys
from catalog_sync import cli

URL = "https://user:secret@git.example.com/x.git?private_token=glpat-s3cr3t"


def leak(*_args, **_kwargs):
    try:
        raise RuntimeError(f"git clone {URL} failed")
    except RuntimeError:
        logging.getLogger("catalog_sync.sync").exception("pass failed for %s", URL)
    return 0


class Loop:
    run_forever = staticmethod(leak)


command, config = sys.argv[1:]
if command == "gunicorn":
    logging.getLogger("gunicorn.error").addHandler(logging.StreamHandler(sys.stderr))
    os.environ["CATALOG_SYNC_CONFIG"] = config
    cli.wsgi_app()
    leak()
    logging.getLogger("gunicorn.error").error("Error handling request %s", URL)
    sys.exit(0)
real_open_store = cli.open_store
cli.open_store = lambda *args, **kwargs: (leak(), real_open_store(*args, **kwargs))[1]
cli.build_sync_engine = lambda *_args, **_kwargs: Loop()
cli.serve_forever = leak
sys.exit(cli.main([*command.split(), "--config", config]))
"""


@pytest.mark.parametrize("command", ["worker", "serve", "db upgrade", "gunicorn"])
def test_a_credential_in_a_log_line_or_its_traceback_comes_out_redacted(tmp_path: Path, command: str) -> None:
    (tmp_path / "repos").mkdir()
    config = tmp_path / "c.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "database": f"sqlite:///{tmp_path}/c.db",
                "sources": [{"name": "local", "type": "local", "path": str(tmp_path / "repos")}],
            }
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CATALOG_SYNC_")}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, command, str(config)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    redacted = "https://user:***@git.example.com/x.git?private_token=***"
    assert f"pass failed for {redacted}" in result.stderr
    assert f"RuntimeError: git clone {redacted} failed" in result.stderr
    assert "secret@" not in result.stderr
    assert "glpat" not in result.stderr
    if command in ("worker", "serve"):
        assert "ERROR catalog_sync.sync: pass failed for https://user:***@" in result.stderr
    if command == "gunicorn":
        assert "Error handling request https://user:***@git.example.com" in result.stderr


def test_text_from_a_repository_cannot_forge_a_log_line() -> None:
    """A newline or terminal escape in a logged argument is shown escaped; a traceback keeps its lines."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("catalog_sync.test_forged_lines")
    logger.addHandler(handler)
    logger.propagate = False
    forged = "docs/x.yaml\n2026-12-02 09:00:00 ERROR catalog_sync.sync: all repositories deleted\x1b[2J"
    try:
        logger.error("cannot read %s (%d bytes)", forged, 12)
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("reading repository %s failed", 7)
    finally:
        logger.removeHandler(handler)

    lines = out.getvalue().splitlines()
    assert lines[0].endswith(
        "cannot read docs/x.yaml\\n2026-12-02 09:00:00 ERROR catalog_sync.sync: all repositories "
        "deleted\\x1b[2J (12 bytes)"
    )
    assert "\x1b" not in out.getvalue()
    assert lines[1].endswith("reading repository 7 failed")
    assert lines[2] == "Traceback (most recent call last):"
    assert lines[-1] == "ValueError: boom"
