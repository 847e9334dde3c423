"""Which of GitHub's repository lists a ``github`` source asks, and which of its entries are the source's.

An organisation's list (``/orgs/{org}/repos?type=all``) holds every repository of it the credentials
can read. A user's (``/users/{user}/repos``) holds only public ones, as GitHub documents, so a user
source asks the list that holds what its credentials can read:

- a GitHub App installation, or an installation token given as ``token_env`` (``ghs_``, such as a
  CI job's, which has no user): ``/installation/repositories``, every repository the installation can
  read, whoever owns it; only those whose owner's login is the configured user (without case) are
  the source's;
- a personal token of that user: ``/user/repos?affiliation=owner&visibility=all``, public and private.
  The token's login is asked once per source object (``GET /user``, the token being read once when
  the source is built) through the ETag cache, and kept in it at every listing, so a restarted worker
  asks it again conditionally (a 304) and a listing costs no request for it;
- another user's token, or none: ``/users/{user}/repos?type=owner``, public repositories only: GitHub
  shows no one else a user's private ones.

A login that cannot be learned (the host refuses ``/user``) fails the listing, which removes nothing:
falling back to the public list would have the private repositories removed after two listings.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from catalog_sync.config import GitHubSourceSettings
from catalog_sync.errors import HostApiError
from catalog_sync.sources.githubauth import AppInstallation, Credentials, StaticToken
from catalog_sync.sources.githublisting import SKIPPED, owner_of, trim_installation_page, trim_page
from catalog_sync.sources.hostapi import HostClient

PER_PAGE = 100
AUTHENTICATED_USER = "/user"
"""Who the token belongs to: GitHub answers the authenticated user, ``{"login": ...}``."""
INSTALLATION_REPOSITORIES = f"/installation/repositories?per_page={PER_PAGE}"
INSTALLATION_PREFIX = "ghs_"
"""How GitHub begins an App installation's token (a server-to-server token)."""
OWN_REPOSITORIES = f"/user/repos?affiliation=owner&visibility=all&per_page={PER_PAGE}"

Trim = Callable[[Any], list[dict[str, Any]]]
"""What a list page is reduced to before it is stored (``githublisting``)."""


def login_of(data: Any) -> str:
    """The login of a ``GET /user`` answer, as stored in the ETag cache; an answer without one fails."""
    login = data.get("login") if isinstance(data, dict) else None
    if not isinstance(login, str) or not login:
        raise HostApiError(f"{AUTHENTICATED_USER}: the host's answer names no login for the token")
    return login


def _trim_user(data: Any) -> dict[str, str]:
    """What is stored of a ``GET /user`` answer: the login alone."""
    return {"login": login_of(data)}


def _installation_token(credentials: Credentials) -> bool:
    """Whether a token from the environment is an App installation's (GitHub prefixes those ``ghs_``,
    a CI job's token among them): it has no user, and GitHub refuses it ``GET /user``."""
    token = credentials.token() if isinstance(credentials, StaticToken) else None
    return token is not None and token.startswith(INSTALLATION_PREFIX)


class ListingRoute:
    """The list one source asks and the entries it keeps; one per source object, thread-safe (a push
    may list the source while a pass does)."""

    def __init__(self, settings: GitHubSourceSettings, credentials: Credentials, api: HostClient) -> None:
        self._settings = settings
        self._credentials = credentials
        self._api = api
        self._lock = threading.Lock()
        self._login: str | None = None
        self._owner: str | None = None
        """The configured user, in lower case, when the list holds other owners' repositories too."""

    def path(self) -> str:
        """The first page's path; may ask the token's login (once per source object)."""
        org, user = self._settings.org, self._settings.user or ""
        if org:
            return f"/orgs/{quote(org)}/repos?per_page={PER_PAGE}&type=all"
        if isinstance(self._credentials, AppInstallation) or _installation_token(self._credentials):
            self._owner = user.lower()
            return INSTALLATION_REPOSITORIES
        if isinstance(self._credentials, StaticToken) and self.token_login().lower() == user.lower():
            return OWN_REPOSITORIES
        return f"/users/{quote(user)}/repos?per_page={PER_PAGE}&type=owner"

    def trim(self, path: str) -> Trim:
        """How a page of ``path``'s list is read: an installation's list wraps its repositories."""
        return trim_installation_page if path == INSTALLATION_REPOSITORIES else trim_page

    def keeps(self, listed: dict[str, Any]) -> bool:
        """Whether an entry of the list is the source's: every entry but another owner's repository in
        an installation's list (an entry that could not be read is kept, and makes the listing
        incomplete)."""
        return self._owner is None or SKIPPED in listed or owner_of(listed) == self._owner

    def token_login(self) -> str:
        """The login of the token's user: asked at the first listing, then kept in the ETag cache."""
        with self._lock:
            if self._login is None:
                self._login = login_of(self._api.get(AUTHENTICATED_USER, trim=_trim_user).data)
            else:
                self._api.keep(AUTHENTICATED_USER)
            return self._login


__all__ = ["AUTHENTICATED_USER", "INSTALLATION_REPOSITORIES", "OWN_REPOSITORIES", "ListingRoute", "login_of"]
