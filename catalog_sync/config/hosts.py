"""The schemas of sources listed from a hosting API (``github``, ``gitlab``), each key checked alone.

A github source names an organisation or a user, a gitlab one a group; both name the API (``api_url``,
over a scheme ``sync.allowed_protocols`` lists, checked by ``SettingsSchema``), how to authenticate
(the *name* of an environment variable, never a secret), and which repositories to keep.
Regular expressions are compiled here, so a bad one is refused at start naming its key.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates,
    validates_schema,
)

from catalog_sync.config.network import check_ca_file, check_proxy, names_a_host, network_of, split_url
from catalog_sync.config.patterns import check_pattern
from catalog_sync.config.settings import (
    DEFAULT_API_URLS,
    AppAuth,
    GitHubSourceSettings,
    GitLabSourceSettings,
    RepositoryFilters,
    TokenAuth,
)
from catalog_sync.credentials import credential_in_url
from catalog_sync.refnames import given_branch_problem

SOURCE_NAME = validate.Regexp(
    r"^[A-Za-z0-9][-A-Za-z0-9_.]{0,62}\Z",
    error="must be 1 to 63 letters, digits, '-', '_' or '.', starting with a letter or a digit",
)
ENV_NAME = validate.Regexp(
    r"^[A-Za-z_][A-Za-z0-9_]{0,127}\Z",
    error="must be the name of an environment variable (letters, digits, _)",
)
MAX_GITHUB_LOGIN = 39
"""GitHub's limit on a login; an Enterprise Managed User's counts its ``_SHORTCODE`` suffix in it."""
GITHUB_LOGIN = validate.Regexp(
    rf"^[A-Za-z0-9][A-Za-z0-9_-]{{0,{MAX_GITHUB_LOGIN - 1}}}\Z",
    error=(
        "must be a GitHub login: letters, digits, '-' and '_' (an Enterprise Managed User's or a GitHub "
        f"Enterprise Server login, such as octocat_acme), starting with a letter or a digit, at most "
        f"{MAX_GITHUB_LOGIN} characters"
    ),
)
"""An organisation's or a user's login as a URL path segment takes it: github.com's are letters, digits
and '-', but an Enterprise Managed User's is ``handle_SHORTCODE`` and GitHub Enterprise Server's may
hold '_' too. Nothing else: no '/', '.', space or '%', so the login can never climb out of
``/orgs/LOGIN`` or ``/users/LOGIN`` nor name another path."""
_GITLAB_SEGMENT = r"(?!\.+(?:/|$))[A-Za-z0-9_.][A-Za-z0-9_.-]{0,254}"
"""A segment of a GitLab path: it may start with a dot (``.templates``), but dots alone would climb."""
GITLAB_GROUP = validate.Regexp(
    rf"^{_GITLAB_SEGMENT}(?:/{_GITLAB_SEGMENT}){{0,19}}\Z",
    error="must be a group's full path (such as acme or acme/platform)",
)
TOPIC = validate.Regexp(
    r"^[a-z0-9][a-z0-9-]{0,49}$", error="must be a topic (lower-case letters, digits, '-')"
)
MAX_TOPICS = 100
MAX_GITLAB_TOPIC = 255


def check_gitlab_topic(value: str) -> None:
    """A GitLab topic is a name as people write it ("AWS ECS", "python3.11"): any printable text
    without a comma (GitLab's separator), compared in lower case as GitLab keeps topics unique."""
    text = value.strip()
    if not text or len(text) > MAX_GITLAB_TOPIC or "," in text or not text.isprintable():
        raise ValidationError(
            f"must be a GitLab topic: 1 to {MAX_GITLAB_TOPIC} printable characters, no comma"
        )


class _Strict(Schema):
    class Meta:
        unknown = RAISE


def check_branch(value: str) -> None:
    """A branch must be one git accepts: refused here, it would fail every repository of the source,
    or fetch something else than a branch (``a..b``, ``-x``), at each pass."""
    problem = given_branch_problem(value)
    if problem is not None:
        hint = "; leave branch out (null) to read each repository's default branch" if value == "HEAD" else ""
        raise ValidationError(f"not a branch name git accepts: {problem}{hint}")


PUBLIC_API = "api.github.com"
DATA_RESIDENCY = ".ghe.com"
"""The domain under which GitHub Enterprise Cloud with data residency gives each enterprise its
subdomain (``acme.ghe.com``, its API at ``api.acme.ghe.com``)."""


def github_api_netloc(netloc: str) -> str:
    """The API host a URL of ``netloc`` belongs to (lower-cased ``host[:port]``): ``api.github.com`` for
    github.com, ``api.<name>.ghe.com`` for ``<name>.ghe.com``; any other host is its own API's."""
    if netloc in ("github.com", "www.github.com"):
        return PUBLIC_API
    if netloc.endswith(DATA_RESIDENCY) and not netloc.startswith("api.") and netloc.count(".") == 2:
        return f"api.{netloc}"
    return netloc


def canonical_api_url(value: str) -> str:
    """An API URL (already checked) as every part reads it: scheme and host in lower case, no default
    port, no trailing slash. Repository keys carry its ``host[:port]`` and a delivery names its host
    so; ``HTTP://`` is ``http://`` to ``sync.allowed_protocols`` as to urllib3."""
    parts = urlsplit(value)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    host = f"[{host}]" if ":" in host else host
    port = parts.port
    netloc = host if port is None or port == {"https": 443, "http": 80}.get(scheme) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path.rstrip("/"), "", ""))


def check_api_url(value: str) -> None:
    """An API root: http(s), a host, no credentials, no query; the protocol is checked against
    ``sync.allowed_protocols`` by the settings, which know them."""
    found = credential_in_url(value)
    if found is not None:
        raise ValidationError(
            f"the URL carries {found}; name the environment variable that holds the token in auth.token_env"
        )
    parts, port = split_url(value)
    if parts.scheme not in ("https", "http"):
        raise ValidationError("must be an http(s) URL such as https://api.github.com")
    if not parts.hostname or "@" in parts.netloc:
        raise ValidationError("the URL names no host (or carries a user name); give https://HOST[/PATH]")
    if "?" in value or "#" in value:  # an empty one too: paths would be appended to the query
        raise ValidationError("the URL may not carry a query or a fragment")
    if port == 0:
        raise ValidationError("port 0 is not a port")
    if not names_a_host(parts.netloc):
        raise ValidationError(
            "the URL's host is not a host name nor an IP address (an IPv6 one in brackets); give "
            "https://HOST[:PORT][/PATH]"
        )
    if (parts.hostname or "").endswith("."):
        raise ValidationError(
            "give the host without its final '.': the host's webhook deliveries name it so, and would "
            "match no repository of this source"
        )


class StrictBoolean(fields.Boolean):
    """``true`` or ``false`` only: 1, "yes" and "on" are refused, as a mistyped value should be."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class _TokenAuthSchema(_Strict):
    token_env = fields.String(required=True, validate=ENV_NAME)

    @pre_load
    def _only_tokens(self, data: Any, **_: Any) -> Any:
        """A GitLab source authenticates by token alone: say so before asking for the token."""
        if isinstance(data, dict):
            for key in data:
                if key != "token_env":
                    message = "unknown key (a gitlab source authenticates by auth.token_env)"
                    raise ValidationError(message, key)
        return data

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> TokenAuth:
        return TokenAuth(**data)


class _AppSchema(_Strict):
    app_id = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=2**53))
    private_key_env = fields.String(required=True, validate=ENV_NAME)
    installation_id = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=2**53))

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> AppAuth:
        return AppAuth(**data)


class _GitHubAuthSchema(_Strict):
    token_env = fields.String(validate=ENV_NAME)
    app = fields.Nested(_AppSchema)

    @validates_schema
    def _one_way(self, data: dict[str, Any], **_: Any) -> None:
        if ("token_env" in data) == ("app" in data):
            raise ValidationError("give either token_env or app (app_id, private_key_env, installation_id)")

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> TokenAuth | AppAuth:
        app: AppAuth | None = data.get("app")
        return app if app is not None else TokenAuth(data["token_env"])


class _TopicsSchema(_Strict):
    included = fields.List(
        fields.String(validate=TOPIC), validate=validate.Length(max=MAX_TOPICS), data_key="include"
    )
    excluded = fields.List(
        fields.String(validate=TOPIC), validate=validate.Length(max=MAX_TOPICS), data_key="exclude"
    )


class _GitLabTopicsSchema(_Strict):
    """GitLab's topics are free text, unlike GitHub's (lower-case letters, digits and '-')."""

    included = fields.List(
        fields.String(validate=check_gitlab_topic),
        validate=validate.Length(max=MAX_TOPICS),
        data_key="include",
    )
    excluded = fields.List(
        fields.String(validate=check_gitlab_topic),
        validate=validate.Length(max=MAX_TOPICS),
        data_key="exclude",
    )


class _HostSourceSchema(_Strict):
    """What github and gitlab sources share: the API, and the filters of the repositories kept."""

    name = fields.String(required=True, validate=SOURCE_NAME)
    type = fields.String(required=True)
    api_url = fields.String(validate=validate.Length(min=1, max=2000))
    included = fields.String(allow_none=True, data_key="include")
    excluded = fields.String(allow_none=True, data_key="exclude")
    topics = fields.Nested(_TopicsSchema)
    forks = StrictBoolean()
    archived = StrictBoolean()
    branch = fields.String(allow_none=True, validate=check_branch)
    proxy = fields.String(validate=check_proxy)
    proxy_auth_env = fields.String(validate=ENV_NAME)
    ca_file = fields.String(validate=check_ca_file)

    @validates_schema
    def _network(self, data: dict[str, Any], **_: Any) -> None:
        network_of(data)

    @validates("included")
    def _include(self, value: str | None, **_: Any) -> None:
        if value is not None:
            check_pattern(value)

    @validates("excluded")
    def _exclude(self, value: str | None, **_: Any) -> None:
        if value is not None:
            check_pattern(value)

    @validates("api_url")
    def _api_url(self, value: str, **_: Any) -> None:
        check_api_url(value)

    def common(self, data: dict[str, Any], kind: str) -> dict[str, Any]:
        """The keyword arguments both kinds of settings take."""
        topics = data.get("topics", {})
        filters = RepositoryFilters(
            include=data.get("included"),
            exclude=data.get("excluded"),
            topics_include=tuple(t.strip().lower() for t in topics.get("included", ())),
            topics_exclude=tuple(t.strip().lower() for t in topics.get("excluded", ())),
            forks=data.get("forks", False),
            archived=data.get("archived", False),
        )
        api_url = canonical_api_url(str(data.get("api_url") or DEFAULT_API_URLS[kind]))
        return {
            "name": data["name"],
            "api_url": api_url,
            "filters": filters,
            "branch": data.get("branch"),
            "network": network_of(data),
        }


class GitHubSourceSchema(_HostSourceSchema):
    """A ``github`` source: ``org`` or ``user``, and ``auth`` by token or GitHub App."""

    org = fields.String(validate=GITHUB_LOGIN)
    user = fields.String(validate=GITHUB_LOGIN)
    auth = fields.Nested(_GitHubAuthSchema)

    @validates_schema
    def _owner(self, data: dict[str, Any], **_: Any) -> None:
        if ("org" in data) == ("user" in data):
            raise ValidationError("a github source names either 'org' or 'user'", "org")

    @validates("api_url")
    def _api_url(self, value: str, **_: Any) -> None:
        """github.com's web address answers the API's paths with web pages: say which URL is meant."""
        check_api_url(value)
        host = (urlsplit(value).hostname or "").lower()
        if github_api_netloc(host) != host:
            raise ValidationError(
                f"{host}'s API is https://{github_api_netloc(host)} "
                "(GitHub Enterprise Server's: https://HOST/api/v3)"
            )

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> GitHubSourceSettings:
        return GitHubSourceSettings(
            org=data.get("org"), user=data.get("user"), auth=data.get("auth"), **self.common(data, "github")
        )


class GitLabSourceSchema(_HostSourceSchema):
    """A ``gitlab`` source: ``group`` with its subgroups, ``auth`` by token."""

    group = fields.String(required=True, validate=GITLAB_GROUP)
    topics = fields.Nested(_GitLabTopicsSchema)
    auth = fields.Nested(_TokenAuthSchema)

    @validates("api_url")
    def _api_url(self, value: str, **_: Any) -> None:
        """GitLab answers its API below /api/v4 only (of the host, or of its relative URL root)."""
        check_api_url(value)
        if not urlsplit(value).path.rstrip("/").endswith("/api/v4"):
            raise ValidationError(
                "a GitLab API URL ends with /api/v4 (such as https://gitlab.example.com/api/v4)"
            )

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> GitLabSourceSettings:
        return GitLabSourceSettings(group=data["group"], auth=data.get("auth"), **self.common(data, "gitlab"))


HOST_SCHEMAS: dict[str, type[_HostSourceSchema]] = {
    "github": GitHubSourceSchema,
    "gitlab": GitLabSourceSchema,
}
