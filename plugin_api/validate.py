"""``POST /api/validate``: check a descriptor file before committing it, with the CLI's rules and words.

The body is the file itself (YAML, any content type), so ``curl --data-binary @catalog-info.yaml``
works; the answer lists every error and warning with line, column, field and entity, exactly as
``catalog-sync validate --catalog`` prints them: the refs each entity writes are checked against the
catalog this process serves (``catalog_sync.descriptors.links``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import request

from catalog_sync.descriptors import LoadLimits, parse_file
from catalog_sync.descriptors.links import check_links
from catalog_sync.descriptors.references import refuse_unknown
from plugin_api.errors import refuse
from plugin_api.schemas.resources import ValidateArgsSchema, ValidationResultSchema
from plugin_api.smorest import api_blueprint
from plugin_api.state import connection, state

blp = api_blueprint("validate", __name__, "Validate a descriptor file without storing it")

DEFAULT_PATH = "catalog-info.yaml"


class ServedCatalog:
    """``CatalogRefs`` over the catalog this process serves, read on the request's connection."""

    def existing(self, ref_keys: Sequence[str]) -> set[str]:
        """See ``CatalogRefs``."""
        keys = list(ref_keys)
        entities = state().catalog.get_by_refs(keys, connection=connection())
        return {key for key, entity in zip(keys, entities, strict=True) if entity is not None}

    def of_kinds(self, kinds: Sequence[str]) -> list[str]:
        """See ``CatalogRefs``."""
        return state().catalog.ref_keys_of_kinds(kinds, connection=connection())


@blp.route("", methods=["POST"])
@blp.arguments(ValidateArgsSchema, location="query", as_kwargs=True)
@blp.doc(
    requestBody={
        "required": True,
        "description": "the descriptor file (YAML, one or more documents)",
        "content": {
            "application/yaml": {"schema": {"type": "string", "format": "binary"}},
            "text/plain": {"schema": {"type": "string", "format": "binary"}},
        },
    }
)
@blp.response(200, ValidationResultSchema)
def validate_file(path: str = DEFAULT_PATH) -> dict[str, Any]:
    """Every problem of the posted file, as ``catalog-sync validate --catalog`` finds it.

    ``valid`` is false only for errors (warnings are allowed). Besides the descriptor rules, exemptions
    and initiatives must name published scorecards, and every ref an entity writes (`spec.owner`,
    `spec.capabilities`, `spec.system`, `spec.dependsOn`, `spec.parent`, `spec.members`, ...) must name
    an entity of this catalog or of the same file; a ref that does not is an error at its line and
    field with the nearest name the catalog holds, e.g. `spec.owner: team:default/payments-tem (nor
    group:default/payments-tem) is not in the catalog; did you mean team:default/payments-team?`.
    """
    data = request.get_data(cache=True)
    if not data:
        refuse(400, "the request body is empty: send the descriptor file itself")
    descriptors = state().settings.descriptors
    parsed = parse_file(path, data, LoadLimits(max_file_bytes=descriptors.max_file_bytes))
    refuse_unknown([parsed], state().scoring.scorecard_terms(connection()))
    check_links([parsed], ServedCatalog())
    problems = parsed.all_problems()
    errors = sum(1 for problem in problems if problem.severity == "error")
    return {
        "valid": errors == 0,
        "problems": problems,
        "counts": {
            "documents": len(parsed.documents),
            "entities": sum(1 for document in parsed.documents if document.entity is not None),
            "errors": errors,
            "warnings": len(problems) - errors,
        },
    }
