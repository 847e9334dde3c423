"""Backstage's catalog query vocabulary: filters, order fields, full-text terms, field lists.

The HTTP layer hands the raw query parameters here and gets back small immutable values, so that the
rules of the syntax live in one place and every malformed input is refused the same way (a
``QueryError`` naming the parameter, answered with 400). Filters follow Backstage's
``parseEntityFilterParams``:

- each ``filter`` parameter is one alternative; the entity matches if *any* alternative matches;
- inside one, comma-separated statements must *all* hold: ``key=value`` (value equality) or a bare
  ``key`` (the key exists, whatever its value);
- the same key twice in one alternative means *any of* those values (``kind=api,kind=component``);
- keys and values are trimmed and compared case-insensitively;
- an empty parameter, or one made only of commas, is ignored.

Keys under ``relations.`` (``relations.ownedBy=group:default/team-a``) are answered from the
``relations`` table, every other key from the ``search`` table (see ``sqlfilters``). Nothing of a
filter ever reaches SQL except as a bound parameter.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from catalog_sync.errors import QueryError

MAX_FILTERS = 50
"""Alternatives (``filter`` parameters) in one request."""
MAX_CONDITIONS = 50
"""Statements in one alternative."""
CONDITIONS_SETTING = "api.max_filter_conditions"
"""The setting that bounds the statements of every ``filter`` parameter of one request together: each
statement costs a subquery, so fifty parameters of fifty statements (legal one by one) cost seconds."""
MAX_KEY_LENGTH = 200
"""Longer keys are never indexed (see ``search``), so they could never match."""
MAX_VALUE_LENGTH = 200
MAX_FIELDS = 100
MAX_ORDER_FIELDS = 5
MAX_TERM_LENGTH = 200

RELATIONS_PREFIX = "relations."

Direction = Literal["asc", "desc"]


@dataclass(frozen=True)
class Condition:
    """One key of one alternative: the key exists (``values`` empty) or equals one of ``values``."""

    key: str
    values: tuple[str, ...] = ()

    @property
    def is_relation(self) -> bool:
        """Whether the relations table, not the search table, answers this condition."""
        return self.key.startswith(RELATIONS_PREFIX)


@dataclass(frozen=True)
class Alternative:
    """Conditions that must all hold (one ``filter`` parameter)."""

    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class EntityFilter:
    """Alternatives of which any may hold (the repeated ``filter`` parameters)."""

    alternatives: tuple[Alternative, ...]


@dataclass(frozen=True)
class OrderField:
    """One ``orderField`` of by-query: a search key and a direction."""

    field: str
    order: Direction = "asc"


@dataclass(frozen=True)
class FullText:
    """A ``fullTextFilterTerm``, optionally restricted to some keys (``fullTextFilterFields``).

    ``with_text`` widens a term restricted to keys to the name, title and description as well (the
    portal's search: those words, or a tag, label, member, capability or outcome). A key ending in
    ``.`` matches every key it begins (``metadata.labels.``: any label).
    """

    term: str
    fields: tuple[str, ...] | None = None
    with_text: bool = False


def parse_filters(params: Iterable[str], *, max_conditions: int | None = None) -> EntityFilter | None:
    """Read the ``filter`` query parameters; None when they filter nothing.

    ``max_conditions`` (``api.max_filter_conditions`` for a request) bounds the statements of all the
    parameters together, as written (``kind=a,kind=b`` is two); they are counted before any is read,
    so refusing a request costs almost nothing. None leaves only the bounds of each parameter.
    """
    texts = list(params)
    if max_conditions is not None:
        written = sum(_count_statements(text) for text in texts if isinstance(text, str))
        if written > max_conditions:
            raise too_many_conditions("filter", max_conditions)
    alternatives: list[Alternative] = []
    for text in texts:
        alternative = parse_filter_string(text)
        if alternative is not None:
            alternatives.append(alternative)
            if len(alternatives) > MAX_FILTERS:
                raise QueryError("filter", f"at most {MAX_FILTERS} filter parameters are allowed")
    return EntityFilter(tuple(alternatives)) if alternatives else None


def _count_statements(text: str) -> int:
    return sum(1 for part in text.split(",") if part.strip())


def count_conditions(alternative: Alternative) -> int:
    """The statements of one parsed alternative: one per ``key=value``, one per bare ``key`` (a
    repeated statement counts once, so a filter never counts more here than as written)."""
    return sum(max(1, len(condition.values)) for condition in alternative.conditions)


def check_condition_count(entity_filter: EntityFilter | None, max_conditions: int, parameter: str) -> None:
    """Refuse a filter (one rebuilt from a cursor, say) with more statements than ``max_conditions``."""
    if entity_filter is None:
        return
    if sum(count_conditions(alternative) for alternative in entity_filter.alternatives) > max_conditions:
        raise too_many_conditions(parameter, max_conditions)


def too_many_conditions(parameter: str, max_conditions: int) -> QueryError:
    """The refusal of a request whose filters hold more statements than allowed."""
    return QueryError(
        parameter,
        f"at most {max_conditions} filter conditions (key=value statements of every filter parameter "
        f"together) are allowed in one request ({CONDITIONS_SETTING}); split the query",
    )


def parse_filter_string(text: str) -> Alternative | None:
    """Read one ``filter`` parameter such as ``kind=component,spec.lifecycle=production``."""
    if not isinstance(text, str):
        raise QueryError("filter", "a filter must be a string")
    if len(text) > MAX_FILTERS * (MAX_KEY_LENGTH + MAX_VALUE_LENGTH):
        raise QueryError("filter", "the filter is too long")
    _refuse_control_characters("filter", text)
    statements = [part.strip() for part in text.split(",") if part.strip()]
    if not statements:
        return None
    if len(statements) > MAX_CONDITIONS:
        raise QueryError("filter", f"at most {MAX_CONDITIONS} conditions are allowed in one filter")
    values_by_key: dict[str, list[str]] = {}
    for statement in statements:
        raw_key, equals, raw_value = statement.partition("=")
        key = raw_key.strip().lower()
        if not key:
            raise QueryError(
                "filter",
                f"{statement!r} is not a valid statement (expected key=value, key= or key)",
            )
        _check_key("filter", key)
        values = values_by_key.setdefault(key, [])
        if equals:
            value = raw_value.strip().lower()
            if len(value) > MAX_VALUE_LENGTH:
                raise QueryError("filter", f"a value may have at most {MAX_VALUE_LENGTH} characters")
            if value not in values:
                values.append(value)
    return Alternative(tuple(Condition(key, tuple(values)) for key, values in values_by_key.items()))


def parse_order_fields(params: Iterable[str]) -> list[OrderField]:
    """Read ``orderField`` parameters (``metadata.name,asc``); the direction defaults to ascending."""
    fields: list[OrderField] = []
    for text in params:
        if not isinstance(text, str):
            raise QueryError("orderField", "an order field must be a string")
        _refuse_control_characters("orderField", text)
        field, _, order = (part.strip() for part in text.partition(","))
        if not field:
            raise QueryError("orderField", f"{text!r}: the field is empty (expected field,asc or field,desc)")
        _check_key("orderField", field.lower())
        if order not in ("", "asc", "desc"):
            raise QueryError("orderField", "the order must be asc or desc")
        fields.append(OrderField(field.lower(), "desc" if order == "desc" else "asc"))
    if len(fields) > MAX_ORDER_FIELDS:
        raise QueryError("orderField", f"at most {MAX_ORDER_FIELDS} order fields are allowed")
    return fields


def parse_fields(params: Iterable[str]) -> list[str] | None:
    """Read ``fields`` parameters (comma-separated dotted paths); None means the whole entity."""
    fields: list[str] = []
    for text in params:
        if not isinstance(text, str):
            raise QueryError("fields", "fields must be strings")
        _refuse_control_characters("fields", text)
        for part in text.split(","):
            field = part.strip()
            if not field:
                continue
            if "[" in field:
                raise QueryError("fields", "array type fields are not supported")
            if len(field) > MAX_KEY_LENGTH:
                raise QueryError("fields", f"a field may have at most {MAX_KEY_LENGTH} characters")
            fields.append(field)
    if len(fields) > MAX_FIELDS:
        raise QueryError("fields", f"at most {MAX_FIELDS} fields are allowed")
    return fields or None


def parse_full_text(term: str | None, fields: Iterable[str] = ()) -> FullText | None:
    """Read ``fullTextFilterTerm`` and ``fullTextFilterFields``; None when the term is blank."""
    if term is None:
        return None
    if not isinstance(term, str):
        raise QueryError("fullTextFilterTerm", "the term must be a string")
    _refuse_control_characters("fullTextFilterTerm", term)
    cleaned = term.strip()
    if not cleaned:
        return None
    if len(cleaned) > MAX_TERM_LENGTH:
        raise QueryError("fullTextFilterTerm", f"the term may have at most {MAX_TERM_LENGTH} characters")
    keys: list[str] = []
    for text in fields:
        _refuse_control_characters("fullTextFilterFields", text)
        for part in text.split(","):
            key = part.strip().lower()
            if key:
                _check_key("fullTextFilterFields", key)
                keys.append(key)
    if len(keys) > MAX_FIELDS:
        raise QueryError("fullTextFilterFields", f"at most {MAX_FIELDS} fields are allowed")
    return FullText(cleaned.lower(), tuple(keys) if keys else None)


def filter_to_json(entity_filter: EntityFilter | None) -> list[list[list[Any]]] | None:
    """A compact JSON form of a filter, for cursors."""
    if entity_filter is None:
        return None
    return [
        [[condition.key, list(condition.values)] for condition in alternative.conditions]
        for alternative in entity_filter.alternatives
    ]


def filter_from_json(data: Any, parameter: str = "cursor") -> EntityFilter | None:
    """Rebuild a filter from ``filter_to_json``'s form, re-checking every limit (the input is untrusted)."""
    if data is None:
        return None
    if not isinstance(data, list) or not data or len(data) > MAX_FILTERS:
        raise QueryError(parameter, "malformed filter")
    alternatives: list[Alternative] = []
    for alternative in data:
        if not isinstance(alternative, list) or not alternative or len(alternative) > MAX_CONDITIONS:
            raise QueryError(parameter, "malformed filter")
        conditions: list[Condition] = []
        for item in alternative:
            if not (isinstance(item, list) and len(item) == 2 and isinstance(item[1], list)):
                raise QueryError(parameter, "malformed filter")
            key, values = item
            if not isinstance(key, str) or not key or key != key.strip().lower():
                raise QueryError(parameter, "malformed filter")
            _check_key(parameter, key)
            for value in values:
                if not isinstance(value, str) or len(value) > MAX_VALUE_LENGTH or value != value.lower():
                    raise QueryError(parameter, "malformed filter")
                _refuse_control_characters(parameter, value)
            conditions.append(Condition(key, tuple(values)))
        alternatives.append(Alternative(tuple(conditions)))
    return EntityFilter(tuple(alternatives))


def order_from_json(data: Any, parameter: str = "cursor") -> list[OrderField]:
    """Rebuild order fields from a cursor, re-checking them."""
    if not isinstance(data, list) or len(data) > MAX_ORDER_FIELDS:
        raise QueryError(parameter, "malformed order fields")
    fields: list[OrderField] = []
    for item in data:
        if not (isinstance(item, list) and len(item) == 2 and item[1] in ("asc", "desc")):
            raise QueryError(parameter, "malformed order fields")
        if not isinstance(item[0], str) or not item[0] or item[0] != item[0].lower():
            raise QueryError(parameter, "malformed order fields")
        _check_key(parameter, item[0])
        fields.append(OrderField(item[0], item[1]))
    return fields


def full_text_from_json(data: Any, parameter: str = "cursor") -> FullText | None:
    """Rebuild a full-text term from a cursor, re-checking it."""
    if data is None:
        return None
    if not (isinstance(data, list) and len(data) in (2, 3) and isinstance(data[0], str)):
        raise QueryError(parameter, "malformed full-text filter")
    term, fields, *rest = data
    with_text = bool(rest and rest[0] is True)
    if not term or len(term) > MAX_TERM_LENGTH or term != term.lower():
        raise QueryError(parameter, "malformed full-text filter")
    _refuse_control_characters(parameter, term)
    if fields is None:
        return FullText(term)
    if not isinstance(fields, list) or not fields or len(fields) > MAX_FIELDS:
        raise QueryError(parameter, "malformed full-text filter")
    for key in fields:
        if not isinstance(key, str) or not key or key != key.lower():
            raise QueryError(parameter, "malformed full-text filter")
        _check_key(parameter, key.rstrip(".") or key)
    return FullText(term, tuple(fields), with_text)


def full_text_to_json(full_text: FullText | None) -> list[Any] | None:
    """The JSON form of a full-text term, for cursors."""
    if full_text is None:
        return None
    found: list[Any] = [full_text.term, list(full_text.fields) if full_text.fields is not None else None]
    return [*found, True] if full_text.with_text else found


def order_to_json(order: Sequence[OrderField]) -> list[list[str]]:
    """The JSON form of order fields, for cursors."""
    return [[field.field, field.order] for field in order]


def _check_key(parameter: str, key: str) -> None:
    if len(key) > MAX_KEY_LENGTH:
        raise QueryError(parameter, f"a key may have at most {MAX_KEY_LENGTH} characters")
    _refuse_control_characters(parameter, key)
    if key.startswith(RELATIONS_PREFIX) and len(key) == len(RELATIONS_PREFIX):
        raise QueryError(parameter, "'relations.' must be followed by a relation type")


def _refuse_control_characters(parameter: str, text: str) -> None:
    if any(unicodedata.category(char) in ("Cc", "Cf", "Cs") for char in text):
        raise QueryError(parameter, "control characters are not allowed")
