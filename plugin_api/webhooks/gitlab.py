"""What a GitLab delivery asks: ``Push Hook`` (project and group hooks) and ``System Hook`` events.

A project hook's payload names the project's web URL, so its key is ``gitlab:{netloc}:{id}`` as the
``gitlab`` source stores it. A system hook's project events name no URL (only ``project_id`` and the
paths): the host is the one the ``X-Gitlab-Instance`` header names (GitLab 15.5 and later), so another
instance's event never touches a project of the same id here; without the header they are matched by
id across the GitLab sources, and ignored as ambiguous when two sources list a project of that id. A
``group_rename`` names a group, not a project: the sources it reaches list at once (``newcomers``). A
``repository_update`` names every ref a push moved (``changes``), and is the only event GitLab sends for
a push of more than ``push_event_hooks_limit`` refs (3 by default): it is read as the push of its
change to a branch a source reads. A system hook receives every event of the instance: the ones the
catalog does not follow are answered 202 ``ignored``, since the hook cannot be narrowed to fewer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import replace
from typing import Any

from catalog_sync.store.webhook_events import Action, Created, GroupMoved, Lifecycle, Push
from plugin_api.webhooks.payload import (
    BRANCH_PREFIX,
    COMMIT,
    MAX_TEXT,
    NO_COMMIT,
    PayloadError,
    branch_of,
    commit,
    host_id,
    netloc,
    repository,
    text,
    url_host,
    value,
)

PROVIDER = "gitlab"
EVENTS = ("Push Hook", "System Hook")
SYSTEM_MOVES = ("project_rename", "project_transfer")
GROUP_RENAME = "group_rename"
"""A group's path changed (renamed, or moved under another parent): GitLab sends no event for the
projects below it, whose paths all changed."""
REPOSITORY_UPDATE = "repository_update"
"""Sent once per push whatever the number of refs; for a push of more than ``push_event_hooks_limit``
refs (3 by default), GitLab sends no push hook, and this is the only event of it."""
INSTANCE_HEADER = "X-Gitlab-Instance"
Reads = Callable[[Push], Collection[str]]
"""The branches the configured sources that may list a push's project read in it
(``newcomers.branches_read``)."""


def read_event(
    event: str, document: dict[str, Any], instance: str | None = None, reads: Reads | None = None
) -> tuple[Action | None, str | None]:
    """What the event asks, or why it changes nothing; ``instance`` is the ``X-Gitlab-Instance``
    header, the URL of the GitLab that sent it, which names the host where the payload names none;
    ``reads`` picks the change of a ``repository_update`` that is read (any, when not given)."""
    if event == "Push Hook":
        return read_push(document, instance), None
    name = system_event(document)
    if name == "push":
        return read_push(document, instance), None
    if name == REPOSITORY_UPDATE:
        return read_repository_update(document, instance, reads)
    if name == GROUP_RENAME:
        return read_group_rename(document, instance), None
    if name not in ("project_destroy", "project_create", "project_update", *SYSTEM_MOVES):
        return None, f"the system event {name!r} changes nothing the catalog keeps"
    named = repository(PROVIDER, host_id(document, "project_id"), instance_host(instance))
    if name == "project_create":
        return Created(named), None
    if name == "project_update":  # its default branch, topics or archived state may have changed
        return Lifecycle(named, "edited"), None
    if name == "project_destroy":
        return Lifecycle(named, "deleted"), None
    old_path = text(document, "old_path_with_namespace")
    new_path = text(document, "path_with_namespace")
    return Lifecycle(named, "moved", old_path=old_path, new_path=new_path), None


def read_group_rename(document: dict[str, Any], instance: str | None = None) -> GroupMoved:
    """A renamed or moved group: its id and its full path before and now (``old_full_path``,
    ``full_path``), on the instance ``X-Gitlab-Instance`` names."""
    old_path = text(document, "old_full_path")
    new_path = text(document, "full_path")
    assert old_path is not None
    assert new_path is not None
    return GroupMoved(
        netloc=instance_host(instance),
        group_id=host_id(document, "group_id"),
        old_path=old_path.strip("/"),
        new_path=new_path.strip("/"),
    )


def system_event(document: dict[str, Any]) -> str:
    """The system event's name: ``event_name``, or ``object_kind`` for the events that carry only it
    (merge requests), so those are answered as ignored rather than refused."""
    name = text(document, "event_name", required=False) or text(document, "object_kind", required=False)
    if name is None:
        raise PayloadError("event_name must be a non-empty string")
    return name


def instance_host(instance: str | None) -> str | None:
    """The host of the GitLab that sent a delivery (None when it does not say: before GitLab 15.5, a
    system hook's project events are then matched by id across the GitLab sources)."""
    return url_host(instance, INSTANCE_HEADER) if instance else None


def read_push(document: dict[str, Any], instance: str | None = None) -> Push:
    """A push: the branch, the pushed commit (``after``) and the project."""
    ref = text(document, "ref")
    assert ref is not None
    host = netloc(document, "project.web_url") or instance_host(instance)
    return Push(
        repository=repository(PROVIDER, host_id(document, "project.id", "project_id"), host),
        branch=branch_of(ref),
        default_branch=text(document, "project.default_branch", required=False),
        commit=commit(document, "after"),
    )


def read_repository_update(
    document: dict[str, Any], instance: str | None, reads: Reads | None
) -> tuple[Push | None, str | None]:
    """A ``repository_update``: the push of its change to a branch a source reads. Every change is
    read as a push's ``ref`` and ``after`` are (a broken one refuses the delivery, as it would a push);
    when none is to a branch read, the first change to a branch (else the first change) is, so it is
    ignored with the reason a push to it would be. The sources are asked once for the project's
    branches they read, not once a change: a push of a mirror moves tens of thousands of refs, and
    the answer's time is the body's parsing."""
    changes = value(document, "changes")
    if not isinstance(changes, list):
        raise PayloadError("changes must be a list")
    if not changes:
        return None, "the repository_update names no changed ref"
    moved = [_change(change, n) for n, change in enumerate(changes)]
    first = read_push(_as_push(document, changes[0]), instance)
    read = None if reads is None else {BRANCH_PREFIX + branch for branch in reads(first)}
    to_branches = [n for n, (ref, _) in enumerate(moved) if branch_of(ref) is not None]
    fallback = to_branches[0] if to_branches else 0
    picked = next((n for n in to_branches if read is None or moved[n][0] in read), fallback)
    ref, pushed = moved[picked]
    also = () if read is None else _also_read(moved, read, ref)
    return replace(first, branch=branch_of(ref), commit=pushed, also=also), None


def _also_read(
    moved: list[tuple[str, str | None]], read: set[str], picked: str
) -> tuple[tuple[str, str | None], ...]:
    """The other branches read that the changes move, each once (its first change), with their commit:
    the catalog keeps a project two sources read on two branches on one source's branch only."""
    also: dict[str, str | None] = {}
    for ref, pushed in moved:
        if ref in read and ref != picked and ref not in also:
            also[ref] = pushed
    return tuple((ref[len(BRANCH_PREFIX) :], pushed) for ref, pushed in also.items())


def _as_push(document: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    """The push payload of the project and one change (the fields ``read_push`` reads)."""
    return {
        "ref": change["ref"],
        "after": change["after"],
        "project": document.get("project"),
        "project_id": document.get("project_id"),
    }


_PLAIN_REF = re.compile(rf"[^\x00-\x1f\ud800-\udfff]{{1,{MAX_TEXT}}}")
"""A ref ``text`` takes as it is: the common case, checked at once for each of many changes."""


def _change(change: Any, n: int) -> tuple[str, str | None]:
    """The ref and commit of the ``n``-th change, checked as a push's ``ref`` and ``after``; the
    refusal names the change."""
    if isinstance(change, dict):
        ref, after = change.get("ref"), change.get("after")
        if (
            isinstance(ref, str)
            and isinstance(after, str)
            and _PLAIN_REF.fullmatch(ref)
            and COMMIT.fullmatch(after)
        ):
            return ref, None if NO_COMMIT.fullmatch(after) else after
    if not isinstance(change, dict):
        raise PayloadError(f"changes[{n}] must be an object")
    try:
        checked = text(change, "ref")
        pushed = commit(change, "after")
    except PayloadError as exc:
        raise PayloadError(f"changes[{n}].{exc}") from None
    assert checked is not None
    return checked, pushed
