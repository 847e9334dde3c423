"""Which of a host's repositories a source keeps (SPEC section 8), shared by GitHub and GitLab.

A repository is kept when its name matches ``include`` (if given) and not ``exclude``, it carries one
of ``topics.include`` (if given) and none of ``topics.exclude`` (an excluded topic wins), and it is a
fork or archived only when ``forks`` / ``archived`` allow. An archived repository that is otherwise
kept, under ``archived: false``, is *retired*: removed from the catalog at once rather than after two
listings, since the host said it is gone from active use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from catalog_sync.config import RepositoryFilters


class Verdict(Enum):
    """What a listing does with one repository."""

    KEEP = "keep"
    SKIP = "skip"
    RETIRE = "retire"


@dataclass(frozen=True)
class Candidate:
    """What the filters look at, from either host's answer."""

    name: str
    topics: tuple[str, ...]
    fork: bool
    archived: bool


class RepositoryFilter:
    """The filters of one source, compiled once."""

    def __init__(self, filters: RepositoryFilters) -> None:
        self._filters = filters
        self._include = re.compile(filters.include) if filters.include is not None else None
        self._exclude = re.compile(filters.exclude) if filters.exclude is not None else None

    def judge(self, candidate: Candidate) -> Verdict:
        """Keep, skip (not this source's business), or retire (archived, and archived ones are not read)."""
        filters = self._filters
        if self._include is not None and not self._include.search(candidate.name):
            return Verdict.SKIP
        if self._exclude is not None and self._exclude.search(candidate.name):
            return Verdict.SKIP
        topics = set(candidate.topics)
        if topics & set(filters.topics_exclude):
            return Verdict.SKIP
        if filters.topics_include and not topics & set(filters.topics_include):
            return Verdict.SKIP
        if candidate.fork and not filters.forks:
            return Verdict.SKIP
        if candidate.archived and not filters.archived:
            return Verdict.RETIRE
        return Verdict.KEEP
