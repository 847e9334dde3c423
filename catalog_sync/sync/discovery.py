"""Discovery: asking each source for its repositories and recording what changed in the catalog.

Configured sources are listed on every one-off pass, and by the worker loop once per sync interval
(listing a hosting organisation is not free). A source listed from the catalog itself (``from_catalog``:
repositories registered through the API) is listed on every pass, one query, so one registered a
moment ago is read in the same pass; its list is the catalog's own and is not recorded back. Whether a
listing may remove repositories is decided by ``reconcile.decide_removal``; the store applies it.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from catalog_sync.config import AnySourceSettings, Settings
from catalog_sync.descriptors.references import index_digest
from catalog_sync.errors import SourceError
from catalog_sync.plans import ListedRepository
from catalog_sync.reconcile import decide_removal
from catalog_sync.sources import build_source
from catalog_sync.sources.base import Repository, RepositoryInfo, Source
from catalog_sync.sources.registered import registered_settings
from catalog_sync.sources.urls import redact
from catalog_sync.store.sync_store import SyncStore
from catalog_sync.sync.summary import Clock, PassSummary, utcnow

RELIST_SECONDS = 30.0
"""The least time between two listings of one source that pushes asked for (its listings at each
``sync.interval_seconds`` aside): a push naming a repository no source lists yet asks for one, and a
busy organisation's pushes to repositories created by the minute would otherwise have it listed at
every pass. A request within it waits for a later pass (the loop polls)."""


class SourceListing(NamedTuple):
    """One configured source's listing as recorded."""

    source_id: int
    repositories: list[Repository]
    mark: datetime | None
    """The source's ``last_discovery_at`` as stored once this listing was recorded."""
    newcomers: frozenset[str] = frozenset()
    """Keys this listing found that the source did not hold, when it answered a delivery's request."""
    asked: datetime | None = None
    """When that delivery arrived."""


@dataclass
class Listing:
    """Every repository the sources list now, by (source id, key), and the sources listed."""

    repositories: dict[tuple[int, str], Repository] = field(default_factory=dict)
    source_ids: list[int] = field(default_factory=list)
    source_names: dict[int, str] = field(default_factory=dict)
    """Each listed source's name by id: what ``scorecards.trusted_sources`` is matched against."""
    marks: dict[int, datetime | None] = field(default_factory=dict)
    """Each configured source's ``last_discovery_at`` as stored once this listing of it was recorded:
    another worker's listing recorded since changes it, and this one may lack what that one found."""
    arrivals: dict[tuple[int, str], datetime] = field(default_factory=dict)
    """The repositories a delivery's request had listed, not read yet, with the delivery's arrival
    (``catalog_webhook_newcomer_visible_seconds``); the pass that claims one takes it out."""

    def copy(self) -> Listing:
        """A listing the pass may extend without changing the one kept between passes; their
        ``arrivals`` are one, so a repository's is taken once, by the pass that first claims it."""
        return Listing(
            dict(self.repositories),
            list(self.source_ids),
            dict(self.source_names),
            dict(self.marks),
            self.arrivals,
        )

    def add(self, listed: SourceListing, name: str) -> None:
        """Add one configured source's listing."""
        self.source_ids.append(listed.source_id)
        self.source_names[listed.source_id] = name
        self.marks[listed.source_id] = listed.mark
        for repository in listed.repositories:
            self.repositories[(listed.source_id, repository.info.key)] = repository
        if listed.asked is not None:
            self.arrivals.update({(listed.source_id, key): listed.asked for key in listed.newcomers})

    def replace(self, listed: SourceListing, name: str) -> None:
        """Put a source's new listing in place of its last one (the other sources' stay). The mapping
        is changed in place: a batch being read holds it."""
        for key in [k for k in self.repositories if k[0] == listed.source_id]:
            del self.repositories[key]
        if listed.source_id in self.source_ids:
            self.source_ids.remove(listed.source_id)
        self.add(listed, name)


def read_rules(settings: Settings, source_name: str) -> str:
    """A digest of what decides how one source's repositories are read: the descriptor patterns and
    limits, the fact paths, the release tag pattern, and whether the source may define restricted
    kinds. When it changes, the source's repositories are read again at once, so the catalog follows
    the configuration, not the next commit of each repository."""
    descriptors = settings.descriptors
    rules = {
        "patterns": list(descriptors.patterns),
        "max_file_bytes": descriptors.max_file_bytes,
        "max_tree_entries": descriptors.max_tree_entries,
        "max_read_bytes": descriptors.max_read_bytes,
        "fact_paths": list(settings.sync.fact_paths),
        "trusted": source_name in settings.scorecards.trusted_sources,
        "release_tags": settings.kpis.release_tag_pattern,
    }
    return hashlib.sha256(json.dumps(rules, sort_keys=True).encode()).hexdigest()


class Discovery:
    """The sources of one sync engine, built once, and their latest listing."""

    def __init__(
        self,
        settings: Settings,
        store: SyncStore,
        sources: list[Source] | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self._settings = settings
        self._store = store
        self._clock = clock
        self._configured: list[Source | SourceError] | None = list(sources) if sources is not None else None
        self._from_catalog = [self._build_registered()]
        self._scorecards_digest: str | None = None
        self._listed: Listing | None = None
        self._listed_at = 0.0
        self._relisted_at: dict[str, float] = {}
        """When each configured source was last listed for a push by this process (monotonic)."""

    def _cache_dir(self) -> str:
        return os.path.join(self._settings.base_dir, self._settings.sync.cache_dir)

    def _build_registered(self) -> Source:
        return build_source(
            registered_settings(),
            base_dir=self._settings.base_dir,
            cache_dir=self._cache_dir(),
            allowed_protocols=self._settings.sync.allowed_protocols,
            list_registered=self._store.registered_repositories,
            sync=self._settings.sync,
            release_tags=self._settings.kpis.release_tag_pattern,
        )

    def build_sources(self) -> list[Source | SourceError]:
        """The configured sources, built once; one that cannot be built is kept as its error."""
        if self._configured is None:
            built: list[Source | SourceError] = []
            for config in self._settings.sources:
                try:
                    built.append(
                        build_source(
                            config,
                            base_dir=self._settings.base_dir,
                            cache_dir=self._cache_dir(),
                            allowed_protocols=self._settings.sync.allowed_protocols,
                            sync=self._settings.sync,
                            release_tags=self._settings.kpis.release_tag_pattern,
                            descriptors=self._settings.descriptors,
                        )
                    )
                except SourceError as exc:
                    built.append(exc)
            self._configured = built
        return self._configured

    def discover(self, summary: PassSummary, now: datetime, *, force: bool) -> Listing:
        """List every source: configured ones when forced or once per interval (and a source a push
        asked for, at once), the others each pass."""
        self._follow_scorecards(now)
        interval = self._settings.sync.interval_seconds
        requests = self._store.listing_requests() if self._settings.sources else {}
        if force or self._listed is None or time.monotonic() - self._listed_at >= interval:
            self._listed, self._listed_at = self._list_configured(summary, now, requests), time.monotonic()
        elif requests:
            self._list_requested(self._listed, requests, summary, now)
        listing = self._listed.copy()
        for source in self._from_catalog:
            self._list_from_catalog(source, listing, now)
        return listing

    def _follow_scorecards(self, now: datetime) -> None:
        """When the published scorecards' names, checks or levels change (or this process starts),
        read again the repositories whose exemptions or initiatives named one that did not exist: a
        first sync reads them before the platform repository's scorecards are published."""
        digest = index_digest(self._store.scorecard_terms())
        if digest != self._scorecards_digest:
            self._store.reread_refused(now)
            self._scorecards_digest = digest

    def _list_configured(self, summary: PassSummary, now: datetime, requests: dict[str, datetime]) -> Listing:
        listing = Listing()
        for source, config in zip(self.build_sources(), self._settings.sources, strict=True):
            listed = self._list_one(source, config, summary, now, requests.get(config.name))
            if listed is not None:
                listing.add(listed, config.name)
        return listing

    def relist_outdated(
        self, listing: Listing, source_ids: set[int], summary: PassSummary, now: datetime
    ) -> None:
        """List again, now, the configured sources among ``source_ids`` that another worker listed
        since this one did (its stored mark is no longer ``listing``'s): a repository that worker found
        (one a push asked a listing for, say) is due at once, and this worker may claim it first; read
        against this worker's older listing, it would be failed as one its source no longer lists.
        Asked only for repositories claimed and missing from ``listing``, which is updated in place."""
        outdated = [sid for sid in sorted(source_ids) if sid in listing.marks]
        if not outdated:
            return
        with self._store.transaction() as tx:
            outdated = [sid for sid in outdated if self._store.last_listed(tx, sid) != listing.marks[sid]]
        self._relist(listing, {listing.source_names[sid]: None for sid in outdated}, summary, now)

    def _list_requested(
        self, listing: Listing, requests: dict[str, datetime], summary: PassSummary, now: datetime
    ) -> None:
        """List again, between intervals, the sources a push asked for (a repository created since
        their last listing), each at most once per ``RELIST_SECONDS``; the rest keep their listing."""
        wanted: dict[str, datetime | None] = {}
        for name, asked in requests.items():
            last = self._relisted_at.get(name)
            if last is None or time.monotonic() - last >= RELIST_SECONDS:
                self._relisted_at[name] = time.monotonic()
                wanted[name] = asked
        self._relist(listing, wanted, summary, now)

    def _relist(
        self, listing: Listing, wanted: dict[str, datetime | None], summary: PassSummary, now: datetime
    ) -> None:
        """List again the configured sources ``wanted`` names (each with the push's request it answers,
        if any), each new listing in place of its last in ``listing`` and in the one kept between
        passes; a source whose listing fails keeps its last."""
        pairs = [
            (s, c)
            for s, c in zip(self.build_sources(), self._settings.sources, strict=True)
            if c.name in wanted
        ]
        # In the order of the requests (a source a moved repository left before the one it entered:
        # ``lifecycle_writes.holders_then_reach``), else of the configuration.
        pairs.sort(key=lambda pair: (wanted[pair[1].name] is not None, wanted[pair[1].name] or now))
        for source, config in pairs:
            listed = self._list_one(source, config, summary, now, wanted[config.name])
            if listed is None:
                continue
            listing.replace(listed, config.name)
            if self._listed is not None and self._listed is not listing:
                self._listed.replace(listed, config.name)

    def _list_one(
        self,
        source: Source | SourceError,
        config: AnySourceSettings,
        summary: PassSummary,
        now: datetime,
        asked: datetime | None,
    ) -> SourceListing | None:
        """List one configured source and record what changed, with the stored mark of the listing
        recorded; None when its listing failed (the error is recorded on the source). A push's request
        ``asked`` is answered by a listing made, and by a failed one only once the interval answers it."""
        with self._store.transaction() as tx:
            source_id = self._store.ensure_source(tx, config.name, config.type, config.target)
            self._store.reread_on_new_rules(tx, source_id, read_rules(self._settings, config.name), now)
            # The last listing recorded, as stored: one another worker records meanwhile changes it.
            seen = self._store.last_listed(tx, source_id)
            held = {r.key for r in self._store.listed_repositories(tx, source_id)}
        entry: dict[str, Any] = {"name": config.name, "repositories": 0, "error": None}
        summary.sources.append(entry)
        try:
            if isinstance(source, SourceError):
                raise source
            listed = source.discover()
        except SourceError as exc:
            # The summary is printed by ``catalog-sync sync``; what is stored, the store redacts.
            entry["error"] = redact(str(exc))
            with self._store.transaction() as tx:
                self._store.record_source_failure(tx, source_id, str(exc), now)
                if asked is not None and self._answered_by_interval(asked, now):
                    self._store.clear_listing_request(tx, source_id, asked)
            return None
        with self._store.transaction() as tx:
            beside_another = self._store.listed_beside(tx, source_id, seen)
            previous = self._store.listed_repositories(tx, source_id)
            found = _not_removed_meanwhile([r.info for r in listed], held, previous)
            decision = decide_removal(
                previous,
                [info.key for info in found],
                max_removal_fraction=self._settings.sync.max_removal_fraction,
                removal_listings=int(getattr(source, "removal_listings", 1)),
                retired_keys=getattr(source, "retired_keys", ()),
                skipped_entries=getattr(source, "skipped_entries", ()),
                beside_another=beside_another,
            )
            refusals = self._store.record_discovery(tx, source_id, found, decision, now=self._clock())
            if asked is not None:
                self._store.clear_listing_request(tx, source_id, asked)
            mark = self._store.last_listed(tx, source_id)
        entry["repositories"] = len(listed)
        entry["error"] = "; ".join(e for e in (decision.refused, *refusals) if e) or None
        held_before = {r.key for r in previous}
        newcomers = frozenset(info.key for info in found if info.key not in held_before)
        return SourceListing(source_id, listed, mark, newcomers if asked else frozenset(), asked)

    def _answered_by_interval(self, asked: datetime, now: datetime) -> bool:
        """Whether a push's request whose listing failed is dropped: once it is as old as
        ``sync.interval_seconds``, the source's regular listing answers it. A younger one is kept, and
        tried again after ``RELIST_SECONDS`` (a host's passing 502 or rate limit must not leave a new
        repository out of the catalog until the next interval); the source's error says why meanwhile."""
        return (now - asked).total_seconds() >= self._settings.sync.interval_seconds

    def _list_from_catalog(self, source: Source, listing: Listing, now: datetime) -> None:
        with self._store.transaction() as tx:
            source_id = self._store.find_source(tx, source.name)
            if source_id is not None:
                self._store.reread_on_new_rules(tx, source_id, read_rules(self._settings, source.name), now)
        if source_id is None:
            return  # nothing was ever registered
        for repository in source.discover():
            listing.repositories[(source_id, repository.info.key)] = repository
        listing.source_ids.append(source_id)
        listing.source_names[source_id] = source.name


def _not_removed_meanwhile(
    found: list[RepositoryInfo], held: set[str], previous: Sequence[ListedRepository]
) -> list[RepositoryInfo]:
    """What a listing found, less the repositories the source held when it started and no longer holds
    now: a delivery removed them (deleted, archived) or another source took them over while the host's
    pages were read, and those pages, older than that change, must not bring them back. A later event
    or listing that sees them again does."""
    gone = held - {r.key for r in previous}
    return [info for info in found if info.key not in gone] if gone else found
