"""Whether a repository name filter (``include``, ``exclude``) may be matched against names anyone
who can create a repository chooses: it must compile, and hold none of the shapes whose backtracking
is exponential in the length of a name it does not match. Refused at start, naming the key.

Inside a repetition every choice must be decided by the next character (LL(1) on the characters
of ``_SAMPLE``, every other one counted as ``_OTHER``): a variable repetition there (``+``, ``*``,
``?``, ``{2,5}``) may neither match nothing nor start with a character that may come right after
it, and alternatives there may neither start alike nor match nothing. ``^svc(-[a-z0-9]+)*$`` is
taken (a ``-`` starts another turn, anything else ends the inner one); ``([a-z]+-?)+``, ``(a*)*``
and ``(a|aa)+`` are not. A choice made outside any repetition is made once and costs a polynomial
time, so it is not looked at. What is not understood here (a backreference, a conditional, a
repetition inside a lookaround) is refused inside a repetition.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

from marshmallow import ValidationError

MAX_PATTERN = 1000
_parser: Any = importlib.import_module("re._parser")
"""The parser ``re.compile`` uses (private, without stubs): a pattern is looked at as ``re`` reads it."""


def check_pattern(value: str) -> None:
    """A name filter must compile; refused here, it never half-filters a listing at run time."""
    if len(value) > MAX_PATTERN:
        raise ValidationError(f"a regular expression of at most {MAX_PATTERN} characters")
    try:
        re.compile(value)
        parsed = _parser.parse(value)
        undecided = _undecided(parsed, frozenset())
        captures = not undecided and _captures_in_possessive(parsed)
    except (re.error, OverflowError) as exc:  # OverflowError: a count over re's limit, a{99999999999}
        raise ValidationError(f"not a valid regular expression: {exc}") from None
    except RecursionError:  # re's parser, and the walks below, follow groups one call deeper each
        raise ValidationError(
            "not a valid regular expression: its groups are nested too deeply to be read; a name "
            "filter needs a few levels at most"
        ) from None
    if undecided:
        raise ValidationError(
            "a repetition inside a repetition where the next character does not decide whether it goes "
            "on (such as ([a-z]+-?)+, (a*)* or (\\w+\\s?)+), or alternatives inside one that may start "
            "alike or match nothing (such as (a|aa)+), takes a time that doubles with each character of "
            "a name it does not match, and anyone who may create a repository chooses the names; "
            "separate the turns with a character the inner repetition cannot match (such as "
            "^svc(-[a-z0-9]+)*$ or ^([a-z]+-)*[a-z]+$), or make the inner one possessive, which never "
            "backtracks (such as ^([a-z]++-?)+$)"
        )
    if captures:
        raise ValidationError(
            "a capturing group inside a possessive repetition (such as (?:(a)|b?)++) makes Python's re "
            "fail on some names with an internal error (CPython issue 101955), which would stop the "
            "source's listing; write the group as a non-capturing one, (?:...)"
        )


def _captures_in_possessive(sequence: Any, possessive: bool = False) -> bool:
    """Whether a capturing group sits inside a possessive repetition, at any depth."""
    for op, arguments in sequence:
        if possessive and op == _parser.SUBPATTERN and arguments[0] is not None:
            return True
        inner = possessive or op == _parser.POSSESSIVE_REPEAT
        if any(_captures_in_possessive(part, inner) for part in _parts(op, arguments)):
            return True
    return False


def _parts(op: Any, arguments: Any) -> list[Any]:
    """The sub-patterns of one parsed item, whatever it is."""
    if op == _parser.SUBPATTERN:
        return [arguments[3]]
    if op == _parser.BRANCH:
        return list(arguments[1])
    if op in (_parser.MAX_REPEAT, _parser.MIN_REPEAT, _parser.POSSESSIVE_REPEAT):
        return [arguments[2]]
    if op == _parser.ATOMIC_GROUP:
        return [arguments]
    if op in (_parser.ASSERT, _parser.ASSERT_NOT):
        return [arguments[1]]
    if op == _parser.GROUPREF_EXISTS:
        return [branch for branch in arguments[1:] if branch is not None]
    return []


def _unenclosed(op: Any, arguments: Any) -> Any:
    """The body of a possessive repetition or an atomic group, or None: nothing outside backtracks
    into it (``re`` never backtracks into a possessive repetition's earlier turns either), but it
    still backtracks inside itself until it first matches, so ``(?>(a+)+$)`` takes as long as
    ``(a+)+$`` on a name it does not match."""
    if op == _parser.ATOMIC_GROUP:
        return arguments
    if op == _parser.POSSESSIVE_REPEAT:
        return arguments[2]
    return None


def _undecided(sequence: Any, follow: frozenset[str], inside: bool = False) -> bool:
    """Whether a parsed sequence makes, inside a repetition, a choice that the next character does
    not decide: a name it does not match may then be split between the turns in a number of ways
    that doubles with its length, each tried in turn. ``follow`` is what may come right after the
    sequence (nothing at the top: a choice outside any repetition is made once, in polynomial time)."""
    for op, arguments in reversed(list(sequence)):
        if _item_undecided(op, arguments, follow, inside):
            return True
        if op not in _ZERO_WIDTH:
            chars, empty = _first_of(op, arguments)
            follow = frozenset(chars | follow if empty else chars)
    return False


def _item_undecided(op: Any, arguments: Any, follow: frozenset[str], inside: bool) -> bool:
    """``_undecided`` of one parsed item, ``follow`` being what may come right after it."""
    if op in (_parser.MAX_REPEAT, _parser.MIN_REPEAT):
        return _repetition_undecided(arguments, follow, inside)
    if (body := _unenclosed(op, arguments)) is not None:
        return _undecided(body, frozenset())
    if op == _parser.SUBPATTERN:
        return _undecided(arguments[3], follow, inside)
    if op == _parser.BRANCH:
        branches = arguments[1]
        return (inside and _alike(branches)) or any(_undecided(b, follow, inside) for b in branches)
    if op in (_parser.ASSERT, _parser.ASSERT_NOT):
        return _undecided(arguments[1], _EVERY, inside)
    if op in _SINGLE or op == _parser.AT:
        return False
    if op == _parser.GROUPREF_EXISTS and not inside:
        return any(_undecided(b, follow) for b in arguments[1:] if b is not None)
    return inside


def _repetition_undecided(arguments: Any, follow: frozenset[str], inside: bool) -> bool:
    """Inside a repetition, whether a variable one (``+``, ``*``, ``?``, ``{2,5}``) goes on or stops
    must be decided by the next character: its body may not match nothing, nor start with what may
    follow it (``^svc(-[a-z0-9]+)*$`` is taken, ``([a-z]+-?)+`` and ``(a*)*`` are not)."""
    low, high, body = arguments
    first, empty = _first(body)
    if inside and low != high and (empty or first & follow):
        return True
    return _undecided(body, frozenset(first) | follow if high > 1 else follow, inside or high > 1)


def _alike(branches: list[Any]) -> bool:
    """Whether two alternatives may start with the same character, or one may match nothing: inside a
    repetition, a name then splits into alternatives in many ways (``(a|aa)+``, ``(a|)+``), each tried
    in turn. Characters are compared in any case (an upper bound: ``(a|A)+`` is refused as well)."""
    seen: set[str] = set()
    for branch in branches:
        first, empty = _first(branch)
        if empty or seen & first:
            return True
        seen |= first
    return False


_SAMPLE = "".join(map(chr, range(128))) + "\u00a0\u00b2\u00df\u00e9\u0130\u0131\u017f\u0660\u2028\u212a\u4e00"
"""The characters alternatives are compared on: every ASCII one, and a few whose case or class is odd."""
_FOLDED = {c: [d for d in _SAMPLE if re.fullmatch("(?i)" + re.escape(d), c)] for c in _SAMPLE}
"""The characters of ``_SAMPLE`` that ``re`` matches with each in any case, beyond its own lower and
upper case: ``K`` matches the Kelvin sign (through ``k``), ``i`` matches ``\u0130`` and ``\u0131``,
``s`` matches ``\u017f``; without them, ``(?i)(?:\u212ab|Kb)+$`` would be taken though its
alternatives both match a ``K`` of a name."""
_OTHER = "other"
"""Stands for every character outside ``_SAMPLE``: two items that may both match one (``[ā]`` and
``[āb]``, ``\\w`` and ``.``) are taken to start alike, as they may."""
_EVERY = frozenset(_SAMPLE) | {_OTHER}
"""Every character, as ``_first`` counts them."""
_CATEGORIES = {
    _parser.CATEGORY_DIGIT: r"\d",
    _parser.CATEGORY_NOT_DIGIT: r"\D",
    _parser.CATEGORY_SPACE: r"\s",
    _parser.CATEGORY_NOT_SPACE: r"\S",
    _parser.CATEGORY_WORD: r"\w",
    _parser.CATEGORY_NOT_WORD: r"\W",
}
_ZERO_WIDTH = (_parser.AT, _parser.ASSERT, _parser.ASSERT_NOT)
_SINGLE = (_parser.LITERAL, _parser.NOT_LITERAL, _parser.ANY, _parser.IN)
"""The items that match one character."""


def _first(sequence: Any) -> tuple[set[str], bool]:
    """The characters (of ``_SAMPLE``, or ``_OTHER``) a parsed sequence may start with, and whether
    it may match nothing; what is not understood here may start with anything and match nothing."""
    first: set[str] = set()
    for op, arguments in sequence:
        if op in _ZERO_WIDTH:
            continue
        chars, empty = _first_of(op, arguments)
        first |= chars
        if not empty:
            return first, False
    return first, True


def _first_of(op: Any, arguments: Any) -> tuple[set[str], bool]:
    """``_first`` of one parsed item."""
    if op in _SINGLE:
        chars = {c for c in _SAMPLE if _matches(op, arguments, c)}
        return chars | {_OTHER} if _beyond_sample(op, arguments) else chars, False
    if op == _parser.SUBPATTERN:
        return _first(arguments[3])
    if op == _parser.ATOMIC_GROUP:
        return _first(arguments)
    if op in (_parser.MAX_REPEAT, _parser.MIN_REPEAT, _parser.POSSESSIVE_REPEAT):
        chars, empty = _first(arguments[2])
        return chars, empty or arguments[0] == 0
    if op == _parser.BRANCH:
        parts = [_first(branch) for branch in arguments[1]]
        return set().union(*(chars for chars, _ in parts)), any(empty for _, empty in parts)
    return set(_EVERY), True


def _beyond_sample(op: Any, arguments: Any) -> bool:
    """Whether one character item may match, in some case, a character outside ``_SAMPLE``. Only an
    ASCII literal or range may not: in any case, ``re`` matches it with an ASCII character or with
    one of the four in ``_SAMPLE`` (``\u0130``, ``\u0131``, ``\u017f``, ``\u212a``)."""
    if op == _parser.LITERAL:
        return bool(arguments >= 128)
    if op != _parser.IN:
        return True
    return not all(
        (item == _parser.LITERAL and value < 128) or (item == _parser.RANGE and value[1] < 128)
        for item, value in arguments
    )


def _matches(op: Any, arguments: Any, char: str) -> bool:
    """Whether one character item (a literal, ``.``, a class) may match ``char`` in some case."""
    cases = [c for c in {char, char.lower(), char.upper(), *_FOLDED[char]} if len(c) == 1]
    if op == _parser.ANY:
        return True
    if op == _parser.LITERAL:
        return any(ord(c) == arguments for c in cases)
    if op == _parser.NOT_LITERAL:
        return any(ord(c) != arguments for c in cases)
    members = [(item, value) for item, value in arguments if item != _parser.NEGATE]
    negated = len(members) != len(arguments)
    return any(any(_in_class(item, value, c) for item, value in members) != negated for c in cases)


def _in_class(item: Any, value: Any, char: str) -> bool:
    """Whether ``char`` is one member of a class (a literal, a range, ``\\d``)."""
    if item == _parser.LITERAL:
        return bool(ord(char) == value)
    if item == _parser.RANGE:
        return bool(value[0] <= ord(char) <= value[1])
    if item == _parser.CATEGORY:
        pattern = _CATEGORIES.get(value)
        return pattern is None or re.fullmatch(pattern, char) is not None
    return False


__all__ = ["MAX_PATTERN", "check_pattern"]
