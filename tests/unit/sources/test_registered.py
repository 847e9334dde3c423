"""The ``registered`` source: repositories registered through the API, listed by a plain callable."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog_sync.errors import ProtocolNotAllowedError, SourceError
from catalog_sync.sources import Source, build_source
from catalog_sync.sources.registered import REGISTERED_SOURCE, RegisteredRepository, registered_settings

CART = RegisteredRepository(
    1, "https://git.example.com/acme/cart.git#main", "https://git.example.com/acme/cart.git", "main"
)


def build(
    registrations: list[RegisteredRepository], tmp_path: Path, allowed: tuple[str, ...] = ("https",)
) -> Source:
    return build_source(
        registered_settings(),
        base_dir=str(tmp_path),
        cache_dir="cache",
        allowed_protocols=allowed,
        list_registered=lambda: list(registrations),
    )


def test_each_registration_is_listed_under_the_key_it_was_registered_with(tmp_path: Path) -> None:
    source = build([CART], tmp_path)
    assert source.name == REGISTERED_SOURCE
    [repository] = source.discover()
    assert repository.info.key == CART.key
    assert (repository.info.name, repository.info.url, repository.info.branch) == (
        "cart",
        CART.url,
        "main",
    )


def test_a_registration_made_after_the_source_was_built_is_listed_at_once(tmp_path: Path) -> None:
    registrations: list[RegisteredRepository] = []
    source = build(registrations, tmp_path)
    assert source.discover() == []
    registrations.append(CART)
    assert [r.info.key for r in source.discover()] == [CART.key]


def test_a_registration_this_configuration_refuses_answers_the_refusal_as_its_tip(tmp_path: Path) -> None:
    source = build([CART], tmp_path, allowed=("ssh",))
    [repository] = source.discover()
    assert repository.info.key == CART.key
    with pytest.raises(ProtocolNotAllowedError, match=r"not in sync\.allowed_protocols"):
        repository.tip()


def test_the_registered_source_needs_the_catalogs_list(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="registered"):
        build_source(
            registered_settings(), base_dir=str(tmp_path), cache_dir="c", allowed_protocols=("https",)
        )
