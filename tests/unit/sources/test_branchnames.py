"""Which default branches a host may list: every name git accepts, none that would change the fetch."""

from __future__ import annotations

import pytest

from catalog_sync.sources.branchnames import branch_problem, refused_default


@pytest.mark.parametrize(
    "name",
    [
        "main",
        "master",
        "trunk",
        "release/1.2",
        "feature/übersicht",
        "v1.0",
        "a.b-c_d",
        "refs/heads/x",
        "head",
        "HEAD2",
        "x/HEAD",
    ],
)
def test_every_name_git_accepts_is_a_branch(name: str) -> None:
    assert branch_problem(name) is None
    assert refused_default("acme/pay", name) is None


@pytest.mark.parametrize(
    "name",
    [
        "main\x00",
        "main\n",
        "\ud800",
        "a b",
        "a:b",
        "a*",
        "a?",
        "a[b",
        "a\\b",
        "a~1",
        "a^",
        "../main",
        "a..b",
        "-x",
        "@",
        "HEAD",
        "a@{1}",
        "/main",
        "main/",
        "a//b",
        ".hidden",
        "a/.b",
        "main.lock",
        "main.",
        "",
    ],
)
def test_a_name_git_refuses_or_reads_as_something_else_is_no_branch(name: str) -> None:
    assert branch_problem(name) is not None


def test_the_refusal_names_the_repository_and_shows_the_name_escaped() -> None:
    refused = refused_default("acme/pay", "main\x00--evil")
    assert refused is not None
    assert refused.startswith("acme/pay: the host's default branch 'main\\x00--evil' is not a branch name (")
    assert "\x00" not in refused
    assert refused_default("acme/pay", None) is None
    assert refused_default("acme/pay", "") is None
