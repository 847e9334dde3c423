"""GitLab's ``group_rename`` system hook: a group renamed or moved changes the path and URL of every
project below it, and GitLab sends no event per project. The sources whose group is that group, a
parent or a subgroup list at once, against the local GitLab with the real ``gitlab`` source, on
SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.fixtures.fakegitlab import FakeGitLab
from tests.fixtures.hosted import body_of, gitlab_group_rename, gitlab_headers
from tests.integration.conftest import Catalog, product_yaml
from tests.integration.test_gitlab_sync import source_row
from tests.integration.webhooks.conftest import LAB_TOKEN, World
from tests.integration.webhooks.test_push_order import use_gitlab


def group_renamed(client: FlaskClient, gitlab: FakeGitLab, old: str, new: str) -> Any:
    """Rename ``old`` to ``new`` on the local GitLab and deliver its system hook; answers the answer."""
    group = gitlab.rename_group(old, new)
    body = body_of(gitlab_group_rename(group.id, new, old))
    headers = gitlab_headers(LAB_TOKEN, "System Hook") | {"X-Gitlab-Instance": gitlab.origin}
    answer = client.post("/api/webhooks/gitlab", data=body, headers=headers)
    assert answer.status_code == 202, answer.get_json()
    return answer.get_json()


def location(catalog: Catalog, name: str) -> str:
    entity = catalog.entity(f"product:default/{name}")
    assert entity is not None
    return str(entity["body"]["metadata"]["annotations"]["backstage.io/managed-by-location"])


def test_a_renamed_subgroups_projects_take_their_new_path_at_once(
    catalog: Catalog, gitlab: FakeGitLab
) -> None:
    gitlab.add_project("acme/platform", "pay", files={"catalog-info.yaml": product_yaml("pay")})
    client = use_gitlab(catalog, gitlab)
    catalog.sync()
    uid = catalog.entity("product:default/pay")["uid"]  # type: ignore[index]

    answer = group_renamed(client, gitlab, "acme/platform", "acme/core")
    catalog.sync(everything=False)  # the worker loop's next pass, before the next interval

    assert answer == {"accepted": True, "repositories": [], "listing": ["acme-gl"]}
    row = catalog.repository("acme/core/pay")
    assert (row["url"], row["state"]) == (f"{gitlab.origin}/acme/core/pay", "ok")
    assert location(catalog, "pay").startswith(f"url:{gitlab.origin}/acme/core/pay/")
    assert catalog.entity("product:default/pay")["uid"] == uid  # type: ignore[index]


def test_a_source_naming_the_old_path_fails_says_why_and_removes_nothing(
    catalog: Catalog, gitlab: FakeGitLab, caplog: pytest.LogCaptureFixture
) -> None:
    gitlab.add_project("acme/platform", "pay", files={"catalog-info.yaml": product_yaml("pay")})
    client = use_gitlab(catalog, gitlab)
    catalog.sync()

    with caplog.at_level(logging.WARNING, logger="plugin_api.webhooks.receive"):
        answer = group_renamed(client, gitlab, "acme", "acme-corp")
    catalog.sync(everything=False)

    assert answer["listing"] == ["acme-gl"]
    assert "source 'acme-gl' names its old path" in caplog.text
    assert "sets its group to 'acme-corp'" in caplog.text
    error = source_row(catalog)["last_error"] or ""
    assert "404" in error, error
    assert "if group 'acme' was renamed or moved, set the source's group to its new path" in error
    assert catalog.repository("acme/platform/pay")["removed_at"] is None
    assert catalog.entity("product:default/pay")["orphaned_at"] is None  # type: ignore[index]


def test_a_group_no_source_reaches_asks_no_listing(catalog: Catalog, gitlab: FakeGitLab) -> None:
    gitlab.add_project("acme", "pay", files={"catalog-info.yaml": product_yaml("pay")})
    gitlab.add_project("other/tools", "kit", files={"README.md": "# kit\n"})
    client = use_gitlab(catalog, gitlab)
    catalog.sync()

    answer = group_renamed(client, gitlab, "other", "elsewhere")

    assert "no gitlab source" in answer["ignored"]
    assert source_row(catalog)["listing_requested_at"] is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("full_path", None),
        ("old_full_path", ""),
        ("full_path", "acme\nplatform"),
        ("group_id", "9"),
        ("group_id", -1),
    ],
)
def test_a_broken_group_rename_is_refused_naming_its_field(world: World, field: str, value: Any) -> None:
    document = gitlab_group_rename(9, "acme/core", "acme/platform") | {field: value}
    answer = world.client.post(
        "/api/webhooks/gitlab", data=body_of(document), headers=gitlab_headers(LAB_TOKEN, "System Hook")
    )
    assert answer.status_code == 400
    assert field in answer.get_json()["error"]["message"]
    assert world.deliveries() == []
