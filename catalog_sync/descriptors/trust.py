"""Which sources may define the kinds that act on the whole organisation, such as scorecards.

Most descriptors describe what their own repository holds; a few kinds decide how everybody else is
judged. A ``kind: Scorecard`` named ``product-readiness`` in any repository would otherwise replace the
built-in scorecard for every product, and anyone with push rights to any scanned repository could write
one; a ``kind: Initiative`` sets deadlines for other teams' entities. So these kinds
(``RESTRICTED_KINDS``) are accepted only from the sources listed in
``scorecards.trusted_sources`` (the source ``registered`` stands for the repositories registered through
the API); a document of such a kind from any other source is refused with an error on that document,
which its repository shows like any other descriptor error, and it never reaches scoring. The built-in
scorecards and those of ``scorecards.paths`` are the operator's own files and need no trust.

The rule is enforced twice from this one module: when a repository is read (``refuse_untrusted``, so the
error is visible where it must be fixed) and when scoring collects the catalog's scorecards
(``KindTrust.refusal``, so an entity stored before the source lost its trust, or before this rule
existed, is never evaluated either). A kind added to ``RESTRICTED_KINDS`` is guarded at both.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from catalog_sync.descriptors.parsed import ParsedFile
from catalog_sync.descriptors.problems import Problem

RESTRICTED_KINDS = frozenset({"Scorecard", "Initiative"})
"""Kinds whose entities act on other repositories' entities, so only a trusted source may define them."""
TRUST_KEY = "scorecards.trusted_sources"


@dataclass(frozen=True)
class KindTrust:
    """The sources trusted with ``RESTRICTED_KINDS``, from ``scorecards.trusted_sources``."""

    trusted_sources: frozenset[str]

    @classmethod
    def of(cls, sources: Iterable[str]) -> KindTrust:
        """The trust configured as ``scorecards.trusted_sources``."""
        return cls(frozenset(sources))

    def refusal(self, kind: str, source: str | None) -> str | None:
        """Why ``source`` may not define an entity of ``kind``, or None when it may.

        ``source`` is None for an entity whose repository is gone: nothing vouches for it any more.
        """
        if kind not in RESTRICTED_KINDS or (source is not None and source in self.trusted_sources):
            return None
        named = f"source {source!r}" if source is not None else "an entity without a repository"
        return f"kind {kind} may be defined only in a trusted source ({TRUST_KEY}); {named} is not trusted"

    def refuse_untrusted(self, files: list[ParsedFile], source: str) -> int:
        """Turn every document of a restricted kind read from an untrusted ``source`` into an error on
        that document (no entity); answers how many were refused. The files are changed in place."""
        refused = 0
        for parsed in files:
            for position, document in enumerate(parsed.documents):
                entity = document.entity
                reason = self.refusal(entity.kind, source) if entity is not None else None
                if reason is None:
                    continue
                problem = Problem(
                    parsed.path, "error", reason, document.line, document.column, None, document.ref
                )
                parsed.documents[position] = replace(
                    document, entity=None, problems=[*document.problems, problem]
                )
                refused += 1
        return refused
