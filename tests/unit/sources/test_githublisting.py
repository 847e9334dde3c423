"""GitHub's repository list read as untrusted input: what identifies a repository is checked (an entry
without it is skipped, saying why), the rest of the wrong type is read as absent."""

from __future__ import annotations

from typing import Any

import pytest

from catalog_sync.errors import HostApiError
from catalog_sync.sources.githublisting import (
    SKIPPED,
    listed_repository,
    owner_of,
    trim_installation_page,
    trim_page,
)


def entry(**changes: Any) -> dict[str, Any]:
    base = {
        "id": 42,
        "full_name": "acme/pay",
        "html_url": "https://github.com/acme/pay",
        "clone_url": "https://github.com/acme/pay.git",
        "default_branch": "main",
        "pushed_at": "2026-01-01T00:00:00Z",
        "topics": ["catalog"],
        "fork": False,
        "archived": False,
    }
    return base | changes


def test_a_repository_is_read_with_the_fields_the_source_uses() -> None:
    listed = listed_repository(entry())
    assert (listed["id"], listed["full_name"], listed["default_branch"]) == (42, "acme/pay", "main")
    assert listed["topics"] == ["catalog"]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"id": "42"}, "no numeric id"),
        ({"id": True}, "no numeric id"),
        ({"id": 0}, "no numeric id"),
        ({"id": 2**64}, "no numeric id"),
        ({"full_name": "acme/.."}, "no valid full_name"),
        ({"full_name": "../pay"}, "no valid full_name"),
        ({"full_name": "./pay"}, "no valid full_name"),
        ({"full_name": "acme/pay/x"}, "no valid full_name"),
        ({"full_name": "acme/pay\x00"}, "no valid full_name"),
        ({"full_name": None}, "no valid full_name"),
    ],
)
def test_a_repository_that_cannot_be_identified_is_skipped_with_the_reason(
    changes: dict[str, Any], reason: str
) -> None:
    with pytest.raises(HostApiError, match=reason):
        listed_repository(entry(**changes))
    page = trim_page([entry(), entry(**changes), entry(id=43, full_name="acme/shop")])
    assert [e.get("full_name") for e in page] == ["acme/pay", None, "acme/shop"]
    assert reason in page[1][SKIPPED]
    assert list(page[1]) == [SKIPPED]  # nothing of the entry is kept, so nothing of it is stored


def test_a_page_that_is_not_a_list_fails_the_listing() -> None:
    with pytest.raises(HostApiError, match="not a repository list"):
        trim_page({"items": [entry()]})


def test_other_fields_of_the_wrong_type_are_read_as_absent() -> None:
    listed = listed_repository(
        entry(
            default_branch=None,
            html_url=7,
            topics="catalog",
            archived="true",
            fork=1,
            pushed_at=None,
            disabled=1,
        )
    )
    assert listed["default_branch"] == listed["html_url"] == listed["pushed_at"] == ""
    assert listed["topics"] == []
    assert listed["archived"] is False
    assert listed["fork"] is False
    assert listed["disabled"] is False  # only GitHub's true retires a repository


def test_an_installations_page_is_read_as_its_repositories() -> None:
    page = trim_installation_page({"total_count": 2, "repositories": [entry(), entry(id="x")]})
    assert page[0]["full_name"] == "acme/pay"
    assert SKIPPED in page[1]
    with pytest.raises(HostApiError, match="not an installation's repository list"):
        trim_installation_page([entry()])


def test_the_owner_of_an_entry_is_its_logins_lower_case() -> None:
    assert owner_of(listed_repository(entry(full_name="Octo-Cat/pay"))) == "octo-cat"
