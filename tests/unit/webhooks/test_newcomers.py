"""Which sources a delivery for a repository no source lists yet asks to list: those of its host and owner
(or group) whose filters keep it and whose branch it is; a hostile or odd payload asks none."""

from __future__ import annotations

from typing import Any

import pytest

from catalog_sync.config import Settings, parse_settings
from catalog_sync.store.webhook_events import Created, GroupMoved, HostRepository, Lifecycle, Push
from plugin_api.webhooks.newcomers import listing_sources, naming_old_path

SETTINGS: Settings = parse_settings(
    {
        "sources": [
            {"name": "acme", "type": "github", "org": "Acme", "topics": {"exclude": ["internal"]}},
            {"name": "ghe", "type": "github", "org": "acme", "api_url": "https://ghe.example.com/api/v3"},
            {
                "name": "lab",
                "type": "gitlab",
                "group": "acme/platform",
                "api_url": "https://gl.example.com/api/v4",
            },
            {"name": "by-id", "type": "gitlab", "group": "42", "api_url": "https://gl.example.com/api/v4"},
            {
                "name": "release",
                "type": "gitlab",
                "group": "acme",
                "branch": "release",
                "api_url": "https://gl.example.com/api/v4",
            },
        ]
    },
    environ={},
)


def push(provider: str, netloc: str, branch: str | None = "main", commit: str | None = "a" * 40) -> Push:
    return Push(HostRepository(provider, "7", netloc), branch, "main", commit)


def github(**repository: Any) -> dict[str, Any]:
    return {"repository": {"full_name": "acme/fresh", **repository}}


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (github(), ("acme",)),
        (github(full_name="ACME/fresh"), ("acme",)),  # GitHub's owners are named without case
        (github(topics=["Internal"]), ()),
        (github(fork=True), ()),
        (github(archived=True), ()),
        (github(full_name="beta/fresh"), ()),
        (github(full_name="acme"), ()),
        (github(full_name=["acme/fresh"]), ()),
        (github(full_name="acme/team/fresh"), ()),
        (github(topics="internal"), ("acme",)),  # no list of topics: judged without them
        ({"repository": "acme/fresh"}, ()),
        ({}, ()),
    ],
)
def test_a_github_push_asks_the_sources_of_its_host_and_owner(
    document: dict[str, Any], expected: Any
) -> None:
    assert listing_sources(SETTINGS, push("github", "api.github.com"), document) == expected


def test_a_github_enterprise_push_asks_the_source_of_that_host_only() -> None:
    assert listing_sources(SETTINGS, push("github", "ghe.example.com"), github()) == ("ghe",)


@pytest.mark.parametrize(
    ("path", "branch", "expected"),
    [
        ("acme/platform/fresh", "main", ("lab",)),
        ("Acme/Platform/deep/fresh", "main", ("lab",)),  # subgroups, paths without case
        ("acme/platformer/fresh", "main", ()),  # a group whose name merely starts alike
        ("acme/other/fresh", "release", ("release",)),
        ("42/fresh", "main", ()),  # a group configured by id is matched by no path
        ("fresh", "main", ()),
    ],
)
def test_a_gitlab_push_asks_the_sources_whose_group_holds_it_on_their_branch(
    path: str, branch: str, expected: Any
) -> None:
    document = {"project": {"path_with_namespace": path}}
    assert listing_sources(SETTINGS, push("gitlab", "gl.example.com", branch), document) == expected


@pytest.mark.parametrize(
    "odd",
    [
        push("github", "api.github.com", branch=None),  # a tag
        push("github", "api.github.com", commit=None),  # a deleted branch
        Push(HostRepository("github", "7", None), "main", "main", "a" * 40),  # no host named
    ],
)
def test_a_push_that_reads_nothing_asks_no_listing(odd: Push) -> None:
    assert listing_sources(SETTINGS, odd, github()) == ()


def test_a_gitlab_push_with_no_project_path_asks_no_listing() -> None:
    for document in ({}, {"project": None}, {"project": {"path_with_namespace": 7}}):
        assert listing_sources(SETTINGS, push("gitlab", "gl.example.com"), document) == ()


def test_a_gitlab_project_created_on_an_instance_that_names_no_host_asks_the_only_gitlab_host() -> None:
    """Before GitLab 15.5 a system hook sends no ``X-Gitlab-Instance``: with one GitLab host configured,
    the creation can only be from it; with several, none is guessed."""
    created = Created(HostRepository("gitlab", "7", None))
    document = {"event_name": "project_create", "path_with_namespace": "acme/platform/fresh"}
    assert listing_sources(SETTINGS, created, document) == ("lab", "release")
    two_hosts = parse_settings(
        {
            "sources": [
                {
                    "name": "lab",
                    "type": "gitlab",
                    "group": "acme",
                    "api_url": "https://gl.example.com/api/v4",
                },
                {
                    "name": "other",
                    "type": "gitlab",
                    "group": "acme",
                    "api_url": "https://gl.other.org/api/v4",
                },
            ]
        },
        environ={},
    )
    assert listing_sources(two_hosts, created, document) == ()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("moved", ("acme",)),
        ("unarchived", ("acme",)),
        ("edited", ("acme",)),
        ("deleted", ()),
        ("archived", ()),
    ],
)
def test_a_repository_moved_or_unarchived_asks_the_sources_that_would_list_it_now(
    change: str, expected: Any
) -> None:
    """A move, an unarchiving or an edit (of its topics) can bring a repository into a source's reach;
    a deletion or an archiving never does."""
    lifecycle = Lifecycle(HostRepository("github", "7", "api.github.com"), change)
    assert listing_sources(SETTINGS, lifecycle, github()) == expected


def test_a_push_reaches_a_source_whose_api_url_spells_its_host_otherwise() -> None:
    spelled = parse_settings(
        {
            "sources": [
                {
                    "name": "ghe",
                    "type": "github",
                    "org": "acme",
                    "api_url": "https://GHE.example.com:443/api/v3",
                },
                {
                    "name": "lab",
                    "type": "gitlab",
                    "group": "acme",
                    "api_url": "http://GL.example.com:80/api/v4",
                },
            ],
            "sync": {"allowed_protocols": ["https", "http"]},
        },
        environ={},
    )
    assert listing_sources(spelled, push("github", "ghe.example.com"), github()) == ("ghe",)
    lab = {"project": {"path_with_namespace": "acme/fresh"}}
    assert listing_sources(spelled, push("gitlab", "gl.example.com"), lab) == ("lab",)


@pytest.mark.parametrize(
    ("old", "new", "group_id", "expected", "stale"),
    [
        # lab's own group, renamed: named by its old path, its listing fails until reconfigured;
        # release's group holds it: its projects' paths changed
        ("acme/platform", "acme/core", "9", ("lab", "release"), [("lab", "acme/core")]),
        # a parent of it: the source's path is gone too
        (
            "acme",
            "acme-corp",
            "9",
            ("lab", "release"),
            [("lab", "acme-corp/platform"), ("release", "acme-corp")],
        ),
        # a subgroup of it: its projects' paths changed, the source's did not
        ("acme/platform/tools", "acme/platform/kit", "9", ("lab", "release"), []),
        # the source already names the new path (configured before the hook came)
        ("acme/old", "acme/platform", "9", ("lab", "release"), []),
        # a source configured by the group's numeric id follows it by id
        ("beta", "gamma", "42", ("by-id",), []),
        ("beta", "gamma", "9", (), []),
        ("42", "gamma", "9", (), []),  # a group whose path is digits is not the group of that id
        ("ACME/Platform", "acme/core", "9", ("lab", "release"), [("lab", "acme/core")]),  # without case
    ],
)
def test_a_renamed_group_asks_the_gitlab_sources_of_it_its_parents_and_subgroups(
    old: str, new: str, group_id: str, expected: tuple[str, ...], stale: list[tuple[str, str]]
) -> None:
    moved = GroupMoved("gl.example.com", group_id, old, new)
    assert listing_sources(SETTINGS, moved, {}) == expected
    assert naming_old_path(SETTINGS, moved) == stale


def test_a_renamed_group_of_another_host_asks_no_listing() -> None:
    moved = GroupMoved("gl.other.org", "9", "acme/platform", "acme/core")
    assert listing_sources(SETTINGS, moved, {}) == ()
    unnamed = GroupMoved(None, "9", "acme/platform", "acme/core")  # the only GitLab host is taken
    assert listing_sources(SETTINGS, unnamed, {}) == ("lab", "release")
