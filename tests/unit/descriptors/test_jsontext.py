"""JSON from outside is refused when nested too deeply, before the parser recurses into it."""

from __future__ import annotations

import json
import time

import pytest

from catalog_sync.descriptors import MAX_JSON_DEPTH, JsonTooDeepError, load_json


def nested(depth: int, opener: str = "[", closer: str = "]") -> str:
    return opener * depth + closer * depth


def test_four_hundred_thousand_nested_arrays_are_refused_at_once() -> None:
    started = time.thread_time()  # CPU time: a busy machine does not change it
    with pytest.raises(JsonTooDeepError, match=f"deeper than {MAX_JSON_DEPTH} levels"):
        load_json(nested(400_000).encode())
    assert time.thread_time() - started < 1.0


def test_objects_count_like_arrays_and_the_limit_is_exact() -> None:
    at_limit = '{"a":' * (MAX_JSON_DEPTH - 1) + "[]" + "}" * (MAX_JSON_DEPTH - 1)
    assert json.dumps(load_json(at_limit)).count("{") == MAX_JSON_DEPTH - 1
    with pytest.raises(JsonTooDeepError):
        load_json("[" + at_limit + "]")


def test_brackets_inside_strings_are_text_not_nesting() -> None:
    text = json.dumps({"entityRefs": ["[" * 5000, '\\"[[[', "]" * 10]})
    assert load_json(text)["entityRefs"][0] == "[" * 5000


def test_wide_documents_of_many_shallow_values_are_read() -> None:
    text = json.dumps([[i, {"k": [i]}] for i in range(20_000)])
    assert len(load_json(text)) == 20_000


def test_a_too_deep_document_is_a_value_error_like_any_unreadable_json() -> None:
    with pytest.raises(ValueError, match="deeper than"):
        load_json(nested(MAX_JSON_DEPTH + 1))
    with pytest.raises(ValueError, match="Expecting value"):
        load_json("[1,")


def test_a_string_left_open_over_many_escaped_quotes_is_refused_at_once() -> None:
    """Each escaped quote of a string that never closes must not start a scan to the end anew: 20,000
    of them cost ten seconds of CPU that way, and a body of megabytes hours."""
    text = '{"a": "' + '\\"[' * 15_000  # the brackets inside it are text, not nesting
    started = time.thread_time()
    with pytest.raises(ValueError, match="Unterminated string"):
        load_json(text)
    assert time.thread_time() - started < 1.0


def test_a_wide_document_of_many_strings_is_measured_in_about_the_time_it_is_parsed() -> None:
    """A webhook of 1.5 MB (a GitLab ``repository_update`` of 10,000 refs) is mostly short strings:
    measuring its nesting must cost about what parsing it does (it cost seven times as much)."""
    changes = [{"before": "1" * 40, "after": "c" * 40, "ref": f"refs/heads/t-{n}"} for n in range(10_000)]
    data = json.dumps({"changes": changes}).encode()
    measured, parsed = [], []
    for _ in range(3):
        started = time.thread_time()
        assert len(load_json(data)["changes"]) == 10_000
        measured.append(time.thread_time() - started)
        started = time.thread_time()
        json.loads(data)
        parsed.append(time.thread_time() - started)
    assert min(measured) < 4 * min(parsed), (min(measured), min(parsed))
