"""What a GitHub delivery asks: ``ping``, ``push``, ``repository`` and a GitHub App's ``installation``
and ``installation_repositories`` events read into plain data.

GitHub names a repository by its numeric id and its API host: the catalog's key is
``github:{netloc}:{id}``, where netloc is the host of the source's ``api_url`` (``api.github.com`` for
GitHub.com). A ``push`` payload carries the web URL (``https://github.com/o/r``) where other events
carry the API URL (``https://api.github.com/repos/o/r``): both name GitHub.com, so ``github.com`` is
read as ``api.github.com``, and a data-residency ``acme.ghe.com`` as ``api.acme.ghe.com``
(``githubhosts``); a GitHub Enterprise Server serves both from one host.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from catalog_sync.sources.githubhosts import github_api_netloc
from catalog_sync.store.webhook_events import Action, Created, InstallationChanged, Lifecycle, Push
from plugin_api.webhooks.payload import PayloadError, branch_of, commit, host_id, netloc, repository, text

PROVIDER = "github"
INSTALLATION_EVENTS = ("installation", "installation_repositories")
"""What a GitHub App's own webhook receives whatever it subscribes to: an installation installed,
removed, suspended, or given or refused repositories. Read, not refused: the app's sources list again."""
EVENTS = ("ping", "push", "repository", *INSTALLATION_EVENTS)
"""The events read; any other is refused (400) so a webhook subscribed to everything is noticed."""
LIFECYCLE = {"deleted": "deleted", "archived": "archived", "unarchived": "unarchived"}
EDITS_READ = ("default_branch", "topics")
"""The changes of an ``edited`` repository that change what a source reads: the branch it reads, and
whether its topic filters keep the repository."""
MOVES = ("renamed", "transferred")


def read_event(
    event: str,
    document: dict[str, Any],
    instance: str | None = None,
    reads: Callable[[Push], Collection[str]] | None = None,
) -> tuple[Action | None, str | None]:
    """What the event asks, or why it changes nothing (an action the catalog does not follow).
    ``instance`` and ``reads`` are unused: every GitHub payload names its repository's URL, and a
    push names one ref."""
    if event == "ping":
        return None, None
    if event == "push":
        return read_push(document), None
    if event in INSTALLATION_EVENTS:
        return read_installation(document), None
    action = text(document, "action")
    assert action is not None
    named = _repository(document)
    if action == "created":
        return Created(named), None
    if action in LIFECYCLE:
        return Lifecycle(named, LIFECYCLE[action]), None
    if action == "edited" and _edits_what_is_read(document):
        return Lifecycle(named, "edited"), None
    if action in MOVES:
        new_path = text(document, "repository.full_name")
        return Lifecycle(named, "moved", old_path=_old_path(action, document), new_path=new_path), None
    return None, f"the repository action {action!r} changes nothing the catalog keeps"


def read_push(document: dict[str, Any]) -> Push:
    """A push: the branch, the pushed commit (``after``) and the repository."""
    ref = text(document, "ref")
    assert ref is not None
    deleted = document.get("deleted")
    if deleted is not None and not isinstance(deleted, bool):
        raise PayloadError("deleted must be true or false")
    pushed = None if deleted else commit(document, "after")
    return Push(
        repository=_repository(document),
        branch=branch_of(ref),
        default_branch=text(document, "repository.default_branch", required=False),
        commit=pushed,
    )


def read_installation(document: dict[str, Any]) -> InstallationChanged:
    """An installation's change: its id, and the API host of the account it is installed on (an
    installation id is the host's own: one of another host names another installation)."""
    identifier = int(host_id(document, "installation.id"))
    return InstallationChanged(_api_host(document, "installation.account"), identifier)


def _api_host(document: dict[str, Any], name: str) -> str | None:
    """The API host of the object ``name``, read from its API ``url`` or, lacking one, its web page's."""
    host = netloc(document, f"{name}.url", api=github_api_netloc)
    return host if host is not None else netloc(document, f"{name}.html_url", api=github_api_netloc)


def _repository(document: dict[str, Any]) -> Any:
    host = _api_host(document, "repository")
    if host is None:
        raise PayloadError("repository.url is missing")
    return repository(PROVIDER, host_id(document, "repository.id"), host)


def _edits_what_is_read(document: dict[str, Any]) -> bool:
    """Whether an ``edited`` event changes the default branch or the topics (an edit of the
    description or the homepage changes nothing the catalog reads)."""
    changes = document.get("changes")
    return isinstance(changes, dict) and any(name in changes for name in EDITS_READ)


def _old_path(action: str, document: dict[str, Any]) -> str:
    """The repository's ``owner/name`` before a rename or a transfer."""
    if action == "renamed":
        owner = text(document, "repository.owner.login")
        old_name = text(document, "changes.repository.name.from")
        return f"{owner}/{old_name}"
    owner = text(document, "changes.owner.from.user.login", required=False) or text(
        document, "changes.owner.from.organization.login"
    )
    return f"{owner}/{text(document, 'repository.name')}"
