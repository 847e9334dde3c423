"""Which files ``validate`` checks in a working copy, and the text and JSON reports."""

from __future__ import annotations

import json
import os
from pathlib import Path

from catalog_sync.config import DescriptorSettings
from catalog_sync.descriptors.files import check_paths, render_json, render_text

TEAM = "apiVersion: catalog/v1\nkind: Team\nmetadata:\n  name: {name}\n"
OWNERLESS = (
    "apiVersion: catalog/v1\nkind: Product\nmetadata:\n  name: p\n"
    "spec:\n  type: service\n  lifecycle: production\n  capabilities: [c]\n"
)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_folder_is_searched_with_the_descriptor_patterns(tmp_path: Path) -> None:
    _write(tmp_path / "catalog-info.yaml", TEAM.format(name="root"))
    _write(tmp_path / "services" / "a" / "catalog-info.yml", TEAM.format(name="a"))
    _write(tmp_path / ".catalog" / "teams.yaml", TEAM.format(name="t"))
    _write(tmp_path / ".catalog" / "deep" / "ignored.yaml", "not: [valid")
    _write(tmp_path / "docs" / "mkdocs.yaml", "not: [valid")
    _write(tmp_path / ".git" / "catalog-info.yaml", "not: [valid")
    results = check_paths([str(tmp_path)], DescriptorSettings())
    assert [Path(r.path).relative_to(tmp_path).as_posix() for r in results] == [
        "catalog-info.yaml",
        ".catalog/teams.yaml",
        "services/a/catalog-info.yml",
    ]
    assert not any(r.has_errors for r in results)


def test_a_folder_of_repositories_is_searched_from_each_repository_root(tmp_path: Path) -> None:
    _write(tmp_path / "platform" / ".catalog" / "teams.yaml", TEAM.format(name="t"))
    _write(
        tmp_path / "platform" / "catalog-info.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: more\n"
        "spec:\n  targets: [./org/extra.yaml, ../outside.yaml]\n",
    )
    _write(tmp_path / "platform" / "org" / "extra.yaml", TEAM.format(name="extra"))
    _write(tmp_path / "outside.yaml", "not: [valid")
    results = check_paths([str(tmp_path / "platform")], DescriptorSettings())
    paths = sorted({Path(r.path).resolve().relative_to(tmp_path).as_posix() for r in results})
    assert paths == ["platform/.catalog/teams.yaml", "platform/catalog-info.yaml", "platform/org/extra.yaml"]
    assert not any(r.has_errors for r in results)


def test_configured_patterns_replace_the_defaults(tmp_path: Path) -> None:
    _write(tmp_path / "catalog-info.yaml", TEAM.format(name="root"))
    _write(tmp_path / "org" / "team.yaml", TEAM.format(name="t"))
    results = check_paths([str(tmp_path)], DescriptorSettings(patterns=("org/*.yaml",)))
    assert [Path(r.path).name for r in results] == ["team.yaml"]


def test_a_named_file_is_checked_whatever_its_name(tmp_path: Path) -> None:
    named = _write(tmp_path / "notes.txt", TEAM.format(name="t"))
    results = check_paths([str(named)], DescriptorSettings())
    assert [(r.path, r.has_errors, len(r.documents)) for r in results] == [(str(named), False, 1)]


def test_symbolic_links_are_refused_named_or_found(tmp_path: Path) -> None:
    target = _write(tmp_path / "elsewhere" / "real.yaml", TEAM.format(name="t"))
    repo = tmp_path / "repo"
    repo.mkdir()
    os.symlink(target, repo / "catalog-info.yaml")
    os.symlink(tmp_path / "elsewhere", repo / ".catalog")
    (repo / "sub").mkdir()
    os.symlink(target, repo / "sub" / "catalog-info.yaml")
    results = check_paths([str(repo), str(repo / "catalog-info.yaml")], DescriptorSettings())
    assert [(Path(r.path).relative_to(repo).as_posix(), r.has_errors) for r in results] == [
        ("catalog-info.yaml", True),
        ("sub/catalog-info.yaml", True),
        ("catalog-info.yaml", True),
    ]
    assert all("symbolic link" in r.problems[0].message for r in results)
    assert all(r.documents == [] for r in results)


def test_an_oversize_file_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    big = _write(tmp_path / "catalog-info.yaml", "a: b\n" * 1000)
    [result] = check_paths([str(big)], DescriptorSettings(max_file_bytes=1000))
    assert result.problems[0].message.startswith("file is larger than the limit of 1000 bytes")


def test_a_missing_path_and_a_non_file_are_errors_of_their_own(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    results = check_paths([str(tmp_path / "nope.yaml"), str(tmp_path / "pipe")], DescriptorSettings())
    assert [r.problems[0].message for r in results] == ["no such file or folder", "not a regular file"]


def test_text_report_has_one_line_per_problem_then_a_summary(tmp_path: Path) -> None:
    good = _write(tmp_path / "a.yaml", TEAM.format(name="a") + "---\n" + OWNERLESS)
    bad = _write(tmp_path / "b.yaml", TEAM.format(name="bad name"))
    text = render_text(check_paths([str(good), str(bad)], DescriptorSettings()))
    assert text.splitlines() == [
        f"{good}:10:1: warning: spec.owner: no owner; this entity counts as an ownership gap "
        "[product:default/p]",
        f"{bad}:4:9: error: metadata.name: must start and end with a letter or digit and hold only letters, "
        "digits, '-', '_' and '.' [team:default/bad name]",
        "2 files, 3 entities: 1 error, 1 warning",
    ]
    assert render_text([]) == "0 files, 0 entities: 0 errors, 0 warnings\n"


def test_json_report_lists_files_entities_problems_and_counts(tmp_path: Path) -> None:
    good = _write(tmp_path / "a.yaml", OWNERLESS)
    bad = _write(tmp_path / "b.yaml", "kind: [")
    report = json.loads(render_json(check_paths([str(good), str(bad)], DescriptorSettings())))
    assert report["valid"] is False
    assert report["counts"] == {"files": 2, "entities": 1, "errors": 1, "warnings": 1}
    first, second = report["files"]
    assert first["path"] == str(good)
    assert first["valid"] is True
    assert first["entities"] == [
        {"index": 0, "line": 1, "column": 1, "entityRef": "product:default/p", "valid": True}
    ]
    assert first["problems"][0]["severity"] == "warning"
    assert second["valid"] is False
    assert second["entities"] == []
    assert second["problems"][0]["message"].startswith("malformed YAML")
    assert set(report["problems"][0]) == {
        "path",
        "severity",
        "message",
        "line",
        "column",
        "field",
        "entityRef",
    }
    assert len(report["problems"]) == 2
