"""What counts as a credential in a repository URL, in one place.

Two rules depend on it and must agree: redaction (``sources.urls.redact``: a credential is never
shown or stored) and refusal (a configured ``sources[].url`` or a URL given to ``POST
/api/repositories`` that carries one is refused, because credentials belong to git's credential
helper or the environment, not to the catalog). It sits below the configuration so the configuration
can refuse such a URL at start, naming its key.

The userinfo of a URL is everything between ``scheme://`` and the LAST ``@`` before the path: a
password may hold ``@``, quotes, spaces, ``<`` or anything else, and git splits it the same way.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from catalog_sync.errors import SourceError

SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
"""A URL's scheme and its ``://``, for a text that starts with one (``SCHEME.match``). To find URLs
inside a text use ``url_starts``: searching with this pattern retries every letter of a long word
and takes time in the square of the text's length."""

_SCHEME_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+.-")
_MAX_SCHEME = 64
"""Characters looked at before a ``://`` for its scheme; real schemes are a few letters long."""


@dataclass(frozen=True)
class UrlStart:
    """A URL found in a text: its scheme is ``text[start:authority - 3]``."""

    start: int
    authority: int
    """Where the authority starts, just after ``://``."""


def url_starts(text: str) -> Iterator[UrlStart]:
    """Every URL of ``text`` (a scheme followed by ``://``), left to right, in time linear in its length.

    Each ``://`` is found with ``str.find`` and its scheme read backwards, so a text of any length and
    shape (a request URL sent by anyone, git's error output) costs one pass, unlike a regular
    expression search that retries each letter of a long word.
    """
    found = text.find("://")
    while found != -1:
        start = found
        floor = max(0, found - _MAX_SCHEME)
        while start > floor and text[start - 1] in _SCHEME_CHARACTERS:
            start -= 1
        while start < found and not (text[start].isascii() and text[start].isalpha()):
            start += 1
        if start < found:
            yield UrlStart(start, found + 3)
        found = text.find("://", found + 3)


SECRET_NAME = re.compile(
    r"token|secret|passw|pass|pwd|key|jwt|sig|auth|credential|session|bearer|cookie", re.IGNORECASE
)
"""A query parameter whose name holds one of these words carries a secret (``private_token``,
``access_token``, ``password``, ``pass``, ``api_key``, ``apikey``, ``jwt``, ``X-Amz-Signature``...);
a harmless parameter caught by it only loses its value in what is shown."""

_PARAM_NAME_TEXT = r"[?&;#](?P<name>[^=&\s#?;'\"<>]{1,100})="
"""Where a parameter's name stands: after ``?``, ``&``, ``;`` or ``#``, up to its ``=``."""
SECRET_PARAM = re.compile(rf"(?P<lead>{_PARAM_NAME_TEXT})(?P<value>[^&\s#]*)")
"""A ``name=value`` pair of a query (or fragment, or a path's ``;`` parameters) anywhere in a text;
``SECRET_NAME`` decides by the name. The value runs to the next ``&``, ``#`` or white space, quotes
included: a value a URL could hold is never cut short, and at worst a quote after it is hidden too."""

_PARAM_NAME = re.compile(_PARAM_NAME_TEXT)
"""The name of each ``SECRET_PARAM`` of a URL, and of one whose value another parameter's ran over
(``?ref=main?access_token=...``): a refusal must see every one."""

HOSTING_TOKEN = re.compile(
    r"\b(?:gh[pousr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_-]{16,})"
)
"""GitHub and GitLab tokens by their documented prefixes: they leak bare (an error quoting a header or a
configuration value), not only inside a URL."""

_TOKEN_USER = re.compile(r"(?:gh[pousr]_|github_pat_|glpat-)\S*|[0-9a-fA-F]{40}")
"""A user name that is a token (GitHub accepts ``https://TOKEN@github.com``): a hosting token's prefix,
or the 40 hexadecimal digits of a classic GitHub token."""

_MAX_AUTHORITY = 8192


@dataclass(frozen=True)
class Userinfo:
    """The userinfo of the URL starting at ``start`` of some text: ``text[start:end]``, before ``@``."""

    start: int
    end: int
    user: str
    password: str | None


def userinfo_at(text: str, start: int) -> Userinfo | None:
    """The userinfo of a URL whose authority starts at ``start`` (just after ``://``), if it has one.

    The authority runs to the first ``/`` (the path); the userinfo ends at the last ``@`` before it, so
    a password holding ``@`` (or anything but ``/``) is taken whole. What follows the ``@`` must look
    like a host, else there is no userinfo (an address in prose after a bare host name).
    """
    slash = text.find("/", start, start + _MAX_AUTHORITY)
    limit = slash if slash != -1 else min(len(text), start + _MAX_AUTHORITY)
    at = text.rfind("@", start, limit)
    if at == -1 or at + 1 >= len(text) or not (text[at + 1].isalnum() or text[at + 1] == "["):
        return None
    userinfo = text[start:at]
    colon = _USER_END.search(userinfo)
    if colon is None:
        return Userinfo(start, at, userinfo, None)
    return Userinfo(start, at, userinfo[: colon.start()], userinfo[colon.end() :])


_USER_END = re.compile(r":|%3a", re.IGNORECASE)
"""Where a userinfo's user name ends: git decodes the user name, so what follows a ``%3A`` in it reaches
the host as the password (``alice%3AS3CRET`` is the user ``alice`` and the password ``S3CRET``)."""


def user_is_token(user: str) -> bool:
    """Whether a user name alone is a credential (a token used as the user)."""
    return bool(_TOKEN_USER.fullmatch(user))


def credential_in_url(url: str) -> str | None:
    """What kind of credential ``url`` carries, in words that quote none of it; ``None`` when clean.

    Used to refuse a URL that would otherwise be stored: a password (even empty) or a token as the user
    name, a query parameter named like a secret, or a GitHub or GitLab token anywhere in it.
    """
    for found in url_starts(url):  # anywhere, as redaction looks: ' https://u:p@h' is one too
        info = userinfo_at(url, found.authority)
        if info is not None and info.password is not None:
            return "a password"
        if info is not None and user_is_token(info.user):
            return "a token as its user name"
    if SCHEME.match(url):
        with contextlib.suppress(ValueError):
            if urlsplit(url).password is not None:  # a password holding '/', as urllib splits it
                return "a password"
    _, question, query = url.partition("?")
    if question:
        for name, _value in parse_qsl(query.partition("#")[0], keep_blank_values=True):
            if SECRET_NAME.search(name):
                return f"a secret in its query parameter {name[:40]!r}"
    for param in _PARAM_NAME.finditer(url):  # where redaction hides one: ';', '&' or '#' may start it too
        if SECRET_NAME.search(param["name"]):
            return f"a secret in its parameter {param['name'][:40]!r}"
    if HOSTING_TOKEN.search(url):
        return "a GitHub or GitLab token"
    return None


CREDENTIALS_ADVICE = (
    "credentials are never stored: give them to git through a credential helper "
    "(git config credential.helper) or the environment (GIT_ASKPASS, GIT_CONFIG_* for an "
    "http.extraHeader), and name the repository without them"
)
"""What to do instead of putting credentials in a repository URL."""


_HEADER_TOKEN = re.compile(r"[\x21-\x7e]{1,8192}")
"""What a hosting token may be: visible ASCII, as every host's tokens are. It is sent in a header,
where a control character would end the header (or fail the request with the value in the error) and
a space or a non-ASCII character would be read as something else."""


_UNSENDABLE = (
    "whose value holds a space, a line break, a control or a non-ASCII character, which no hosting "
    "token has; set it to the token alone"
)


def fits_a_header(token: str) -> bool:
    """Whether ``token`` can be sent as a header's credential as it is; a token read from the
    environment or answered by a host is checked before it is ever sent, and refused without being
    shown (a token pasted with a line break in it is still a secret)."""
    return _HEADER_TOKEN.fullmatch(token) is not None


def env_value(environ: Mapping[str, str], variable: str) -> str:
    """A secret's value as written in ``variable``: spaces around it dropped, and the quotes around it
    that ``docker run --env-file`` keeps (no token nor password is meant to be quoted)."""
    value = environ.get(variable, "").strip()
    if len(value) > 1 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1].strip()
    return value


def env_token(environ: Mapping[str, str], source: str, variable: str, advice: str = "") -> str:
    """The token in ``variable`` (a source's ``auth.token_env``), read for sending in a header. One
    unset, empty or no header could carry fails the source at start, naming the variable, never the
    value; ``advice`` is added to the first refusal (the scopes the token needs). A value in quotes
    (``docker run --env-file`` keeps them) is read without them: no hosting token holds a quote."""
    token = env_value(environ, variable)
    named = f"source {source!r}: auth.token_env names {variable}"
    if not token:
        raise SourceError(f"{named}, which is not set in the environment{advice}")
    if not fits_a_header(token):
        raise SourceError(f"{named}, {_UNSENDABLE}")
    return token


__all__ = [
    "CREDENTIALS_ADVICE",
    "HOSTING_TOKEN",
    "SCHEME",
    "SECRET_NAME",
    "SECRET_PARAM",
    "UrlStart",
    "Userinfo",
    "credential_in_url",
    "env_token",
    "env_value",
    "fits_a_header",
    "url_starts",
    "user_is_token",
    "userinfo_at",
]
