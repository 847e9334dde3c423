"""JSON Schemas for editors, generated from the marshmallow schemas so that the two never disagree.

``python -m catalog_sync.descriptors.jsonschema OUTDIR`` (``make schemas``) writes one schema per kind
and ``catalog-info.schema.json`` for any descriptor, all JSON Schema 2020-12, usable with
``# yaml-language-server: $schema=...``. Each field's type comes from its field class, its limits
from its validators (Length, Range, OneOf, Regexp, Equal, UniqueItems), its description from its
metadata. Every ``pattern`` carries a ``patternErrorMessage`` (which the YAML language server shows
instead of the regular expression) with the rule in the words ``catalog-sync validate`` uses. What
JSON Schema cannot say is checked by marshmallow only, and is short: scorecard check
ids are unique and each check's level is one of the scorecard's levels; a ``matches`` regex compiles
(annotated as ``format: regex``); a KPI's PromQL parses and its id is unique in the product. A
missing owner or capability is a warning, never a schema error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from marshmallow import RAISE, Schema, fields, validate

from catalog_sync.descriptors.envelope import KIND_SCHEMAS
from catalog_sync.descriptors.fields import Forms, JsonSchema, UniqueItems, ValidRegex
from catalog_sync.descriptors.kpis import MAX_QUERY_CHARS, ValidPromQL
from catalog_sync.descriptors.validate import KNOWN_API_VERSIONS

DRAFT = "https://json-schema.org/draft/2020-12/schema"
COMBINED = "catalog-info.schema.json"


def _apply_validator(out: JsonSchema, validator: Any) -> None:
    is_array = out.get("type") == "array"
    if isinstance(validator, validate.Length):
        if validator.min is not None:
            out["minItems" if is_array else "minLength"] = validator.min
        if validator.max is not None:
            out["maxItems" if is_array else "maxLength"] = validator.max
    elif isinstance(validator, validate.Range):
        if validator.min is not None:
            out["minimum" if validator.min_inclusive else "exclusiveMinimum"] = validator.min
        if validator.max is not None:
            out["maximum" if validator.max_inclusive else "exclusiveMaximum"] = validator.max
    elif isinstance(validator, validate.OneOf):
        out["enum"] = list(validator.choices)
    elif isinstance(validator, validate.Regexp):
        out["pattern"] = validator.regex.pattern
        out["patternErrorMessage"] = str(validator.error)
    elif isinstance(validator, validate.Equal):
        out["const"] = validator.comparable
    elif isinstance(validator, UniqueItems):
        out["uniqueItems"] = True
    elif isinstance(validator, ValidRegex):
        out["format"] = "regex"
    elif isinstance(validator, ValidPromQL):
        out["maxLength"] = MAX_QUERY_CHARS
    else:
        raise TypeError(f"no JSON Schema form for validator {validator!r}")


def field_schema(field: fields.Field[Any]) -> JsonSchema:
    """One field as JSON Schema: its type, then its validators, then its description."""
    out: JsonSchema
    if isinstance(field, fields.Nested):
        out = object_schema(field.schema)
    elif isinstance(field, Forms):
        out = {"type": "object", "oneOf": [object_schema(form) for form in field.forms.values()]}
    elif hasattr(field, "json_schema"):
        out = field.json_schema(field_schema)
    else:
        raise TypeError(f"no JSON Schema form for field {field!r}")
    for validator in field.validators:
        _apply_validator(out, validator)
    if field.metadata.get("format"):
        out["format"] = field.metadata["format"]
    description = field.metadata.get("description")
    return {"description": description, **out} if description else out


def object_schema(schema: Schema) -> JsonSchema:
    """A marshmallow schema as a JSON Schema object; strict schemas refuse other keys."""
    properties: JsonSchema = {}
    required: list[str] = []
    for name, field in schema.load_fields.items():
        key = field.data_key or name
        properties[key] = field_schema(field)
        if field.required:
            required.append(key)
    out: JsonSchema = {"type": "object"}
    doc = type(schema).__doc__
    if doc and not type(schema).__name__.endswith(("Entity", "Metadata")) and doc != Schema.__doc__:
        out["description"] = doc.strip().splitlines()[0]
    out["properties"] = properties
    if required:
        out["required"] = required
    if schema.unknown == RAISE:
        out["additionalProperties"] = False
    out.update(getattr(schema, "JSON_EXTRA", {}))
    return out


def _kind_body(kind: str) -> JsonSchema:
    entry = KIND_SCHEMAS[kind]
    return {"title": f"{kind} descriptor", "description": entry.description, **object_schema(entry.envelope)}


def kind_schema(kind: str) -> JsonSchema:
    """The JSON Schema of one kind's descriptor (``kind`` in its canonical spelling)."""
    return {"$schema": DRAFT, **_kind_body(kind)}


def combined_schema() -> JsonSchema:
    """One schema for any descriptor: the kind selects its schema; unknown kinds are refused."""
    kinds = list(KIND_SCHEMAS)
    return {
        "$schema": DRAFT,
        "title": "catalog-sync descriptor (catalog-info.yaml)",
        "description": "One descriptor document; a file may hold several, separated by ---.",
        "type": "object",
        "required": ["apiVersion", "kind"],
        "properties": {
            "apiVersion": {"enum": list(KNOWN_API_VERSIONS)},
            "kind": {"enum": kinds},
        },
        "allOf": [
            {
                "if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]},
                "then": {"$ref": f"#/$defs/{kind}"},
            }
            for kind in kinds
        ],
        "$defs": {kind: _kind_body(kind) for kind in kinds},
    }


def generate() -> dict[str, JsonSchema]:
    """Every schema file by its name: one per kind and the combined one."""
    files = {f"{kind.lower()}.schema.json": kind_schema(kind) for kind in KIND_SCHEMAS}
    files[COMBINED] = combined_schema()
    return files


def render(schema: JsonSchema) -> str:
    """The exact text written to disk, so a test can compare committed files with a fresh generation."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def write(outdir: str | Path) -> list[Path]:
    """Write every schema file into ``outdir`` (created if needed); returns the paths written."""
    folder = Path(outdir)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in generate().items():
        target = folder / name
        target.write_text(render(schema), encoding="utf-8")
        written.append(target)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m catalog_sync.descriptors.jsonschema OUTDIR``."""
    parser = argparse.ArgumentParser(prog="python -m catalog_sync.descriptors.jsonschema")
    parser.add_argument("outdir", help="folder to write the schema files into")
    args = parser.parse_args(argv)
    for path in write(args.outdir):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
