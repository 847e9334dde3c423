"""The field types and rules every descriptor schema is built from; each describes itself as JSON Schema.

Validation (marshmallow) and the editor's JSON Schema are generated from these same objects, so the
two can never drift: a field's JSON Schema fragment comes from its type and its validators, and the
few rules JSON Schema cannot express are kept in schema-level validators (see ``jsonschema.py``).

Messages are written for the developer editing the file: lower case, naming what is allowed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from marshmallow import INCLUDE, RAISE, Schema, ValidationError, fields, validate

from catalog_sync.errors import RefError
from catalog_sync.model import EntityRef

JsonSchema = dict[str, Any]
Convert = Callable[[fields.Field[Any]], JsonSchema]

NAME_PATTERN = r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$"
_BOUNDED_NAME = r"([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]"
NAMESPACE_PATTERN = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
TAG_PATTERN = r"^[a-z0-9:+#]+(-[a-z0-9:+#]+)*$"
_VALUE_WORD = r"[a-zA-Z0-9]([-_.a-zA-Z0-9]*[a-zA-Z0-9])?"
_DNS_LABEL = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
_KEY_NAME = r"[a-zA-Z0-9]([-_.a-zA-Z0-9]{0,61}[a-zA-Z0-9])?"
KEY_PATTERN = rf"^((?=[^/]{{1,253}}/){_DNS_LABEL}(\.{_DNS_LABEL})*/)?{_KEY_NAME}$"
LABEL_VALUE_PATTERN = rf"^({_VALUE_WORD})?$"
_REF_REST = rf"([A-Za-z0-9]([-A-Za-z0-9]{{0,61}}[A-Za-z0-9])?/)?{_BOUNDED_NAME}$"
REF_PATTERN = rf"^([A-Za-z][A-Za-z0-9]*:)?{_REF_REST}"
KIND_REF_PATTERN = rf"^[A-Za-z][A-Za-z0-9]*:{_REF_REST}"
_FILTER_PART = r"\s*[^=,\s]+\s*(=\s*[^=,\s][^=,]*)?"
FILTER_PATTERN = rf"^{_FILTER_PART}(,{_FILTER_PART})*$"

REQUIRED = "missing required field"
UNKNOWN = "unknown field"
NOT_A_MAPPING = "must be a mapping"


class AtKey(str):
    """A message about a mapping key rather than its value, so the position points at the key."""

    __slots__ = ()


class Strict(Schema):
    """A mapping whose keys are all known: a typo is an error, not silently ignored."""

    JSON_EXTRA: ClassVar[JsonSchema] = {}
    error_messages = {"unknown": UNKNOWN, "type": NOT_A_MAPPING}

    class Meta:
        unknown = RAISE

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        allowed = ", ".join(field.data_key or name for name, field in self.load_fields.items())
        self.error_messages["unknown"] = f"{UNKNOWN} (allowed: {allowed})"  # this instance's own dict


class Lenient(Strict):
    """A Backstage mapping: known keys are checked, other keys are kept as written (Backstage does so)."""

    class Meta:
        unknown = INCLUDE


_YAML11_BOOLEANS = frozenset(("yes", "no", "on", "off", "y", "n"))
_BASE_MESSAGES = {"required": REQUIRED, "null": "must not be null", "validator_failed": "invalid value"}


def non_empty() -> validate.Length:
    """A string that says something; Backstage refuses empty type, lifecycle and owner."""
    return validate.Length(min=1, error="must not be empty")


def max_chars(limit: int) -> validate.Length:
    """A string of bounded length (names, tags, label values)."""
    return validate.Length(min=1, max=limit, error=f"must be 1 to {limit} characters")


def min_items(count: int) -> validate.Length:
    """A list that must hold at least ``count`` items."""
    return validate.Length(min=count, error=f"must have at least {count} item{'s' if count != 1 else ''}")


def one_of(choices: Sequence[str]) -> validate.OneOf:
    """An enumeration whose message lists every allowed value."""
    return validate.OneOf(choices, error="must be one of {choices}")


def matching(pattern: str, what: str) -> validate.Regexp:
    """A string matching ``pattern``; ``what`` tells the reader the rule in words."""
    return validate.Regexp(pattern, error=what)


def in_range(low: float | None = None, high: float | None = None, *, above: bool = False) -> validate.Range:
    """A number within bounds; ``above`` makes the lower bound exclusive (weights must be > 0)."""
    if low is not None and high is not None:
        text = f"must be between {low} and {high}"
    elif low is not None:
        text = f"must be greater than {low}" if above else f"must be at least {low}"
    else:
        text = f"must be at most {high}"
    return validate.Range(min=low, max=high, min_inclusive=not above, error=text)


class UniqueItems(validate.Validator):
    """A list without repeated values (scorecard levels); JSON Schema's ``uniqueItems``."""

    def __call__(self, value: Any) -> Any:
        seen: list[Any] = []
        for item in value:
            if item in seen:
                raise ValidationError(f"must not repeat {item!r}")
            seen.append(item)
        return value


class ValidRegex(validate.Validator):
    """A string that compiles as a regular expression; JSON Schema can only annotate this."""

    def __call__(self, value: Any) -> Any:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValidationError(f"not a valid regular expression: {exc}") from None
        return value


class Text(fields.String):
    """A string; never a number or a boolean silently turned into one."""

    default_error_messages = {**_BASE_MESSAGES, "invalid": "must be a string"}

    def json_schema(self, convert: Convert) -> JsonSchema:
        """The JSON Schema of this field before its validators are applied."""
        return {"type": "string"}


class Ref(Text):
    """A reference to another entity, ``[kind:][namespace/]name``, the kind defaulting to ``default_kind``.

    With no default kind the kind must be written (Backstage's ``dependsOn``). The pattern is
    stricter than ``EntityRef.parse`` (the name must be a valid entity name), so a ref that passes it
    always parses, and JSON Schema's ``pattern`` says exactly what is accepted.
    """

    def __init__(self, default_kind: str | None, **kwargs: Any) -> None:
        self.default_kind = default_kind
        self.pattern = REF_PATTERN if default_kind else KIND_REF_PATTERN
        self._ref_re = re.compile(self.pattern)
        if default_kind:
            self._rule = "not a valid entity reference (write [kind:][namespace/]name)"
            about = f"entity reference [kind:][namespace/]name; the kind defaults to {default_kind}"
        else:
            self._rule = "not a valid entity reference (write kind:[namespace/]name; the kind is needed here)"
            about = "entity reference kind:[namespace/]name"
        kwargs.setdefault("metadata", {}).setdefault("description", about)
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not self._ref_re.match(text):
            raise ValidationError(self._rule)
        try:
            EntityRef.parse(text, default_kind=self.default_kind)
        except RefError as exc:
            raise ValidationError(str(exc)) from None
        return text

    def json_schema(self, convert: Convert) -> JsonSchema:
        """A string matching the reference pattern, with the rule in words for the editor."""
        return {"type": "string", "pattern": self.pattern, "patternErrorMessage": self._rule}


class Whole(fields.Integer):
    """An integer; ``2.5``, ``"2"`` and ``true`` are refused."""

    default_error_messages = {**_BASE_MESSAGES, "invalid": "must be an integer"}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def json_schema(self, convert: Convert) -> JsonSchema:
        """The JSON Schema of this field before its validators are applied."""
        return {"type": "integer"}


class Num(fields.Float):
    """A number (integer or decimal); a numeric string is refused, as JSON Schema does."""

    default_error_messages = {**_BASE_MESSAGES, "invalid": "must be a number"}

    def _validated(self, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid", input=value)
        return super()._validated(value)

    def json_schema(self, convert: Convert) -> JsonSchema:
        """The JSON Schema of this field before its validators are applied."""
        return {"type": "number"}


class Flag(fields.Boolean):
    """A boolean: ``true`` or ``false`` only, never ``1`` or ``"yes"``."""

    default_error_messages = {**_BASE_MESSAGES, "invalid": "must be true or false"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            if isinstance(value, str) and value.lower() in _YAML11_BOOLEANS:
                raise ValidationError(f"must be true or false ({value!r} is text: YAML 1.2 reads it so)")
            raise self.make_error("invalid", input=value)
        return value

    def json_schema(self, convert: Convert) -> JsonSchema:
        """The JSON Schema of this field before its validators are applied."""
        return {"type": "boolean"}


class Scalar(fields.Field[Any]):
    """A plain value (string, number or boolean), e.g. a KPI target or a value a rule compares with."""

    default_error_messages = {**_BASE_MESSAGES, "invalid": "must be a string, a number or a boolean"}

    def __init__(self, *, booleans: bool = True, **kwargs: Any) -> None:
        self.booleans = booleans
        super().__init__(**kwargs)
        if not booleans:
            self.error_messages["invalid"] = "must be a string or a number"

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, bool):
            if not self.booleans:
                raise self.make_error("invalid", input=value)
            return value
        if isinstance(value, str | int | float):
            return value
        raise self.make_error("invalid", input=value)

    def json_schema(self, convert: Convert) -> JsonSchema:
        """The JSON Schema of this field before its validators are applied."""
        return {"type": ["string", "number", "boolean"] if self.booleans else ["string", "number"]}


class Items(fields.List):  # type: ignore[type-arg]
    """A list of one kind of item."""

    default_error_messages = {**_BASE_MESSAGES, "invalid": "must be a list"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, list):
            raise self.make_error("invalid", input=value)
        return super()._deserialize(value, attr, data, **kwargs)

    def json_schema(self, convert: Convert) -> JsonSchema:
        """The JSON Schema of this field before its validators are applied."""
        return {"type": "array", "items": convert(self.inner)}


class Object(fields.Nested):
    """A nested mapping described by its own schema."""

    default_error_messages = {**_BASE_MESSAGES, "type": NOT_A_MAPPING}


class AnyMapping(fields.Field[Any]):
    """A free-form mapping (a plugin check's options); only its shape is checked."""

    default_error_messages = {**_BASE_MESSAGES, "invalid": NOT_A_MAPPING}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, dict):
            raise self.make_error("invalid", input=value)
        return value

    def json_schema(self, convert: Convert) -> JsonSchema:
        """The JSON Schema of this field before its validators are applied."""
        return {"type": "object"}


class KeyedMap(fields.Field[Any]):
    """A mapping whose keys follow a pattern (labels, annotations); a bad key is reported at the key."""

    default_error_messages = {**_BASE_MESSAGES, "invalid": NOT_A_MAPPING}

    def __init__(self, key_pattern: str, key_rule: str, values: fields.Field[Any], **kwargs: Any) -> None:
        self.key_pattern = key_pattern
        self.key_rule = key_rule
        self._key_re = re.compile(key_pattern)
        self.values = values
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, dict):
            raise self.make_error("invalid", input=value)
        errors: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str) or not self._key_re.match(key):
                errors[str(key)] = [AtKey(self.key_rule)]
                continue
            try:
                self.values.deserialize(item)
            except ValidationError as exc:
                errors[key] = exc.messages
        if errors:
            raise ValidationError(errors)
        return value

    def json_schema(self, convert: Convert) -> JsonSchema:
        """Keys as ``propertyNames``, values as ``additionalProperties``."""
        return {
            "type": "object",
            "propertyNames": {"pattern": self.key_pattern, "patternErrorMessage": self.key_rule},
            "additionalProperties": convert(self.values),
        }


class Forms(fields.Field[Any]):
    """A closed union told apart by which key is present: exactly one of the forms' keys.

    Scorecard rules use it; JSON Schema expresses it as ``oneOf`` over forms that each require their
    key and allow nothing else, which accepts and refuses exactly what this field does.
    """

    default_error_messages = {**_BASE_MESSAGES, "invalid": NOT_A_MAPPING}

    def __init__(self, forms: Mapping[str, type[Strict]], **kwargs: Any) -> None:
        self.forms = {key: schema() for key, schema in forms.items()}
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, dict):
            raise self.make_error("invalid", input=value)
        present = [key for key in self.forms if key in value]
        if len(present) != 1:
            found = f"found {', '.join(present)}" if present else "found none"
            raise ValidationError(f"must have exactly one of {', '.join(self.forms)} ({found})")
        errors = self.forms[present[0]].validate(value)
        if errors:
            raise ValidationError(errors)
        return value


def text(*, required: bool = False, description: str | None = None, **kwargs: Any) -> Text:
    """A non-empty string field; the common case, so spelled short."""
    return Text(required=required, validate=[non_empty()], metadata=_describe(description), **kwargs)


def free_text(*, description: str | None = None, **kwargs: Any) -> Text:
    """A string that may be empty (titles, descriptions)."""
    return Text(metadata=_describe(description), **kwargs)


def words(*, description: str | None = None, **kwargs: Any) -> Items:
    """A list of non-empty strings (outcomes, paths)."""
    return Items(Text(validate=[non_empty()]), metadata=_describe(description), **kwargs)


def refs(default_kind: str | None, *, description: str | None = None, **kwargs: Any) -> Items:
    """A list of entity references of one default kind."""
    return Items(Ref(default_kind), metadata=_describe(description), **kwargs)


def nested(schema: type[Schema], *, many: bool = False, description: str | None = None, **kwargs: Any) -> Any:
    """A nested mapping, or a list of them."""
    if many:
        return Items(Object(schema), metadata=_describe(description), **kwargs)
    return Object(schema, metadata=_describe(description), **kwargs)


def _describe(description: str | None) -> dict[str, Any]:
    return {"description": description} if description else {}
