"""Whether a branch name a hosting API gives (a repository's default branch) is one git could have.

A host's listing is input from the network: a default branch with a NUL (which PostgreSQL refuses, so
storing it would fail the whole pass), ``..``, a ``:`` or a ``*`` (which turn the fetch's refspec into
another one, or into a pattern fetching every branch), or a leading ``-`` is no branch git could have
made. Git's rules (``git check-ref-format --branch``) decide, and text that is not printable (control
and invisible formatting characters, lone surrogates) is refused as well. Such a repository is listed,
its entities kept, and fails alone with the reason, while the others of the listing are read. The
rules themselves are ``catalog_sync.refnames``'s, which the configuration's ``branch`` obeys too.
"""

from __future__ import annotations

from catalog_sync.refnames import branch_problem


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
