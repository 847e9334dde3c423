"""The mixed-load benchmark stays runnable: a tiny catalog, one real server, every request type answered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.mixed_load import REQUEST_TYPES, main


def test_the_mixed_load_benchmark_runs_every_request_type_against_a_real_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = tmp_path / "mixed_load.json"

    main(
        [
            "--entities", "200", "--requests", "50", "--rounds", "1", "--clients", "4",
            "--server", "serve", "--fleet-dir", str(tmp_path / "fleet"), "--json", str(results),
        ]
    )  # fmt: skip

    printed = capsys.readouterr().out
    table = printed.split("serve round 1:")[1]
    for kind in REQUEST_TYPES:
        assert f"  {kind} " in table
    assert "serve: " in printed
    assert "team summary p50" in printed
    report = json.loads(results.read_text())
    (only_round,) = report["serve"]["rounds"]
    assert only_round["requests"] == 50
    assert only_round["memory_mib"]["pss"] > 0
