"""The body a fast path reads and then hands on is read again whole, in order, by whoever comes next."""

from __future__ import annotations

import io

from plugin_api.webhooks.fastpath import RewindableInput


def test_a_rewound_body_gives_what_was_read_then_the_rest() -> None:
    body = RewindableInput(io.BytesIO(b"0123456789"))
    assert body.read(4) == b"0123"
    body.rewind()
    assert body.read(6) == b"012345"
    assert body.read() == b"6789"
    assert body.read(3) == b""


def test_a_body_read_whole_is_read_whole_again() -> None:
    body = RewindableInput(io.BytesIO(b"line one\nline two\n"))
    assert body.read(-1) == b"line one\nline two\n"
    body.rewind()
    assert body.readline() == b"line one\n"
    assert body.read(None) == b"line two\n"


def test_lines_read_before_the_rewind_are_kept() -> None:
    body = RewindableInput(io.BytesIO(b"a\nb\nc\n"))
    assert body.readline() == b"a\n"
    body.rewind()
    assert body.read(4) == b"a\nb\n"
    assert body.readline() == b"c\n"
