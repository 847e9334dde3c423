"""Descriptor files: safe YAML loading with positions, validation per kind, and derived relations.

The one entry point for the rest of the engine: ``parse_file`` for bytes of a file,
``validate_entity_body`` for a JSON body (read with ``load_json``, whose nesting is bounded),
``derive_relations`` and ``location_targets`` (resolved by ``resolve_location_target``) for a valid
entity. Nothing here raises for bad input; every problem comes back as a ``Problem``.
"""

from __future__ import annotations

from catalog_sync.descriptors.jsontext import MAX_JSON_DEPTH, JsonTooDeepError, load_json
from catalog_sync.descriptors.loader import LoadLimits
from catalog_sync.descriptors.parsed import ParsedDocument, ParsedFile
from catalog_sync.descriptors.problems import Problem
from catalog_sync.descriptors.relations import derive_relations, location_targets, resolve_location_target
from catalog_sync.descriptors.validate import parse_file, validate_entity_body

__all__ = [
    "MAX_JSON_DEPTH",
    "JsonTooDeepError",
    "LoadLimits",
    "ParsedDocument",
    "ParsedFile",
    "Problem",
    "derive_relations",
    "load_json",
    "location_targets",
    "parse_file",
    "resolve_location_target",
    "validate_entity_body",
]
