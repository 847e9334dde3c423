"""Whether a branch name a hosting API gives (a repository's default branch) is one git could have.

A host's listing is input from the network: a default branch with a NUL (which PostgreSQL refuses, so
storing it would fail the whole pass), ``..``, a ``:`` or a ``*`` (which turn the fetch's refspec into
another one, or into a pattern fetching every branch), or a leading ``-`` is no branch git could have
made. Git's rules (``git check-ref-format --branch``) decide, and text that is not printable (control
and invisible formatting characters, lone surrogates) is refused as well. Such a repository is listed,
its entities kept, and fails alone with the reason, while the others of the listing are read.
"""

from __future__ import annotations

_FORBIDDEN = set(" ~^:?*[\\\x7f")


def branch_problem(name: str) -> str | None:
    """Why ``name`` is not a branch name git accepts, or None when it is one."""
    if not name:
        return "it is empty"
    if not name.isprintable() or any(c in _FORBIDDEN for c in name):
        return "it holds a character refused in a branch name (unprintable, a space, ~ ^ : ? * [ or \\)"
    if name.startswith("-"):
        return "it starts with '-', which git would read as an option"
    if ".." in name or "@{" in name or name == "@":
        return "it holds '..' or '@{', which git reads as a range or a reflog"
    parts = name.split("/")
    if name.endswith(".") or any(not p or p.startswith(".") or p.endswith(".lock") for p in parts):
        return "a part of it is empty, starts with '.', or ends with '.lock' or '.'"
    return None


def refused_default(shown: str, default: str | None) -> str | None:
    """Why the repository ``shown`` is not read when its host lists ``default`` as its default branch,
    or None when that is a branch name (or none: the source then reads its own fallback)."""
    problem = branch_problem(default) if default else None
    if default is None or problem is None:
        return None
    return (
        f"{shown}: the host's default branch {default[:80]!r} is not a branch name ({problem}); "
        "the repository is not read"
    )


__all__ = ["branch_problem", "refused_default"]
