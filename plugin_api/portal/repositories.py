"""``/repositories`` and ``/repositories/{id}``: what the catalog made of each repository.

A repository's owners come here to see why an entity is missing or stale: the state of the last
sync, the commit it read, and every problem found with file, line and column, read through the same
``CatalogReads`` as the API.
"""

from __future__ import annotations

from catalog_sync.errors import NotFoundError, QueryError
from catalog_sync.store.repo_queries import MAX_ERRORS_PER_REPOSITORY, REPOSITORY_STATES
from plugin_api.paging import decode_cursor, encode_cursor
from plugin_api.portal.blueprint import blp
from plugin_api.portal.common import limit_arg, make_pager, render, text_arg
from plugin_api.state import connection, state

_CURSOR = "portal-repositories"
MAX_ID = 2**63


@blp.route("/repositories", methods=["GET"])
def repositories() -> str:
    """The sources, each with how its last listing went (a failing one says why), then the
    repositories by id, narrowed by source and state."""
    app_state = state()
    conn = connection()
    source, repo_state = text_arg("source"), text_arg("state")
    if repo_state is not None and repo_state not in REPOSITORY_STATES:
        raise QueryError("state", f"{repo_state!r} is not a state ({', '.join(REPOSITORY_STATES)})")
    after = None
    cursor = text_arg("cursor")
    if cursor:
        after = decode_cursor(_CURSOR, cursor, {"after": int})["after"]
    page = app_state.catalog.list_repositories(
        source=source, state=repo_state, after_id=after, limit=limit_arg(), connection=conn
    )
    next_cursor = None
    if page.has_more and page.last_key is not None:
        next_cursor = encode_cursor(_CURSOR, {"after": page.last_key})
    sources = app_state.catalog.list_sources(app_state.settings.sources, connection=conn)
    return render(
        "repositories.html",
        items=page.items,
        states=REPOSITORY_STATES,
        sources=[item.name for item in sources],
        source_rows=sources,
        form={"source": source or "", "state": repo_state or ""},
        pager=make_pager(
            "portal.repositories", shown=len(page.items), total=page.total_items, next_cursor=next_cursor
        ),
    )


@blp.route("/repositories/<int:repository_id>", methods=["GET"])
def repository(repository_id: int) -> str:
    """One repository with its problems."""
    if repository_id >= MAX_ID:
        raise NotFoundError(f"no repository with id {repository_id}")
    record = state().catalog.get_repository(repository_id, connection=connection())
    return render("repository.html", repo=record, shown_errors=MAX_ERRORS_PER_REPOSITORY)
