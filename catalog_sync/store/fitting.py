"""What of a reconcile plan the database can store: values longer than their columns fail alone.

A descriptor path longer than the catalog stores fails that file (its siblings are still written), an
entity whose kind, namespace, name or ref does not fit fails that entity, and a relation whose target
does not fit is not written while its entity is; each becomes a descriptor problem that names the
field and the limit, so the repository's owners see what to shorten. Applied by the writer to every
plan before a statement is built (see ``limits``).
"""

from __future__ import annotations

from collections.abc import Iterable

from catalog_sync.descriptors.problems import Problem
from catalog_sync.model import Relation
from catalog_sync.plans import EntityWrite, Plan, ProblemRow
from catalog_sync.store.limits import REFUSED, too_long
from catalog_sync.store.tables import descriptor_files, entities, relations

NOT_READ = "; the file is not read"
NOT_STORED = "; the entity is not stored"


def refuse_oversized(plan: Plan) -> None:
    """Take out of ``plan`` the files and entities whose values do not fit, as problems of their own."""
    refused_paths = {
        path: reason
        for path in {*plan.descriptor_files, *(w.path for w in plan.writes)}
        if (reason := too_long(descriptor_files.c.path, path, REFUSED[descriptor_files.c.path]))
    }
    for path, reason in sorted(refused_paths.items()):
        plan.problems.append(
            ProblemRow("descriptor", Problem(path=path, severity="error", message=reason + NOT_READ))
        )
        plan.descriptor_files.pop(path, None)
    kept: list[EntityWrite] = []
    for write in plan.writes:
        if write.path in refused_paths:
            continue
        reason = _entity_reason(write)
        if reason is None:
            kept.append(write)
            continue
        ref = write.prepared.entity.ref
        plan.problems.append(
            ProblemRow(
                "descriptor",
                Problem(path=write.path, line=write.line, severity="error", message=reason + NOT_STORED),
                entity_key=ref.key,
            )
        )
    plan.writes = kept


def _entity_reason(write: EntityWrite) -> str | None:
    ref = write.prepared.entity.ref
    for column, value in (
        (entities.c.kind, ref.kind),
        (entities.c.namespace, ref.namespace),
        (entities.c.name, ref.name),
        (entities.c.ref_key, ref.key),
    ):
        if reason := too_long(column, value, REFUSED[column]):
            return reason
    return None


def storable_relations(rels: Iterable[Relation]) -> tuple[list[Relation], list[str]]:
    """The relations whose ends fit, and why each of the others cannot be stored."""
    kept: list[Relation] = []
    refused: list[str] = []
    for rel in rels:
        reason = too_long(
            relations.c.target_key, rel.target.key, REFUSED[relations.c.target_key]
        ) or too_long(relations.c.source_key, rel.source.key, REFUSED[relations.c.source_key])
        if reason:
            refused.append(f"{rel.type} {rel.target.key[:80]}...: {reason}; the relation is not stored")
        else:
            kept.append(rel)
    return kept, refused
