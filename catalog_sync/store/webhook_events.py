"""What a webhook delivery asks of the catalog, as plain data: the view reads a delivery into these, the
store (``webhook_store``) applies them. Kept apart so the view and the store's SQL share them without
either importing the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

ACCEPTED = "accepted"
IGNORED = "ignored"
DUPLICATE = "duplicate"


@dataclass(frozen=True)
class HostRepository:
    """How a delivery names a repository: its provider, the host's id for it, and the host."""

    provider: str
    host_id: str
    netloc: str | None
    """Lower-cased ``host[:port]`` of the host's API; None when the delivery names no URL (a GitLab
    system hook): the id is then matched across every source of the provider."""

    @property
    def key(self) -> str | None:
        """The catalog's key of the repository, when the host is known."""
        return None if self.netloc is None else f"{self.provider}:{self.netloc}:{self.host_id}"


@dataclass(frozen=True)
class Push:
    """Commits pushed to one ref of a repository."""

    repository: HostRepository
    branch: str | None
    """The branch pushed to; None when the ref is no branch (a tag)."""
    default_branch: str | None
    """The repository's default branch as the host reports it: what a source tracking each
    repository's default branch (``branch: null``) tracks."""
    commit: str | None
    """The branch's new tip (``after``); None when the push deleted the branch."""
    listed_by: tuple[str, ...] = ()
    """The configured sources that would list the repository (its owner or group, its filters, its
    branch): when the catalog holds no repository of that key yet (created minutes ago), they are
    asked to list at once (``sources.listing_requested_at``) rather than at their next interval."""
    also: tuple[tuple[str, str | None], ...] = ()
    """The other branches (and commits) the same push moved that a source reads (a GitLab
    ``repository_update`` names every ref of a push): the first the catalog tracks is read when it
    tracks none at ``branch``."""


@dataclass(frozen=True)
class Lifecycle:
    """A change of the repository itself: ``deleted``, ``archived``, ``unarchived``, ``moved``, or
    ``edited`` (its default branch or its topics, which decide what its sources read)."""

    repository: HostRepository
    change: str
    old_path: str | None = None
    """For ``moved``: the full path before (``owner/name``, ``group/sub/project``)."""
    new_path: str | None = None
    """For ``moved``: the full path now."""
    listed_by: tuple[str, ...] = ()
    """For ``moved``, ``unarchived`` and ``edited``: the configured sources that would list the
    repository now (renamed into a filter's reach, transferred into a configured owner or group,
    unarchived where archived ones are skipped, given a topic a filter asks for), asked to list at once
    when the catalog holds no repository of that key, as for a ``Push``."""


@dataclass(frozen=True)
class Created:
    """A repository created on the host (GitHub's ``repository`` ``created``, GitLab's system hook
    ``project_create``): no source lists it yet, so the sources that would (``listed_by``, as for a
    ``Push``) are asked to list at once: one made from a template or imported brings its descriptors
    without waiting for a push."""

    repository: HostRepository
    listed_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class GroupMoved:
    """A GitLab group renamed or moved (the system hook's ``group_rename``): every project below it
    has a new path and URL, and GitLab sends no event per project. The sources whose configured group
    is that group, one of its parents or one of its subgroups (``listed_by``) are asked to list at
    once, so names, URLs and entities' locations follow without waiting for their interval."""

    netloc: str | None
    """The host (``X-Gitlab-Instance``); None when the delivery names none (before GitLab 15.5)."""
    group_id: str
    old_path: str
    """The group's full path before (``acme/platform``)."""
    new_path: str
    """The group's full path now."""
    listed_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class InstallationChanged:
    """A GitHub App installation installed, removed, suspended or given repositories or permissions
    (``installation``, ``installation_repositories``: an App's webhook receives them whether asked or
    not). The repositories it reads may have changed, and GitHub sends no event per repository: the
    ``github`` sources authenticated as that installation (``listed_by``) are asked to list at once,
    so repositories given to it show, and those taken from it follow the removal rules, without
    waiting for their interval."""

    netloc: str | None
    """The API host of the installation's account; None when the delivery names none."""
    installation_id: int
    listed_by: tuple[str, ...] = ()


Action = Push | Lifecycle | Created | GroupMoved | InstallationChanged
"""What a delivery asks of the catalog."""

ListingOnly = GroupMoved | InstallationChanged
"""The actions that name no repository, only sources to list at once."""


@dataclass(frozen=True)
class Delivery:
    """One authenticated delivery, as the view read it; ``action`` None asks nothing (a ping)."""

    provider: str
    delivery_id: str
    event: str
    received_at: datetime
    action: Action | None = None
    ignored: str | None = None
    """Why the delivery changes nothing, when the view already knows (an action nobody follows)."""


@dataclass(frozen=True)
class DeliveryOutcome:
    """What a delivery did: ``accepted``, ``ignored`` (with why) or ``duplicate``."""

    result: str
    reason: str | None = None
    repository_ids: tuple[int, ...] = ()
    woke: bool = False
    """Whether a repository was made due, or a listing asked for, so the workers must be woken."""
    listing: tuple[str, ...] = ()
    """The sources asked to list at once (a repository none lists yet, one moved, unarchived or edited,
    a group renamed): the answer shows them beside ``repository_ids``."""
