"""Whether a text is a branch name git accepts (``git check-ref-format --branch``), in one place.

Three rules depend on it and must agree: a branch a configuration names (``sources[].branch``, refused
at start naming its key), one a registration names (``POST /api/repositories``, refused with 400) and
a default branch a hosting API lists (``sources.branchnames``: that repository alone fails). It sits
below the configuration so the configuration can use it.

A name with ``..``, ``:``, ``*`` or ``@{`` turns a fetch's refspec into a range, a pattern or a reflog;
one starting with ``-`` is read as an option; ``HEAD`` names the branch checked out, never one of
``refs/heads/``; a NUL is refused by PostgreSQL; text that is not printable
(control and invisible formatting characters) is refused as well, since no one could read it back.
"""

from __future__ import annotations

_FORBIDDEN = set(" ~^:?*[\\\x7f")
MAX_BRANCH = 255
"""The longest branch name taken (the hosts refuse longer refs)."""


def branch_problem(name: str) -> str | None:
    """Why ``name`` is not a branch name git accepts, or None when it is one."""
    if not name:
        return "it is empty"
    if len(name) > MAX_BRANCH:
        return f"it is over {MAX_BRANCH} characters"
    if not name.isprintable() or any(c in _FORBIDDEN for c in name):
        return "it holds a character refused in a branch name (unprintable, a space, ~ ^ : ? * [ or \\)"
    if name == "HEAD":
        return "git refuses HEAD as a branch name (it names the branch checked out)"
    if name.startswith("-"):
        return "it starts with '-', which git would read as an option"
    if ".." in name or "@{" in name or name == "@":
        return "it holds '..' or '@{', which git reads as a range or a reflog"
    parts = name.split("/")
    if name.endswith(".") or any(not p or p.startswith(".") or p.endswith(".lock") for p in parts):
        return "a part of it is empty, starts with '.', or ends with '.lock' or '.'"
    return None


def given_branch_problem(name: str) -> str | None:
    """``branch_problem`` for a branch a person gives (a configuration, a registration): one starting
    with ``refs/`` is git's, but meant as the ref (``refs/heads/main`` for ``main``) it names a branch
    no remote has, and fails at every pass; a host may list such a branch, and is taken at its word."""
    if name.startswith("refs/"):
        return "it starts with 'refs/': give the branch's name alone (main, not refs/heads/main)"
    return branch_problem(name)


__all__ = ["MAX_BRANCH", "branch_problem", "given_branch_problem"]
