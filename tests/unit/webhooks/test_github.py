"""What GitHub's ``repository`` ``edited`` event asks: its sources listed again when the default branch
or the topics changed (what the sources read, and what their filters keep); any other edit, or a
``changes`` GitHub never sends, asks nothing."""

from __future__ import annotations

from typing import Any

import pytest

from catalog_sync.store.webhook_events import Lifecycle
from plugin_api.webhooks.github import read_event
from tests.fixtures.hosted import github_repository_event


@pytest.mark.parametrize(
    ("changes", "follows"),
    [
        ({"default_branch": {"from": "master"}}, True),
        ({"topics": {"from": ["catalog"]}}, True),
        ({"description": {"from": "old"}, "topics": {"from": None}}, True),
        ({"description": {"from": "old"}}, False),
        ({"homepage": {"from": None}}, False),
        ({}, False),
        ("default_branch", False),
        (["default_branch"], False),
        (None, False),
    ],
)
def test_an_edit_is_followed_only_when_it_changes_the_branch_or_the_topics(
    changes: Any, follows: bool
) -> None:
    document = github_repository_event(101, "edited")
    document["changes"] = changes

    action, ignored = read_event("repository", document)

    if follows:
        assert isinstance(action, Lifecycle)
        assert (action.change, action.repository.host_id, ignored) == ("edited", "101", None)
    else:
        assert action is None
        assert ignored == "the repository action 'edited' changes nothing the catalog keeps"
