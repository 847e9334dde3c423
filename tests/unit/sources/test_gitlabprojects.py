"""GitLab's listing entries read as untrusted input, the repository key, and the group path."""

from __future__ import annotations

from typing import Any

import pytest

from catalog_sync.errors import HostApiError, SourceError
from catalog_sync.sources.gitlabprojects import (
    api_netloc,
    group_reference,
    parse_project,
    project_key,
)


def entry(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": 42,
        "path": "svc-pay",
        "path_with_namespace": "acme/platform/svc-pay",
        "default_branch": "main",
        "archived": False,
        "topics": ["Catalog"],
        "last_activity_at": "2024-05-01T10:00:00.000Z",
        "web_url": "https://gitlab.example.com/acme/platform/svc-pay",
        "http_url_to_repo": "https://gitlab.example.com/acme/platform/svc-pay.git",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not ...}


def test_a_project_is_read_with_its_id_and_lower_cased_topics() -> None:
    project = parse_project(entry(forked_from_project={"id": 7}), "page 1")
    assert project.id == 42
    assert project.topics == ("catalog",)
    assert project.fork
    assert not parse_project(entry(), "page 1").fork


@pytest.mark.parametrize(
    ("value", "empty"),
    [(True, True), (False, False), (..., False), ("true", False), (1, False), (None, False)],
)
def test_only_a_true_empty_repo_marks_a_project_empty(value: Any, empty: bool) -> None:
    """An empty project is read as holding nothing; anything but ``true`` is read as a project with
    commits, whose missing branch then fails it, as before."""
    assert parse_project(entry(empty_repo=value), "page 1").empty_repo is empty


@pytest.mark.parametrize(
    ("changes", "pending"),
    [
        ({"marked_for_deletion_on": "2026-12-01"}, True),
        ({"marked_for_deletion_at": "2026-12-01"}, True),  # GitLab before 16 names it so
        ({"marked_for_deletion_on": None, "marked_for_deletion_at": None}, False),
        ({"marked_for_deletion_on": ""}, False),
        ({"marked_for_deletion_on": 20261201}, False),  # no date: read as not deleted
        ({}, False),  # GitLab Free before 18 sends neither
    ],
)
def test_a_project_pending_deletion_is_told_by_its_day(changes: dict[str, Any], pending: bool) -> None:
    assert parse_project(entry(**changes), "page 1").pending_deletion is pending


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"id": "42"}, "'id'"),
        ({"id": True}, "'id'"),
        ({"id": -1}, "'id'"),
        ({"id": ...}, "'id'"),
        ({"path_with_namespace": None}, "'path_with_namespace'"),
        ({"web_url": "x" * 5000}, "'web_url'"),
        ({"archived": "no"}, "'archived'"),
        ({"topics": "catalog"}, "'topics'"),
        ({"topics": ["a"] * 500}, "'topics'"),
        ({"topics": [1]}, "'topics'"),
        ({"default_branch": 3}, "'default_branch'"),
        ({"id": 2**64}, "'id'"),
        ({"path": ".."}, "'path'"),
        ({"path": "..."}, "'path'"),
        ({"path": "pay\x00"}, "'path'"),
        ({"path_with_namespace": "acme/../pay"}, "'path_with_namespace'"),
        ({"path_with_namespace": "acme/\ud800"}, "'path_with_namespace'"),
        ({"path_with_namespace": "acme/pay\n[ok] all fine"}, "'path_with_namespace'"),
        ({"path_with_namespace": "/".join(["g"] * 30)}, "'path_with_namespace'"),
    ],
)
def test_a_hostile_entry_is_refused_naming_its_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(HostApiError) as refused:
        parse_project(entry(**changes), "source 'gl': listing page 2")
    assert field in str(refused.value)
    assert "listing page 2" in str(refused.value)


def test_an_entry_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(HostApiError, match="not an object"):
        parse_project(["id", 1], "page 1")


def test_the_key_names_the_api_host_and_port_lower_cased_and_the_id() -> None:
    assert api_netloc("https://GitLab.Example.com/api/v4") == "gitlab.example.com"
    assert api_netloc("http://127.0.0.1:8080/api/v4") == "127.0.0.1:8080"
    assert (
        project_key(api_netloc("https://GitLab.Example.com:8443/api/v4"), 42)
        == "gitlab:gitlab.example.com:8443:42"
    )


@pytest.mark.parametrize(
    "group", ["acme/../admin", "..", "./acme", "acme//x", "", "acme/", "a?b", "a%2F..", "a b"]
)
def test_a_group_path_that_is_not_one_is_refused(group: str) -> None:
    with pytest.raises(SourceError, match="group"):
        group_reference(group, "gl")


def test_a_group_path_is_one_encoded_segment() -> None:
    assert group_reference("acme/platform.core", "gl") == "acme%2Fplatform.core"
    assert group_reference(".acme/.templates", "gl") == ".acme%2F.templates"
