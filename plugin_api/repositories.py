"""``/api/repositories``: what the catalog made of each repository, and adding or re-reading one.

A repository's owners come here to see why their entity is missing or stale: the state of the last
sync, the commit it read, and every error with file, line and entity. Registering a repository stores
it under the ``registered`` source; syncing is left to the workers (a request never runs git).
"""

from __future__ import annotations

from typing import Any

from catalog_sync.errors import NotFoundError
from catalog_sync.store.repo_queries import RepositoryRecord
from plugin_api.auth import writes
from plugin_api.paging import decode_cursor, encode_cursor, page_document, page_size
from plugin_api.schemas.resources import (
    RegisterRepositorySchema,
    RepositoryListArgsSchema,
    RepositoryListSchema,
    RepositorySchema,
    ScheduledSchema,
)
from plugin_api.smorest import api_blueprint
from plugin_api.state import connection, state

blp = api_blueprint("repositories", __name__, "Repositories: sync state, last commit, entities and errors")

_CURSOR_KIND = "repositories"
MAX_ID = 2**63
_CURSOR_FIELDS: dict[str, type | tuple[type, ...]] = {
    "after": int,
    "source": (str, type(None)),
    "state": (str, type(None)),
}


def checked_id(repository_id: int) -> int:
    """Ids beyond 64 bits name no repository (and would overflow the database driver)."""
    if repository_id >= MAX_ID:
        raise NotFoundError(f"no repository with id {repository_id}")
    return repository_id


@blp.route("", methods=["GET"])
@blp.arguments(RepositoryListArgsSchema, location="query", as_kwargs=True)
@blp.response(200, RepositoryListSchema)
def list_repositories(**args: Any) -> dict[str, Any]:
    """Repositories ordered by id; ``source`` and ``state`` narrow the list, ``cursor`` continues it."""
    app_state = state()
    limit = page_size(args.get("limit"), app_state.settings.api)
    source, repo_state, after = args.get("source"), args.get("state"), None
    if args.get("cursor"):
        position = decode_cursor(_CURSOR_KIND, args["cursor"], _CURSOR_FIELDS)
        source, repo_state, after = position["source"], position["state"], position["after"]
    page = app_state.catalog.list_repositories(
        source=source, state=repo_state, after_id=after, limit=limit, connection=connection()
    )
    next_cursor = None
    if page.has_more and page.last_key is not None:
        next_cursor = encode_cursor(
            _CURSOR_KIND, {"after": page.last_key, "source": source, "state": repo_state}
        )
    return page_document(page.items, page.total_items, next_cursor)


@blp.route("/<int:repository_id>", methods=["GET"])
@blp.response(200, RepositorySchema)
def get_repository(repository_id: int) -> RepositoryRecord:
    """One repository with its entity count and every problem found in it."""
    return state().catalog.get_repository(checked_id(repository_id), connection=connection())


@blp.route("", methods=["POST"])
@writes
@blp.arguments(RegisterRepositorySchema, location="json", as_kwargs=True)
@blp.response(201, RepositorySchema)
@blp.alt_response(
    409,
    description="the repository is already registered (under any spelling of its URL), or "
    "sync.max_registered_repositories is reached",
)
def register(url: str, branch: str | None = None) -> RepositoryRecord:
    """Add one git repository; it is read at the next pass (or at once when a worker is idle).

    The URL is checked against ``sync.allowed_protocols`` before anything is stored, so a transport
    such as ``ext::`` never reaches git; credentials in it and hosts that are not public (unless
    ``sync.allowed_private_networks`` allows them) answer 400; a repository already registered, under
    any spelling of its URL, or one more than ``sync.max_registered_repositories``, answers 409.
    """
    app_state = state()
    sync = app_state.settings.sync
    registration = app_state.administration.register_repository(
        url,
        branch,
        allowed_protocols=sync.allowed_protocols,
        now=app_state.clock(),
        private_networks=sync.allowed_private_networks,
        max_registered=sync.max_registered_repositories,
    )
    return app_state.catalog.get_repository(registration.id, connection=connection())


@blp.route("/<int:repository_id>/refresh", methods=["POST"])
@writes
@blp.response(202, ScheduledSchema)
def refresh(repository_id: int) -> dict[str, int]:
    """Read one repository at the next chance, in full, even if its tip has not moved."""
    app_state = state()
    app_state.administration.schedule_repository(checked_id(repository_id), app_state.clock())
    if app_state.sync_trigger is not None:
        app_state.sync_trigger()
    return {"scheduled": 1}
