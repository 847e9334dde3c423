"""``catalog-sync validate`` and ``init`` as a developer runs them: a real process, real files, exit codes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from catalog_sync.descriptors.starter import STARTER_DESCRIPTOR
from tests.fixtures.http import answering, tarpit

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "unit" / "descriptors" / "corpus"
VALID = ROOT / "tests" / "unit" / "descriptors" / "valid"
STARTER_FILE = STARTER_DESCRIPTOR.encode()


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """One ``python -m catalog_sync`` process, as the console script would run it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("CATALOG_SYNC_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "catalog_sync", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_valid_files_exit_0_even_with_warnings(tmp_path: Path) -> None:
    (tmp_path / "catalog-info.yaml").write_text(
        "apiVersion: catalog/v1\nkind: Product\nmetadata:\n  name: p\n"
        "spec:\n  type: service\n  lifecycle: production\n"
    )
    result = run("validate", "catalog-info.yaml", str(VALID), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("catalog-info.yaml:5:1: warning: spec.owner: no owner")
    assert lines[1] == (
        "catalog-info.yaml:5:1: warning: spec.capabilities: no capability; counts as a "
        "product_without_capability gap [product:default/p]"
    )
    assert lines[-1] == "1 file, 1 entity: 0 errors, 2 warnings"


def test_a_folder_is_searched_and_an_error_exits_1(tmp_path: Path) -> None:
    service = tmp_path / "services" / "pay"
    service.mkdir(parents=True)
    (service / "catalog-info.yaml").write_bytes((CORPUS / "product-lifecycle-bad.yaml").read_bytes())
    (tmp_path / "README.md").write_text("not a descriptor\n")
    result = run("validate", ".", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "services/pay/catalog-info.yaml:8:14: error: spec.lifecycle: must be one of experimental, "
        "production, deprecated, retired [product:default/payments-api]",
        "1 file, 1 entity: 1 error, 0 warnings",
    ]


def test_hostile_files_exit_1_and_the_others_are_still_checked(tmp_path: Path) -> None:
    (tmp_path / "bomb.yaml").write_bytes(
        b"a: &a [1,1,1,1,1,1,1,1,1,1]\n"
        + b"".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [{','.join([f'*{chr(97 + i)}'] * 10)}]\n".encode()
            for i in range(9)
        )
    )
    (tmp_path / "binary.yaml").write_bytes(b"\0\1\2")
    (tmp_path / "good.yaml").write_text("apiVersion: catalog/v1\nkind: Team\nmetadata: {name: t}\n")
    os.symlink(tmp_path / "good.yaml", tmp_path / "link.yaml")
    result = run("validate", "bomb.yaml", "binary.yaml", "good.yaml", "link.yaml", cwd=tmp_path)
    assert result.returncode == 1
    out = result.stdout.splitlines()
    assert out[0].startswith("bomb.yaml:")
    assert "alias bomb" in out[0]
    assert out[1].startswith("binary.yaml:1:1: error: binary file")
    assert out[2] == "link.yaml: error: a symbolic link; descriptors are read only from regular files"
    assert out[3] == "4 files, 1 entity: 3 errors, 0 warnings"


def test_json_format_has_files_problems_and_counts(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_bytes((CORPUS / "product-kpi-category-bad.yaml").read_bytes())
    result = run("validate", "--format", "json", "bad.yaml", cwd=tmp_path)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["valid"] is False
    assert report["counts"] == {"files": 1, "entities": 1, "errors": 1, "warnings": 0}
    assert report["files"][0]["entities"] == [
        {"index": 0, "line": 2, "column": 1, "entityRef": "product:default/payments-api", "valid": False}
    ]
    assert report["problems"] == [
        {
            "path": "bad.yaml",
            "severity": "error",
            "message": "must be one of speed-to-market, customer-satisfaction, business-alignment, "
            "team-performance, other",
            "line": 12,
            "column": 47,
            "field": "spec.kpis[0].category",
            "entityRef": "product:default/payments-api",
        }
    ]


def test_with_no_path_the_current_folder_is_validated(tmp_path: Path) -> None:
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "catalog-info.yaml").write_bytes((CORPUS / "product-lifecycle-bad.yaml").read_bytes())
    result = run("validate", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0].startswith("svc/catalog-info.yaml:8:14: error: spec.lifecycle:")


def test_bad_usage_exits_2(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("apiVersion: catalog/v1\nkind: Team\nmetadata: {name: t}\n")
    missing = run("validate", "a.yaml", "missing.yaml", cwd=tmp_path)
    bad_format = run("validate", "--format", "xml", "a.yaml", cwd=tmp_path)
    bad_config = run("validate", "--config", "nope.yaml", "a.yaml", cwd=tmp_path)
    assert [r.returncode for r in (missing, bad_format, bad_config)] == [2, 2, 2]
    assert "missing.yaml" in missing.stderr
    assert "xml" in bad_format.stderr
    assert missing.stdout == bad_format.stdout == ""


def test_config_patterns_and_size_limit_apply(tmp_path: Path) -> None:
    (tmp_path / "catalog-sync.yaml").write_text(
        "descriptors: {patterns: ['org/*.yaml'], max_file_bytes: 64}\n"
    )
    (tmp_path / "org").mkdir()
    (tmp_path / "org" / "team.yaml").write_text(
        "apiVersion: catalog/v1\nkind: Team\nmetadata:\n  name: a-long-enough-name\n"
    )
    result = run("validate", "--config", "catalog-sync.yaml", ".", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == (
        "org/team.yaml: error: file is larger than the limit of 64 bytes (descriptors.max_file_bytes)"
    )


def test_init_writes_a_starter_that_validates_and_never_overwrites(tmp_path: Path) -> None:
    first = run("init", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    written = (tmp_path / "catalog-info.yaml").read_text()
    assert "kind: Product" in written
    check = run("validate", "catalog-info.yaml", cwd=tmp_path)
    assert check.returncode == 0
    assert check.stdout == "1 file, 1 entity: 0 errors, 0 warnings\n"

    (tmp_path / "catalog-info.yaml").write_text("# mine\n")
    again = run("init", cwd=tmp_path)
    assert again.returncode == 2
    assert "exists" in again.stderr
    assert (tmp_path / "catalog-info.yaml").read_text() == "# mine\n"
    forced = run("init", "--force", cwd=tmp_path)
    assert forced.returncode == 0
    assert (tmp_path / "catalog-info.yaml").read_text() == written

    other = run("init", "sub-catalog.yaml", cwd=tmp_path)
    assert other.returncode == 0
    assert (tmp_path / "sub-catalog.yaml").read_text() == written


HOSTILE_NAME = "evil\x1b[2J\x1b]0;pwned\x07\nok.yaml:1:1: error: forged\u202e.catalog-info.yaml"
CONTROL = set(map(chr, [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029, *range(0x202A, 0x202F)])) | set(
    map(chr, range(0x2066, 0x206A))
)


def test_names_and_keys_from_a_repository_cannot_forge_lines_or_steer_the_terminal(tmp_path: Path) -> None:
    """A file name and YAML keys carrying ESC sequences, newlines and bidi overrides: every problem
    stays on one line, shown with visible escapes, in text and in JSON."""
    hostile = tmp_path / HOSTILE_NAME
    hostile.write_text(
        "apiVersion: catalog/v1\nkind: Product\nmetadata:\n  name: p\n"
        '  "bad\\e[31mkey\\nok.yaml:9:9: error: forged\\u2029x\\u2066": 1\n'
        "spec:\n  type: service\n  lifecycle: production\n  owner: team-a\n  capabilities: [c]\n",
        encoding="utf-8",
    )
    result = run("validate", HOSTILE_NAME, cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 2, lines  # the one problem and the summary
    assert lines[-1] == "1 file, 1 entity: 1 error, 0 warnings"
    assert not CONTROL & set(result.stdout.replace("\n", ""))
    assert lines[0].startswith(
        "evil\\x1b[2J\\x1b]0;pwned\\x07\\nok.yaml:1:1: error: forged\\u202e.catalog-info.yaml:5:3: error: "
    )
    assert "bad\\x1b[31mkey\\nok.yaml:9:9: error: forged\\u2029x\\u2066" in lines[0]

    as_json = run("validate", "--format", "json", HOSTILE_NAME, cwd=tmp_path)
    assert not CONTROL & set(as_json.stdout.replace("\n", ""))
    assert json.loads(as_json.stdout)["files"][0]["path"] == HOSTILE_NAME

    missing = run("validate", "gone\x1b[31m\n.yaml", cwd=tmp_path)
    assert missing.returncode == 2
    assert missing.stderr == "catalog-sync validate: no such file or folder: gone\\x1b[31m\\n.yaml\n"


def test_a_file_name_that_is_not_utf8_is_shown_escaped_not_a_crash(tmp_path: Path) -> None:
    name = os.fsdecode(b"bad-\xff-catalog-info.yaml")
    (tmp_path / name).write_text("kind: [\n")
    result = run("validate", name, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines()[0].startswith("bad-\\udcff-catalog-info.yaml:")


EXEMPT = (
    "apiVersion: catalog/v1\nkind: Product\nmetadata:\n  name: p\nspec:\n  type: service\n"
    "  lifecycle: production\n  owner: payments\n  capabilities: [checkout]\n  exemptions:\n"
    "    - {{scorecard: {card}, check: {check}, until: '2020-01-01', reason: Moving, approvedBy: ann}}\n"
)


def test_exemptions_name_the_built_in_scorecards_or_those_validated_beside_them(tmp_path: Path) -> None:
    (tmp_path / "ok.yaml").write_text(EXEMPT.format(card="product-readiness", check="owner-resolves"))
    (tmp_path / "typo.yaml").write_text(EXEMPT.format(card="product-readiness", check="has-ownr"))
    (tmp_path / "unknown.yaml").write_text(EXEMPT.format(card="everything", check="owner"))
    result = run("validate", "ok.yaml", "typo.yaml", "unknown.yaml", cwd=tmp_path)
    assert result.returncode == 1
    errors = [line for line in result.stdout.splitlines() if ": error: " in line]
    assert errors[0].startswith(
        "typo.yaml:11:45: error: spec.exemptions[0].check: scorecard 'product-readiness' has no check "
        "'has-ownr' (its checks: "
    )
    assert errors[1].startswith(
        "unknown.yaml:11:19: error: spec.exemptions[0].scorecard: unknown scorecard 'everything' "
        "(known scorecards: product-readiness, service-basics)"
    )
    assert len(errors) == 2
    beside = run("validate", "unknown.yaml", str(VALID / "ours.yaml"), cwd=tmp_path)
    assert beside.returncode == 0, beside.stdout  # ours.yaml defines the scorecard "everything"


MODELINE = "# yaml-language-server: $schema="


def test_init_with_a_catalog_writes_the_modeline_of_its_served_schema(tmp_path: Path) -> None:
    plain = run("init", "plain.yaml", cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    assert MODELINE not in (tmp_path / "plain.yaml").read_text()
    assert "catalog-sync init --catalog" in (tmp_path / "plain.yaml").read_text()

    derived = run("init", "--catalog", "https://catalog.example.com/", cwd=tmp_path)
    assert derived.returncode == 0, derived.stderr
    first = (tmp_path / "catalog-info.yaml").read_text().splitlines()[0]
    assert first == MODELINE + "https://catalog.example.com/schemas/catalog-info.schema.json"
    given = run(
        "init", "own.yaml", "--schema-url", "https://cdn.example.com/s/product.schema.json", cwd=tmp_path
    )
    assert given.returncode == 0, given.stderr
    assert (
        (tmp_path / "own.yaml")
        .read_text()
        .startswith(MODELINE + "https://cdn.example.com/s/product.schema.json\n")
    )
    check = run("validate", "catalog-info.yaml", "own.yaml", "plain.yaml", cwd=tmp_path)
    assert check.stdout == "3 files, 3 entities: 0 errors, 0 warnings\n"


def test_init_refuses_a_schema_url_that_would_break_or_leak_from_the_file(tmp_path: Path) -> None:
    hostile = {
        "http://x.example\nkind: Evil": "spaces or control characters",
        "file:///etc/passwd": "must start with http:// or https://",
        "catalog.example.com": "must start with http:// or https://",
        "https://ann:secret@catalog.example.com": "credentials",
    }
    for url, words in hostile.items():
        result = run("init", "--schema-url", url, cwd=tmp_path)
        assert result.returncode == 2, url
        assert words in result.stderr, result.stderr
        assert "secret" not in result.stderr
    assert not (tmp_path / "catalog-info.yaml").exists()


def test_a_catalog_url_that_cannot_be_one_is_bad_usage(tmp_path: Path) -> None:
    (tmp_path / "catalog-info.yaml").write_bytes(STARTER_FILE)
    for url in ("file:///etc/passwd", "catalog.example.com:8080", "http://", "https://c.example.com/?a=1"):
        result = run("validate", "--catalog", url, cwd=tmp_path)
        assert result.returncode == 2, (url, result.stdout, result.stderr)
        assert result.stderr.startswith("catalog-sync validate: --catalog: the catalog URL"), result.stderr
        assert result.stdout == ""


def test_a_catalog_timeout_that_is_not_a_bounded_number_of_seconds_is_bad_usage(tmp_path: Path) -> None:
    (tmp_path / "catalog-info.yaml").write_bytes(STARTER_FILE)
    for value in ("0", "-5", "nan", "inf", "1e9", "ten", ""):
        result = run("validate", "--catalog", "http://127.0.0.1:9", "--catalog-timeout", value, cwd=tmp_path)
        assert result.returncode == 2, (value, result.stdout, result.stderr)
        assert "--catalog-timeout" in result.stderr, result.stderr
        assert "seconds" in result.stderr, result.stderr
        assert result.stdout == ""


def test_a_catalog_that_hangs_is_given_up_after_the_timeout(tmp_path: Path) -> None:
    (tmp_path / "catalog-info.yaml").write_bytes(STARTER_FILE)
    with tarpit() as port:
        started = time.monotonic()
        result = run(
            "validate", "--catalog", f"http://127.0.0.1:{port}", "--catalog-timeout", "1", cwd=tmp_path
        )
        spent = time.monotonic() - started
    assert result.returncode == 3, result.stderr
    assert result.stderr == (
        f"catalog-sync validate: http://127.0.0.1:{port} did not answer within 1 s (--catalog-timeout)\n"
    )
    assert result.stdout == ""
    assert (
        spent < 45
    )  # the process's own start dominates on a loaded machine; without a timeout it never ends


@pytest.mark.parametrize(
    ("status", "content_type", "body", "words"),
    [
        (200, "text/html", b"<html><body>Sign in</body></html>", "it answered text/html, not JSON"),
        (500, "application/json", b'{"error": "boom"}', "answered 500 to POST /api/catalog/entities/by-refs"),
        (200, "application/json", b"[1, 2]", "its answer has no items list"),
        (200, "application/json", b"[" * 5000 + b"]" * 5000, "its answer is JSON nested too deeply to read"),
        (302, "text/html", b"", "answered a redirect (302)"),
        (401, "application/json", b"{}", "set CATALOG_SYNC_TOKEN"),
    ],
)
def test_an_answer_that_is_not_a_catalogs_exits_3_and_says_what_came_back(
    tmp_path: Path, status: int, content_type: str, body: bytes, words: str
) -> None:
    (tmp_path / "catalog-info.yaml").write_bytes(STARTER_FILE)
    with answering(status, content_type, body) as url:
        result = run("validate", "--catalog", url.replace("http://", "http://ann:hunter2@"), cwd=tmp_path)
    assert result.returncode == 3, result.stdout + result.stderr
    assert words in result.stderr
    assert "hunter2" not in result.stderr
    assert result.stdout == ""


def test_a_catalog_nobody_listens_on_exits_3(tmp_path: Path) -> None:
    (tmp_path / "catalog-info.yaml").write_bytes(STARTER_FILE)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run("validate", "--catalog", f"http://127.0.0.1:{port}", cwd=tmp_path)
    assert result.returncode == 3
    assert "connection was refused or the host is unknown" in result.stderr


SCORECARD = """\
apiVersion: catalog/v1
kind: Scorecard
metadata: {name: docs}
spec:
  appliesTo: [kind=product]
  levels: [bronze]
  checks:
    - {id: readme, title: Readme, level: bronze, rule: {repoFile: {paths: [README.md]}}}
    - id: contributing
      title: Contributing guide
      level: bronze
      rule: {repoFile: {paths: [README, CONTRIBUTING.md]}}
"""


def test_a_repo_file_the_sync_never_records_is_a_warning_naming_the_setting(tmp_path: Path) -> None:
    (tmp_path / "docs.yaml").write_text(SCORECARD)
    result = run("validate", "docs.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert result.stdout.splitlines() == [
        "docs.yaml:1:1: warning: spec.checks[1].rule.repoFile.paths[1]: check 'contributing': "
        "CONTRIBUTING.md can never be seen, because only sync.fact_paths and the files directly inside "
        "their folders are recorded; add CONTRIBUTING.md to sync.fact_paths [scorecard:default/docs]",
        "1 file, 1 entity: 0 errors, 1 warning",
    ]
    (tmp_path / "catalog-sync.yaml").write_text("sync: {fact_paths: [README.md, README, CONTRIBUTING.md]}\n")
    configured = run("validate", "--config", "catalog-sync.yaml", "docs.yaml", cwd=tmp_path)
    assert configured.stdout == "1 file, 1 entity: 0 errors, 0 warnings\n"
