"""Which folders a scan must open for ``descriptors.patterns``: never fewer than the matches need."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from catalog_sync.config import DEFAULT_PATTERNS
from catalog_sync.descriptors.patterns import compile_patterns, folder_globs


def opens(patterns: tuple[str, ...], folder: str) -> bool:
    globs = folder_globs(patterns)
    states = globs.start()
    for name in folder.split("/")[:-1]:
        states = globs.step(states, name)
    return globs.may_hold(states)


def test_narrow_patterns_open_only_the_folders_they_name() -> None:
    patterns = (".catalog/*.yaml", "catalog-info.yaml", "services/*/catalog-info.yaml")
    assert opens(patterns, ".catalog/")
    assert opens(patterns, "services/pay/")
    assert not opens(patterns, ".catalog/deeper/")
    assert not opens(patterns, "services/pay/src/")
    assert not opens(patterns, "vendor/")


def test_a_pattern_across_folders_opens_every_folder() -> None:
    assert opens(DEFAULT_PATTERNS, "vendor/a/b/c/")
    assert opens(("docs/**",), "docs/a/b/")
    assert not opens(("docs/**",), "src/")


def test_a_character_class_may_hide_a_slash_so_everything_below_it_is_opened() -> None:
    # "[!x]" matches "/" in the full-path pattern: "a[!x]b.yaml" matches "a/b.yaml".
    assert compile_patterns(("a[!x]b.yaml",)).match("a/b.yaml")
    assert opens(("a[!x]b.yaml",), "a/")
    assert not opens(("src/a[!x]b.yaml",), "lib/")


_PARTS = st.sampled_from(["a", "b", "ab", "*", "?", "**", "a*", "*b", "[ab]", "[!a]", "**a", "."])
_NAMES = st.sampled_from(["a", "b", "ab", "ba", "aa", "x", ".", "a.b"])


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.lists(_PARTS, min_size=1, max_size=4).map("/".join), min_size=1, max_size=3),
    st.lists(_NAMES, min_size=1, max_size=5).map("/".join),
)
def test_no_folder_holding_a_match_is_ever_skipped(patterns: list[str], path: str) -> None:
    if compile_patterns(tuple(patterns)).match(path) is None:
        return
    parts = path.split("/")
    for depth in range(1, len(parts)):
        folder = "/".join(parts[:depth]) + "/"
        assert opens(tuple(patterns), folder), (patterns, path, folder)
