"""Text from repositories printed on a terminal: shown, never obeyed."""

from __future__ import annotations

import pytest

from catalog_sync.textsafe import escape_controls

UNSAFE = [chr(c) for c in [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029, *range(0x202A, 0x202F)]] + [
    chr(c) for c in range(0x2066, 0x206A)
]


@pytest.mark.parametrize("char", UNSAFE, ids=lambda c: f"U+{ord(c):04X}")
def test_every_control_separator_and_bidi_character_becomes_a_visible_escape(char: str) -> None:
    shown = escape_controls(f"a{char}b")
    assert shown.startswith("a\\")
    assert shown.endswith("b")
    assert shown.isprintable()


def test_escapes_read_as_in_python() -> None:
    assert escape_controls("x\ny\rz\tw") == "x\\ny\\rz\\tw"
    assert escape_controls("\x1b[31mred\x9b") == "\\x1b[31mred\\x9b"
    assert escape_controls("abc\u202e.yaml\u2066") == "abc\\u202e.yaml\\u2066"
    assert escape_controls("bad-\udcff.yaml") == "bad-\\udcff.yaml"


def test_ordinary_text_is_left_alone() -> None:
    text = "services/pay/catalog-info.yaml:12:5: error: spec.owner: must match ^[a-z]\\d+$ [é, 名前, ✓]"
    assert escape_controls(text) == text
