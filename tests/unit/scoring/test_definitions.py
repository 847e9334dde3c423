"""Which scorecards are evaluated: the built-in ones, files, the catalog's, and which wins a name."""

from __future__ import annotations

from pathlib import Path

from catalog_sync.config import parse_settings
from catalog_sync.model import Entity
from catalog_sync.scoring.definitions import (
    ScorecardFiles,
    build_scorecard,
    merge_definitions,
    read_file_scorecards,
    unseeable_paths,
)

SPEC = {
    "appliesTo": ["kind=product"],
    "levels": ["ok"],
    "checks": [{"id": "a", "title": "A", "level": "ok", "rule": {"field": "spec.a", "minItems": 1}}],
}


def scorecard(name: str, namespace: str = "default", applies: list[str] | None = None) -> Entity:
    spec = {**SPEC, "appliesTo": applies or SPEC["appliesTo"]}
    return Entity("catalog/v1", "Scorecard", {"name": name, "namespace": namespace}, spec)


def test_the_built_in_scorecards_are_valid_and_named_apart_from_the_examples() -> None:
    cards, problems = read_file_scorecards(parse_settings({}, environ={}))
    assert problems == []
    assert {card.name for card in cards} == {"product-readiness", "service-basics"}
    readiness = next(card for card in cards if card.name == "product-readiness")
    assert readiness.levels == ("bronze", "silver", "gold")
    assert {"ownerResolves", "ownerTeamHasRoles", "capabilityAligned", "plugin"} <= readiness.forms
    assert read_file_scorecards(parse_settings({"scorecards": {"builtin": False}}, environ={})) == ([], [])


def test_a_field_rule_keeps_its_operators() -> None:
    card = build_scorecard(scorecard("s"), "catalog")
    assert (card.checks[0].form, card.checks[0].rule) == ("field", {"field": "spec.a", "minItems": 1})


def test_the_catalog_wins_a_name_then_files_then_built_ins(tmp_path: Path) -> None:
    builtin = build_scorecard(scorecard("shared"), "builtin")
    configured = build_scorecard(scorecard("shared"), "file")
    problems: list[str] = []
    merged = merge_definitions([builtin, configured], [], problems)
    assert [(c.name, c.origin) for c in merged.scorecards] == [("shared", "file")]
    catalog = [
        ("scorecard:other/shared", scorecard("shared", "other")),
        ("scorecard:default/shared", scorecard("shared")),
    ]
    merged = merge_definitions([builtin], catalog, problems)
    assert [(c.name, c.entity_ref) for c in merged.scorecards] == [("shared", "scorecard:default/shared")]
    assert problems == ["scorecard scorecard:other/shared has the name of another catalog scorecard; ignored"]


def test_an_unusable_scorecard_is_left_out_with_the_reason() -> None:
    problems: list[str] = []
    merged = merge_definitions([], [("scorecard:default/bad", scorecard("bad", applies=[","]))], problems)
    assert merged.scorecards == []
    assert problems == [
        "scorecard scorecard:default/bad cannot be used: appliesTo: selects nothing: "
        "give at least one filter such as kind=product"
    ]


def test_a_configured_file_that_is_not_a_scorecard_is_reported(tmp_path: Path) -> None:
    (tmp_path / "cards").mkdir()
    (tmp_path / "cards" / "team.yaml").write_text("apiVersion: catalog/v1\nkind: Team\nmetadata: {name: t}\n")
    (tmp_path / "cards" / "broken.yaml").write_text("kind: [\n")
    settings = parse_settings(
        {"scorecards": {"builtin": False, "paths": ["cards", "missing.yaml"]}}, str(tmp_path), {}
    )
    cards, problems = read_file_scorecards(settings)
    assert cards == []
    assert any("team.yaml: Team t is not a Scorecard; ignored" in p for p in problems)
    assert any("broken.yaml" in p and "error" in p for p in problems)
    assert any("missing.yaml: cannot be read" in p for p in problems)


CARD = """\
apiVersion: catalog/v1
kind: Scorecard
metadata: {name: %s}
spec:
  appliesTo: [kind=product]
  levels: [ok]
  checks:
    - {id: people, title: Someone to call, level: ok, rule: {ownerTeamMinMembers: %d}}
"""


def test_scorecard_files_are_parsed_again_only_when_they_change(tmp_path: Path) -> None:
    cards_dir = tmp_path / "cards"
    cards_dir.mkdir()
    (cards_dir / "a.yaml").write_text(CARD % ("alpha", 1))
    settings = parse_settings({"scorecards": {"builtin": False, "paths": ["cards"]}}, str(tmp_path), {})
    files = ScorecardFiles()
    first, _ = read_file_scorecards(settings, files)
    again, _ = read_file_scorecards(settings, files)
    assert files.parses == 1  # the second read found the same bytes
    assert again == first
    # Rewritten at once with the same length: only its bytes tell the edit apart.
    (cards_dir / "a.yaml").write_text(CARD % ("alpha", 3))
    (cards_dir / "b.yaml").write_text(CARD % ("beta", 1))
    edited, _ = read_file_scorecards(settings, files)
    assert [(c.name, c.checks[0].rule) for c in edited] == [("alpha", 3), ("beta", 1)]
    assert files.parses == 3
    (cards_dir / "b.yaml").unlink()
    assert [c.name for c in read_file_scorecards(settings, files)[0]] == ["alpha"]
    assert files.parses == 3


def test_a_file_that_stops_parsing_keeps_its_problems_on_every_read(tmp_path: Path) -> None:
    (tmp_path / "card.yaml").write_text("kind: [\n")
    settings = parse_settings({"scorecards": {"builtin": False, "paths": ["card.yaml"]}}, str(tmp_path), {})
    files = ScorecardFiles()
    first = read_file_scorecards(settings, files)
    assert first[0] == []
    assert any("card.yaml" in problem for problem in first[1])
    assert read_file_scorecards(settings, files) == first
    assert files.parses == 1


def test_a_repo_file_path_the_sync_never_records_is_a_warning_when_the_scorecard_loads() -> None:
    spec = {
        "appliesTo": ["kind=product"],
        "levels": ["ok"],
        "checks": [
            {
                "id": "docs",
                "title": "Docs",
                "level": "ok",
                "rule": {"repoFile": {"paths": ["docs/index.md"]}},
            },
            {
                "id": "deep",
                "title": "Deep",
                "level": "ok",
                "rule": {"repoFile": {"paths": ["docs/a/b.md", "x.md"]}},
            },
        ],
    }
    card = build_scorecard(Entity("catalog/v1", "Scorecard", {"name": "docs"}, spec), "catalog")
    warnings = unseeable_paths([card], ["docs/", "x.md"])
    assert warnings == [
        "scorecard 'docs', check 'deep': docs/a/b.md can never be seen, because only sync.fact_paths and the"
        " files directly inside their folders are recorded; add docs/a/b.md to sync.fact_paths"
    ]
    assert unseeable_paths([card], ["docs/index.md", "docs/a/b.md", "x.md"]) == []
