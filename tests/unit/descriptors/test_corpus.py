"""The invalid corpus: one defect per document, each with the message, line and column a developer sees.

Textual defects live as files under ``corpus/``; the first line of each says what is expected:
``# expect: LINE[:COL] FIELD: MESSAGE FRAGMENT`` (FIELD ``-`` when the problem names no field).
Inputs that cannot be written as a readable file (binary, huge, alias bombs) are generated below.
"""

from __future__ import annotations

import gc
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from catalog_sync.descriptors import LoadLimits, parse_file
from catalog_sync.descriptors.loader import load_documents
from catalog_sync.errors import DescriptorError

CORPUS = Path(__file__).parent / "corpus"
_EXPECT = re.compile(r"^# expect: (\d+)(?::(\d+))? (\S+?):? (.+)$")


@dataclass(frozen=True)
class Expectation:
    """What one corpus file must produce: exactly one error, here, saying this."""

    line: int
    column: int | None
    field: str | None
    fragment: str


def read_expectation(path: Path) -> Expectation:
    """The ``# expect:`` header of a corpus file."""
    match = _EXPECT.match(path.read_text(encoding="utf-8").splitlines()[0])
    assert match, f"{path.name}: first line must be '# expect: LINE[:COL] FIELD: MESSAGE'"
    field = None if match[3] == "-" else match[3]
    return Expectation(int(match[1]), int(match[2]) if match[2] else None, field, match[4])


CORPUS_FILES = sorted(CORPUS.glob("*.yaml"))


def test_corpus_is_large_enough_to_cover_section_1() -> None:
    assert len(CORPUS_FILES) + len(HOSTILE) >= 45


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.stem)
def test_each_corpus_file_has_exactly_its_one_error(path: Path) -> None:
    expected = read_expectation(path)
    parsed = parse_file(f"repo/{path.name}", path.read_bytes(), LoadLimits())
    errors = [p for p in parsed.all_problems() if p.severity == "error"]
    assert len(errors) == 1, [p.format() for p in errors]
    error = errors[0]
    assert expected.fragment in error.message, error.format()
    assert (error.line, error.field) == (expected.line, expected.field), error.format()
    if expected.column is not None:
        assert error.column == expected.column, error.format()
    assert error.path == f"repo/{path.name}"
    assert parsed.has_errors
    assert all(document.entity is None for document in parsed.documents)


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.stem)
def test_pure_python_parser_reports_the_same_as_libyaml(path: Path) -> None:
    data = path.read_bytes()

    def outcome(pure: bool) -> object:
        try:
            return [
                (d.index, d.mark, d.value, d.problems) for d in load_documents(data, LoadLimits(), pure=pure)
            ]
        except DescriptorError as exc:
            return ("failure", exc.line, exc.column)

    assert outcome(pure=True) == outcome(pure=False)


def test_an_error_names_the_entity_when_kind_and_name_are_readable() -> None:
    path = CORPUS / "product-lifecycle-bad.yaml"
    error = parse_file("services/pay/catalog-info.yaml", path.read_bytes(), LoadLimits()).all_problems()[0]
    assert error.format() == (
        "services/pay/catalog-info.yaml:8:14: error: spec.lifecycle: must be one of experimental, "
        "production, deprecated, retired [product:default/payments-api]"
    )
    parsed = parse_file("x.yaml", path.read_bytes(), LoadLimits())
    assert parsed.documents[0].ref == "product:default/payments-api"
    assert parsed.documents[0].entity is None


# --- hostile input that is generated rather than written by hand -------------------------------------


def _alias_bomb(levels: int = 9) -> bytes:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        name, previous = chr(ord("a") + i), chr(ord("a") + i - 1)
        lines.append(f"{name}: &{name} [{','.join([f'*{previous}'] * 9)}]")
    return ("\n".join(lines) + "\n").encode()


def _deep_block(depth: int) -> bytes:
    return ("a:\n" + "".join("  " * i + "- \n" for i in range(1, depth))).encode()


@dataclass(frozen=True)
class Hostile:
    """A generated hostile input and the file-level error it must give."""

    data: bytes
    fragment: str
    line: int | None
    column: int | None
    limits: LoadLimits = field(default_factory=LoadLimits)


HOSTILE: dict[str, Hostile] = {
    "alias-bomb": Hostile(_alias_bomb(), "aliases expand to more than 100000 values", 6, 8),
    "alias-bomb-small-budget": Hostile(
        _alias_bomb(3), "aliases expand to more than 50 values", 2, 17, LoadLimits(max_nodes=50)
    ),
    "oversize": Hostile(b"a: b\n" * 300_000, "larger than the limit of 1048576 bytes", None, None),
    "oversize-configured": Hostile(
        b"a: b\n" * 30, "larger than the limit of 100 bytes", None, None, LoadLimits(100)
    ),
    "not-utf8": Hostile(
        b"kind: Team\nmetadata: {name: caf" + b"\xe9}\n", "invalid byte 0xe9 at byte offset 31", 2, 21
    ),
    "utf16": Hostile("kind: Team\n".encode("utf-16"), "binary file (NUL byte at byte offset 3)", 1, 4),
    "binary": Hostile(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "binary file (NUL byte at byte offset 8)", 3, 1),
    "deep-flow": Hostile(b"a: " + b"[" * 500_000, "nesting deeper than 64 levels", 1, 67),
    "deep-flow-on-a-later-line": Hostile(
        "name: café\nspec: ".encode() + b"[" * 5000, "nesting deeper than 64 levels", 2, 70
    ),
    "deep-block": Hostile(_deep_block(200), "nesting deeper than 64 levels", 65, 129),
    "deep-configured": Hostile(
        b"a: {b: {c: {d: 1}}}\n", "nesting deeper than 3 levels", 1, 12, LoadLimits(max_depth=3)
    ),
    "too-many-values": Hostile(
        b"a: [" + b"1," * 2000 + b"1]\n",
        "a document holds more than 1000 values",
        1,
        1999,
        LoadLimits(max_nodes=1000),
    ),
    "recursive-alias": Hostile(b"a: &a [1, *a]\n", "alias *a refers to a collection that contains it", 1, 11),
    "control-character": Hostile(
        "kind: Tëam\nspec: é\x07\n".encode(), "control characters are not allowed (character #x07)", 2, 8
    ),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_input_is_one_error_on_the_file_and_no_document(name: str) -> None:
    case = HOSTILE[name]
    parsed = parse_file("bad.yaml", case.data, case.limits)
    assert parsed.documents == []
    assert len(parsed.problems) == 1
    problem = parsed.problems[0]
    assert problem.severity == "error"
    assert case.fragment in problem.message
    assert (problem.line, problem.column) == (case.line, case.column)


def test_alias_bomb_fails_fast_and_small_in_a_fresh_process() -> None:
    code = (
        "import resource, sys, time\n"
        "from catalog_sync.descriptors import LoadLimits, parse_file\n"
        "data = sys.stdin.buffer.read()\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "start = time.perf_counter()\n"
        "parsed = parse_file('bomb.yaml', data, LoadLimits())\n"
        "print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)\n"
        "print(parsed.problems[0].message)\n"
    )
    bomb = _alias_bomb(12)  # 9**12 values if it were expanded
    result = subprocess.run(
        [sys.executable, "-c", code], input=bomb, capture_output=True, check=True, timeout=60
    )
    seconds, grown_kib = result.stdout.decode().splitlines()[0].split()
    assert "alias bomb" in result.stdout.decode()
    assert float(seconds) < 0.5
    assert int(grown_kib) < 64 * 1024  # well under 64 MiB of growth


def test_hostile_inputs_fail_quickly() -> None:
    # CPU time of this thread, not the wall clock: the bound is on the work a hostile file causes,
    # which other processes on a busy machine do not change. The collector is held off while it is
    # measured: a full collection of the heap the test process built before (a whole suite's, under
    # xdist) would be charged to whichever allocation set it off, and is no work of the file's.
    for name, case in HOSTILE.items():
        gc.collect()
        gc.disable()
        try:
            start = time.thread_time()
            parse_file("bad.yaml", case.data, case.limits)
            spent = time.thread_time() - start
        finally:
            gc.enable()
        assert spent < 0.5, name
