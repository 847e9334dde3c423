"""What reading one descriptor file yields: its documents, each an entity or the reasons it is not.

These plain, picklable records cross process boundaries (the sync pass parses in worker processes)
and stage boundaries (scanner -> reconcile -> store), so they carry no live objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from catalog_sync.descriptors.problems import Problem
from catalog_sync.model import Entity

if TYPE_CHECKING:
    from catalog_sync.descriptors.links import EntityLink


@dataclass(frozen=True)
class Reference:
    """One name that must match a scorecard's: what it names, in which scorecard, and where it is."""

    what: str
    """``scorecard``, ``check`` or ``level``."""
    scorecard: str
    value: str
    field: str
    line: int | None = None
    column: int | None = None


@dataclass
class ParsedDocument:
    """One YAML document of a file. ``entity`` is None when the document has an error.

    ``ref`` is filled whenever the document names a kind and a name, even when it is invalid, so
    that reconcile can attach the error to the entity's last good version.
    """

    index: int
    line: int
    column: int
    entity: Entity | None
    ref: str | None
    problems: list[Problem] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    """Scorecard names the entity writes, checked by whoever knows the scorecards (``references``)."""
    links: list[EntityLink] = field(default_factory=list)
    """Entity refs the spec writes, checked by whoever can ask a catalog (``links``)."""

    @property
    def valid(self) -> bool:
        """True when the document produced an entity (warnings allowed)."""
        return self.entity is not None


@dataclass
class ParsedFile:
    """One descriptor file: its documents and the problems of the file as a whole."""

    path: str
    documents: list[ParsedDocument] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    blob_sha: str | None = None

    def all_problems(self) -> list[Problem]:
        """File-level problems first, then each document's, in file order."""
        out = list(self.problems)
        for doc in self.documents:
            out.extend(doc.problems)
        return out

    @property
    def has_errors(self) -> bool:
        """True when anything in the file is an error (warnings do not count)."""
        return any(p.severity == "error" for p in self.all_problems())
