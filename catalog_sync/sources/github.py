"""The ``github`` source: every repository of an organisation or a user the credentials can read, listed
through the REST API (``githubroute`` picks the list: a user's public one lacks its private repositories).

Listing is one conditional request per 100 repositories (``hostapi``); a pass in which nothing moved
costs only 304s. Each repository is keyed by the host's numeric id (``github:{netloc}:{id}``), so a
rename or a transfer keeps its entities, their uids and their history. Its tip costs nothing while
``pushed_at`` has not moved (``tipstate``); otherwise one request (the branch). A default branch the
host answers 404 for is how GitHub shows an empty repository (created, never pushed): it is read as
empty (``EmptyRepositoryError``), not failed, and asked again when ``pushed_at`` moves. Its content is read
through the API (``githubapi``: one recursive tree, then only the descriptor blobs not cached yet, into
the cache, so a scan needs no credential). A tree the host truncated (over 100,000 entries or 7 MB) is
read by a shallow fetch (depth 1) instead, through ``sources.git``, with the token handed to git as an
``http.<origin>.extraHeader`` in the environment, never in a URL or on a command line: failing such a
repository would lose a monorepo the fetch reads well. Either way its history is the tip alone and says
so (``History.truncated``).

A listing that fails part way raises ``SourceError`` (the sync removes nothing); an archived repository
under ``archived: false``, and one GitHub lists as ``disabled`` (blocked: its content answers 403), is
reported in ``retired_keys`` and removed at once; any other repository
that stops being listed is removed after two complete listings (``removal_listings``), and its tree
record in the API cache and its shallow clone with it (``githubprune``, ``cloneprune``); blobs no
record names are pruned once a day.

This module lists and filters; a repository's tip and reads are ``githubrepo``'s.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from catalog_sync.config import DescriptorSettings, GitHubSourceSettings, SyncSettings
from catalog_sync.errors import HostApiError, SourceError
from catalog_sync.sources.base import Repository
from catalog_sync.sources.cloneprune import ClonePruner
from catalog_sync.sources.gitenv import GitLimits
from catalog_sync.sources.githubapi import ApiReader, blob_answer_bytes
from catalog_sync.sources.githubauth import Credentials, credentials_for
from catalog_sync.sources.githubhosts import git_origin
from catalog_sync.sources.githublisting import SKIPPED
from catalog_sync.sources.githubprune import ApiCachePruner
from catalog_sync.sources.githubrepo import GitHubRepository
from catalog_sync.sources.githubroute import ListingRoute
from catalog_sync.sources.hostapi import HostClient, HostLimits, netloc_of
from catalog_sync.sources.hostedhistory import HistoryReader
from catalog_sync.sources.hostfilters import Candidate, RepositoryFilter, Verdict
from catalog_sync.sources.hostreach import reach_of
from catalog_sync.sources.tipstate import TipState

_ACCEPT = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}


class GitHubSource:
    """The ``github`` source type."""

    removal_listings = 2
    """Complete listings a repository must be missing from before it is removed: one listing may
    miss a repository GitHub moved between two pages."""
    history: HistoryReader | None = None
    """Reads the history of repositories whose descriptors declare ``git`` KPIs (``build_source``)."""

    def __init__(
        self,
        settings: GitHubSourceSettings,
        cache_dir: Path,
        sync: SyncSettings,
        descriptors: DescriptorSettings | None = None,
    ) -> None:
        self.settings = settings
        self.netloc = netloc_of(settings.api_url)
        self.git_origin = git_origin(settings.api_url)
        self.cache = cache_dir / "github" / settings.name
        limits = HostLimits.of(sync)
        self.reach = reach_of(settings.name, settings.network, os.environ)
        self.credentials: Credentials = credentials_for(
            settings.name, settings.auth, settings.api_url, limits, reach=self.reach
        )
        auth, renew = self.credentials.authorization, self.credentials.refused
        cache_file = self.cache / "etags.json"
        self.api = HostClient(
            settings.name,
            settings.api_url,
            authorization=auth,
            renew=renew,
            cache_file=cache_file,
            limits=limits,
            headers=_ACCEPT,
            reach=self.reach,
        )
        descriptors = descriptors or DescriptorSettings()
        blobs = blob_answer_bytes(descriptors.max_file_bytes)
        self.reads = HostClient(
            settings.name,
            settings.api_url,
            authorization=auth,
            renew=renew,
            limits=replace(limits, max_answer_bytes=max(limits.max_answer_bytes, blobs)),
            headers=_ACCEPT,
            reach=self.reach,
        )
        self.tips = TipState(self.cache / "tips.jsonl")
        self.api_reader = ApiReader(self.reads, self.cache / "api", descriptors)
        self.pruner = ApiCachePruner(
            self.api_reader.blobs.root, self.api_reader.trees, self.cache / "api", self.removal_listings
        )
        self.clones = ClonePruner(self.cache / "git", self.removal_listings)
        self.git_limits = GitLimits.of(sync)
        self.route = ListingRoute(settings, self.credentials, self.api)
        self._filter = RepositoryFilter(settings.filters)
        self._repositories: dict[int, GitHubRepository] = {}
        self._verdicts: dict[int, tuple[dict[str, Any], Verdict]] = {}
        self.retired_keys: set[str] = set()
        """Keys of the last listing's archived repositories (``archived: false``): removed at once."""
        self.skipped_entries: list[str] = []
        """Why each entry of the last listing that names no usable repository was skipped: when any
        was, the listing is incomplete and removes nothing."""

    @property
    def name(self) -> str:
        """The source's configured name."""
        return self.settings.name

    def git_config(self) -> list[tuple[str, str]]:
        """The token for git, as a header scoped to the git host's origin; the source's proxy and
        authorities (``Reach.git_config``)."""
        header = self.credentials.git_header()
        token = [(f"http.{self.git_origin}/.extraHeader", header)] if header else []
        return [*token, *self.reach.git_config(self.git_origin)]

    def discover(self) -> list[Repository]:
        """Every repository kept by the filters; a listing that fails part way raises SourceError. An
        entry the host lists but that cannot be read is skipped and named in ``skipped_entries``: the
        rest is read, and the listing counts as incomplete (it removes nothing). Only a complete
        listing prunes the caches: the tree records (``githubprune``) and the shallow
        clones (``cloneprune``) of repositories it no longer reads (filtered out, archived or gone),
        the blobs no record names."""
        found: list[Repository] = []
        retired: set[str] = set()
        seen: set[int] = set()
        read: dict[int, str] = {}
        skipped: list[str] = []
        try:
            path = self.route.path()
            for page in self.api.pages(path, trim=self.route.trim(path)):
                for listed in page.data:
                    if not self.route.keeps(listed):
                        continue
                    if SKIPPED in listed:
                        skipped.append(listed[SKIPPED])
                        continue
                    if listed["id"] in seen:
                        continue
                    seen.add(listed["id"])
                    verdict = self._judge(listed)
                    if verdict is Verdict.SKIP:
                        continue
                    repository = self._repository(listed)
                    if verdict is Verdict.RETIRE:
                        retired.add(repository.info.key)
                    else:
                        found.append(repository)
                        read[listed["id"]] = repository._clone_url()
        except HostApiError as exc:
            raise SourceError(f"the listing stopped part way, so nothing is removed: {exc}") from None
        self.api.save()
        self.retired_keys, self.skipped_entries = retired, skipped
        if not skipped:
            self.tips.compact(seen)
            now = time.time()
            self.pruner.prune(set(read), now)
            self.clones.prune(read, now)
        return found

    def _judge(self, listed: dict[str, Any]) -> Verdict:
        """The filters' verdict; a page answered by a 304 hands the same values again, judged once."""
        judged = self._verdicts.get(listed["id"])
        if judged is not None and judged[0] is listed:
            return judged[1]
        name = listed["full_name"].rpartition("/")[2]
        candidate = Candidate(name, tuple(listed["topics"]), listed["fork"], listed["archived"])
        verdict = self._filter.judge(candidate)
        if verdict is Verdict.KEEP and listed.get("disabled"):  # blocked by GitHub: nothing can be read
            verdict = Verdict.RETIRE
        self._verdicts[listed["id"]] = (listed, verdict)
        return verdict

    def _repository(self, listed: dict[str, Any]) -> GitHubRepository:
        known = self._repositories.get(listed["id"])
        if known is None:
            known = self._repositories[listed["id"]] = GitHubRepository(self, listed)
        else:
            known.update(listed)
        return known
