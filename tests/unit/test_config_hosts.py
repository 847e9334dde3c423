"""Sources listed from GitHub and GitLab: each kind takes its own keys, and every bad value is refused
at start with its key named, before any request is sent."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from itertools import product
from pathlib import Path
from typing import Any

import pytest
import yaml

from catalog_sync.config import (
    AppAuth,
    GitHubSourceSettings,
    GitLabSourceSettings,
    RepositoryFilters,
    TokenAuth,
    load_settings,
    parse_settings,
)
from catalog_sync.errors import ConfigError
from catalog_sync.sources.githubhosts import git_origin
from catalog_sync.sources.hostfilters import Candidate, RepositoryFilter


def _github(**keys: Any) -> dict[str, Any]:
    return {"name": "acme", "type": "github", "org": "acme"} | keys


def _gitlab(**keys: Any) -> dict[str, Any]:
    return {"name": "acme-gl", "type": "gitlab", "group": "acme"} | keys


def test_a_github_source_takes_every_key_of_the_spec() -> None:
    raw = _github(
        api_url="https://ghe.example.com/api/v3/",
        auth={"token_env": "GITHUB_TOKEN"},
        include="^svc-",
        exclude="-sandbox$",
        topics={"include": ["catalog"], "exclude": ["legacy"]},
        forks=True,
        archived=True,
        branch="main",
    )
    (source,) = parse_settings({"sources": [raw]}, environ={}).sources
    assert source == GitHubSourceSettings(
        name="acme",
        org="acme",
        api_url="https://ghe.example.com/api/v3",
        auth=TokenAuth("GITHUB_TOKEN"),
        filters=RepositoryFilters("^svc-", "-sandbox$", ("catalog",), ("legacy",), True, True),
        branch="main",
    )
    assert source.target == "https://ghe.example.com/api/v3/orgs/acme"


def test_sources_default_to_the_public_hosts_and_to_no_forks_nor_archived() -> None:
    raw = [{"name": "me", "type": "github", "user": "octo-cat"}, _gitlab()]
    github, gitlab = parse_settings({"sources": raw}, environ={}).sources
    assert isinstance(github, GitHubSourceSettings)
    assert isinstance(gitlab, GitLabSourceSettings)
    assert (github.user, github.org, github.api_url) == ("octo-cat", None, "https://api.github.com")
    assert gitlab.api_url == "https://gitlab.com/api/v4"
    for source in (github, gitlab):
        assert source.filters == RepositoryFilters()
        assert (source.branch, source.auth) == (None, None)


@pytest.mark.parametrize(
    "owner",
    [
        {"user": "octocat_acme"},
        {"user": "mona-lisa_acme"},
        {"org": "acme_platform"},
        {"user": "a" * 39},
        {"org": "0day"},
    ],
)
def test_a_github_login_may_hold_underscores_as_enterprise_logins_do(owner: dict[str, str]) -> None:
    """An Enterprise Managed User's login is ``handle_SHORTCODE``; GitHub Enterprise Server's may hold
    '_' too: a source naming one starts."""
    (source,) = parse_settings({"sources": [{"name": "acme", "type": "github"} | owner]}, environ={}).sources
    assert isinstance(source, GitHubSourceSettings)
    assert (source.org, source.user) == (owner.get("org"), owner.get("user"))


@pytest.mark.parametrize(
    ("key", "login"),
    [
        ("user", "octo cat"),
        ("user", "octo/cat"),
        ("user", "octo\\cat"),
        ("org", ".."),
        ("org", "acme/.."),
        ("user", "octo.cat"),
        ("user", "octo%2F.."),
        ("org", ""),
        ("org", "_acme"),
        ("user", "a" * 40),
        ("org", "acme\n"),
        ("user", "octocat_acme\n"),
    ],
)
def test_a_github_login_that_could_name_another_path_is_refused_naming_key_and_file(
    tmp_path: Path, key: str, login: str
) -> None:
    config = tmp_path / "catalog-sync.yaml"
    source = {"name": "acme", "type": "github", key: login}
    config.write_text(yaml.safe_dump({"sources": [source]}), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(str(config), environ={})
    assert caught.value.key == f"sources.0.{key}"
    assert "must be a GitHub login" in caught.value.message
    assert str(caught.value).endswith(f"(in {config})")


@pytest.mark.parametrize(
    ("web", "api"),
    [
        ("https://github.com", "api.github.com"),
        ("https://www.github.com/", "api.github.com"),
        ("https://acme.ghe.com", "api.acme.ghe.com"),  # GitHub Enterprise Cloud with data residency
        ("https://ACME.ghe.com/api/v3", "api.acme.ghe.com"),
    ],
)
def test_a_github_web_address_given_as_the_api_is_refused_naming_the_api(web: str, api: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings({"sources": [_github(api_url=web)]}, environ={})
    assert caught.value.key == "sources.0.api_url"
    assert f"API is https://{api} " in caught.value.message


def test_a_data_residency_api_is_taken_and_its_git_and_pages_are_on_the_enterprise_s_host() -> None:
    (source,) = parse_settings({"sources": [_github(api_url="https://api.acme.ghe.com")]}, environ={}).sources
    assert isinstance(source, GitHubSourceSettings)
    assert source.api_url == "https://api.acme.ghe.com"
    assert git_origin(source.api_url) == "https://acme.ghe.com"


def test_a_gitlab_group_with_a_line_break_after_it_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings({"sources": [_gitlab(group="acme/platform\n")]}, environ={})
    assert caught.value.key == "sources.0.group"
    assert "full path" in caught.value.message


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"sources": [_github(name="acme\n")]}, "sources.0.name"),
        ({"sources": [_gitlab(name="acme-gl\n")]}, "sources.0.name"),
        (
            {"sources": [{"name": "svc\n", "type": "git", "url": "https://git.example.com/svc.git"}]},
            "sources.0.name",
        ),
        ({"sources": [_github(auth={"token_env": "GITHUB_TOKEN\n"})]}, "sources.0.auth.token_env"),
        ({"sources": [_gitlab(auth={"token_env": "GITLAB_TOKEN\n"})]}, "sources.0.auth.token_env"),
        (
            {
                "sources": [
                    _github(auth={"app": {"app_id": 1, "installation_id": 2, "private_key_env": "KEY\n"}})
                ]
            },
            "sources.0.auth.app.private_key_env",
        ),
        ({"webhooks": {"github": {"secrets_env": "HOOK_SECRETS\n"}}}, "webhooks.github.secrets_env"),
        ({"webhooks": {"gitlab": {"tokens_env": "LAB_TOKENS\n"}}}, "webhooks.gitlab.tokens_env"),
    ],
)
def test_a_name_with_a_line_break_after_it_is_refused_as_a_login_or_a_group_is(
    raw: dict[str, Any], key: str
) -> None:
    """A block scalar (``|``) in YAML ends its value with a line break: a source so named would show
    it in every answer, and a variable so named is never the one the environment sets (its token is
    missing, its webhook secret warned of as unset while the operator sees it set)."""
    environ = {
        "GITHUB_TOKEN": "t",
        "GITLAB_TOKEN": "t",
        "KEY": "k",
        "HOOK_SECRETS": "s" * 32,
        "LAB_TOKENS": "l" * 32,
    }
    with pytest.raises(ConfigError) as caught:
        parse_settings(raw, environ=environ)
    assert caught.value.key == key


def test_a_gitlab_group_path_may_start_with_a_dot_as_gitlab_allows() -> None:
    (source,) = parse_settings({"sources": [_gitlab(group=".platform/.templates")]}, environ={}).sources
    assert isinstance(source, GitLabSourceSettings)
    assert source.group == ".platform/.templates"


def test_a_github_app_is_configured_by_ids_and_the_name_of_its_key_variable() -> None:
    app = {"app_id": 1234, "private_key_env": "GITHUB_APP_KEY", "installation_id": 5678}
    (source,) = parse_settings({"sources": [_github(auth={"app": app})]}, environ={}).sources
    assert isinstance(source, GitHubSourceSettings)
    assert source.auth == AppAuth(1234, "GITHUB_APP_KEY", 5678)


def test_an_http_api_is_taken_where_http_is_an_allowed_protocol() -> None:
    raw = {
        "sources": [_github(api_url="http://ghe.internal/api/v3")],
        "sync": {"allowed_protocols": ["http"]},
    }
    (source,) = parse_settings(raw, environ={}).sources
    assert isinstance(source, GitHubSourceSettings)
    assert source.api_url == "http://ghe.internal/api/v3"


@pytest.mark.parametrize(
    ("source", "allowed"),
    [
        (_github(), ["ssh"]),
        (_github(api_url="https://ghe.example.com/api/v3"), ["http", "ssh", "file"]),
        (_gitlab(), ["ssh", "file"]),
        (_gitlab(api_url="HTTPS://gitlab.example.com/api/v4"), []),
    ],
)
def test_an_https_api_is_refused_where_https_is_not_an_allowed_protocol(
    source: dict[str, Any], allowed: list[str]
) -> None:
    """The API, and git for the repositories it lists (kept to its origin), would be read over https:
    refused at start, the default api_url too, naming the key and the setting to change."""
    raw = {"sources": [{"name": "first", "type": "local", "path": "p"}, source]}
    with pytest.raises(ConfigError) as caught:
        parse_settings(raw | {"sync": {"allowed_protocols": allowed}}, environ={})
    assert caught.value.key == "sources.1.api_url"
    assert "https, which sync.allowed_protocols" in caught.value.message
    assert "add https to sync.allowed_protocols" in caught.value.message


def test_the_default_allowed_protocols_take_both_hosts_default_apis() -> None:
    github, gitlab = parse_settings({"sources": [_github(), _gitlab()]}, environ={}).sources
    assert isinstance(github, GitHubSourceSettings)
    assert isinstance(gitlab, GitLabSourceSettings)
    assert (github.api_url, gitlab.api_url) == ("https://api.github.com", "https://gitlab.com/api/v4")


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("https://GHE.Example.com:443/api/v3/", "https://ghe.example.com/api/v3"),
        ("https://ghe.example.com:8443/api/v3", "https://ghe.example.com:8443/api/v3"),
        ("https://[FD00::1]:443/api/v3", "https://[fd00::1]/api/v3"),
    ],
)
def test_an_api_host_is_read_as_repository_keys_and_deliveries_name_it(written: str, read: str) -> None:
    """Repository keys carry the API's host[:port]; a delivery names the host without its default
    port and in lower case, so the configured one is read the same way."""
    (source,) = parse_settings({"sources": [_github(api_url=written)]}, environ={}).sources
    assert isinstance(source, GitHubSourceSettings)
    assert source.api_url == read


@pytest.mark.parametrize(
    "host",
    [
        "10.0.0.5",
        "[fd00::1]:8443",
        "[::ffff:10.0.0.5]",
        "ghe_internal:8443",
        "ghe-1.corp.example",
        "xn--gthub-cta.example",  # gïthub.example, as it is written in ASCII (refused as it is)
    ],
)
def test_an_api_host_may_be_any_host_name_or_ip_address(host: str) -> None:
    (source,) = parse_settings({"sources": [_github(api_url=f"https://{host}/api/v3")]}, environ={}).sources
    assert isinstance(source, GitHubSourceSettings)
    assert source.api_url == f"https://{host}/api/v3"


def test_an_api_scheme_in_capitals_is_read_as_its_lower_case() -> None:
    (source,) = parse_settings(
        {"sources": [_github(api_url="HTTPS://ghe.example/api/v3")]}, environ={}
    ).sources
    assert isinstance(source, GitHubSourceSettings)
    assert source.api_url == "https://ghe.example/api/v3"


TOKEN = "ghp_" + "a" * 36


@pytest.mark.parametrize(
    ("source", "key", "fragment"),
    [
        (_github(path="./repos"), "sources.0.path", "unknown key for a github source"),
        # libcurl takes URLs in ASCII alone: taken, such a host stopped the whole sync, not the source
        (_github(api_url="https://гитхаб.example/api/v3"), "sources.0.api_url", "xn--"),
        (_gitlab(api_url="https://gitlab.bücher.example/api/v4"), "sources.0.api_url", "xn--"),
        (_github(api_url="https://ghe.example/api/v3/é"), "sources.0.api_url", "ASCII"),
        (_github(api_url="https://gïthub.example/api/v3"), "sources.0.api_url", "xn--"),
        (_github(url="https://github.com/acme/x.git"), "sources.0.url", "unknown key for a github source"),
        (_github(group="acme"), "sources.0.group", "unknown key for a github source"),
        (_gitlab(org="acme"), "sources.0.org", "unknown key for a gitlab source"),
        (_gitlab(user="acme"), "sources.0.user", "unknown key for a gitlab source"),
        (
            {"name": "x", "type": "local", "path": "p", "org": "acme"},
            "sources.0.org",
            "unknown key for a local",
        ),
        ({"name": "x", "type": "git", "url": "u", "auth": {}}, "sources.0.auth", "unknown key for a git"),
        ({"name": "x", "type": "github"}, "sources.0.org", "either 'org' or 'user'"),
        (_github(user="octo"), "sources.0.org", "either 'org' or 'user'"),
        ({"name": "x", "type": "gitlab"}, "sources.0.group", "Missing data"),
        (_github(org="acme/../x"), "sources.0.org", "GitHub login"),
        (_github(org="-acme"), "sources.0.org", "GitHub login"),
        (_gitlab(group="acme//x"), "sources.0.group", "full path"),
        (_gitlab(group="../etc"), "sources.0.group", "full path"),
        (_gitlab(group="acme/.."), "sources.0.group", "full path"),
        (_gitlab(group="acme/.../x"), "sources.0.group", "full path"),
        (_github(include="(unclosed"), "sources.0.include", "not a valid regular expression"),
        (_github(exclude="*x"), "sources.0.exclude", "not a valid regular expression"),
        (_github(include="a" * 1001), "sources.0.include", "at most 1000"),
        (_github(include="^([a-z]+-?)+$"), "sources.0.include", "a repetition inside a repetition"),
        (_github(exclude="(a*)*x"), "sources.0.exclude", "a repetition inside a repetition"),
        (_gitlab(exclude="(?=(x+)+y)"), "sources.0.exclude", "a repetition inside a repetition"),
        (_github(include="^(a|aa)+$"), "sources.0.include", "alternatives inside one"),
        (_github(include="^(?:ab|a|b)+$"), "sources.0.include", "alternatives inside one"),
        (_github(include="^(x|)+$"), "sources.0.include", "alternatives inside one"),
        (_github(include="^(\u0101|[\u0101b]\u0101)+$"), "sources.0.include", "alternatives inside one"),
        (_gitlab(exclude="(?:[\u0100-\u0200]|\u0150x)+$"), "sources.0.exclude", "alternatives inside one"),
        (_github(include="^(?>([a-z]+-?)+$)"), "sources.0.include", "a repetition inside a repetition"),
        (_gitlab(exclude="^(?:([a-z]+-?)+$)++"), "sources.0.exclude", "a repetition inside a repetition"),
        (_github(include=5), "sources.0.include", "Not a valid string"),
        (_github(topics={"include": ["Bad Topic"]}), "sources.0.topics.include.0", "topic"),
        (_github(topics={"include": "catalog"}), "sources.0.topics.include", "Not a valid list"),
        (_github(topics={"only": ["x"]}), "sources.0.topics.only", "unknown key"),
        (_github(topics={"include": ["AWS ECS"]}), "sources.0.topics.include.0", "topic"),
        (_gitlab(topics={"include": ["a,b"]}), "sources.0.topics.include.0", "GitLab topic"),
        (_gitlab(topics={"exclude": [" "]}), "sources.0.topics.exclude.0", "GitLab topic"),
        (_gitlab(topics={"include": ["a\nb"]}), "sources.0.topics.include.0", "GitLab topic"),
        (_gitlab(topics={"include": ["x" * 256]}), "sources.0.topics.include.0", "GitLab topic"),
        (_github(forks="yes"), "sources.0.forks", "boolean"),
        (_github(archived=1), "sources.0.archived", "boolean"),
        (_github(branch="main branch"), "sources.0.branch", "not a branch name git accepts"),
        (_github(branch="a:b"), "sources.0.branch", "not a branch name git accepts"),
        (_github(branch="main..next"), "sources.0.branch", "'..'"),
        (_github(branch="-main"), "sources.0.branch", "starts with '-'"),
        (
            _github(branch="HEAD"),
            "sources.0.branch",
            "leave branch out (null) to read each repository's default",
        ),
        (_gitlab(branch="release/"), "sources.0.branch", "a part of it is empty"),
        (_gitlab(branch="/main"), "sources.0.branch", "a part of it is empty"),
        (_github(branch="main.lock"), "sources.0.branch", "'.lock'"),
        (_github(branch=".hidden"), "sources.0.branch", "starts with '.'"),
        (_github(branch="@"), "sources.0.branch", "'@{'"),
        (_github(branch="refs/heads/main"), "sources.0.branch", "not refs/heads/main"),
        (_github(branch="main@{1}"), "sources.0.branch", "'@{'"),
        (_github(branch="ma\x01in"), "sources.0.branch", "unprintable"),
        (_github(branch="ma\u200bin"), "sources.0.branch", "unprintable"),
        (
            {"name": "x", "type": "git", "url": "https://h/x.git", "branch": "a..b"},
            "sources.0.branch",
            "'..'",
        ),
        (
            _github(api_url="http://ghe.internal/api/v3"),
            "sources.0.api_url",
            "sync.allowed_protocols lists http",
        ),
        (
            _gitlab(api_url="http://gl.internal/api/v4"),
            "sources.0.api_url",
            "sync.allowed_protocols lists http",
        ),
        (
            _github(api_url="HTTP://ghe.internal/api/v3"),
            "sources.0.api_url",
            "sync.allowed_protocols lists http",
        ),
        (
            _gitlab(api_url="Http://gl.internal/api/v4"),
            "sources.0.api_url",
            "sync.allowed_protocols lists http",
        ),
        (_github(api_url="ftp://h/api"), "sources.0.api_url", "http(s) URL"),
        (_github(api_url="https:///api"), "sources.0.api_url", "names no host"),
        (_github(api_url="https://user:pw@h/api"), "sources.0.api_url", "carries a password"),
        (_github(api_url=f"https://{TOKEN}@h/api"), "sources.0.api_url", "token as its user name"),
        (_github(api_url="https://h/api?access_token=x"), "sources.0.api_url", "auth.token_env"),
        (_github(api_url="https://h/api\nHost: evil"), "sources.0.api_url", "control characters"),
        (_github(api_url="https://h:99999/api"), "sources.0.api_url", "not a URL"),
        (_github(api_url="https://ghe.example/api/v3\u00a0"), "sources.0.api_url", "spaces or control"),
        (_github(api_url="https://ghe.example\u3000/api/v3"), "sources.0.api_url", "spaces or control"),
        (_gitlab(api_url="https://gl.example/api/v4\u200b"), "sources.0.api_url", "spaces or control"),
        (_gitlab(api_url="https://gl.example/api\u2028/v4"), "sources.0.api_url", "spaces or control"),
        (_github(api_url="https://[v1.x]/api/v3"), "sources.0.api_url", "not a host name nor an IP"),
        (_github(api_url="https://[fd00::1]x/api/v3"), "sources.0.api_url", "not a host name nor an IP"),
        (_github(api_url="https://ghe.example%2F/api/v3"), "sources.0.api_url", "not a host name nor an IP"),
        (_github(api_url="https://ghe.example\\api\\v3"), "sources.0.api_url", "not a host name nor an IP"),
        (_gitlab(api_url="https://gl<x>.example/api/v4"), "sources.0.api_url", "not a host name nor an IP"),
        (_github(api_url="https://ghe.example./api/v3"), "sources.0.api_url", "without its final '.'"),
        (_gitlab(api_url="https://GL.example.:8443/api/v4"), "sources.0.api_url", "without its final '.'"),
        (_github(api_url="https://h/api?"), "sources.0.api_url", "query or a fragment"),
        (_github(api_url="https://github.com"), "sources.0.api_url", "https://api.github.com"),
        (_github(api_url="https://WWW.GitHub.com/"), "sources.0.api_url", "https://api.github.com"),
        (_gitlab(api_url="https://gitlab.example.com"), "sources.0.api_url", "ends with /api/v4"),
        (_gitlab(api_url="https://gitlab.example.com/api/v3"), "sources.0.api_url", "ends with /api/v4"),
        (_gitlab(api_url="https://h/api/v4#"), "sources.0.api_url", "query or a fragment"),
        (_github(auth={"token": TOKEN}), "sources.0.auth.token", "unknown key"),
        (_github(auth={"token_env": TOKEN + "$"}), "sources.0.auth.token_env", "environment variable"),
        (_github(auth={"token_env": "A B"}), "sources.0.auth.token_env", "environment variable"),
        (_github(auth={}), "sources.0.auth", "either token_env or app"),
        (_github(auth={"token_env": "T", "app": {}}), "sources.0.auth.app.app_id", "Missing data"),
        (
            _github(auth={"app": {"app_id": "1", "private_key_env": "K", "installation_id": 2}}),
            "sources.0.auth.app.app_id",
            "Not a valid integer",
        ),
        (
            _github(auth={"app": {"app_id": 1, "private_key_env": "K"}}),
            "sources.0.auth.app.installation_id",
            "Missing data",
        ),
        (
            _github(auth={"app": {"app_id": 1, "private_key": "-----BEGIN", "installation_id": 2}}),
            "sources.0.auth.app.private_key_env",
            "Missing data",
        ),
        (
            _gitlab(auth={"app": {"app_id": 1, "private_key_env": "K", "installation_id": 2}}),
            "sources.0.auth.app",
            "unknown key",
        ),
        (_github(name="a/b"), "sources.0.name", "1 to 63 letters, digits, '-', '_' or '.'"),
        (_gitlab(name="x" * 64), "sources.0.name", "1 to 63 letters, digits, '-', '_' or '.'"),
    ],
)
def test_a_bad_host_source_is_refused_naming_its_key(source: dict[str, Any], key: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings({"sources": [{"name": "first", "type": "local", "path": "p"}, source]}, environ={})
    assert caught.value.key == key.replace("sources.0", "sources.1")
    assert fragment in caught.value.message
    assert TOKEN not in str(caught.value)


TAKEN_PATTERNS = [
    "^svc-",
    "-sandbox$",
    "^(svc|api)-[a-z0-9-]+$",
    "^(ab){2,}$",
    "(a{2})+",
    "^svc(-[a-z0-9]++)*$",
    "^svc(?>-[a-z0-9]+)*$",
    "^(?:svc|api|web)+-[a-z]+$",
    "^(?:[a-z0-9]|-)+$",
    "^(?>a|aa)+$",
    "^svc(-[a-z0-9]+)*$",
    "^([a-z]+-)*[a-z]+$",
    r"^team-(\d+\.)*\d+$",
    "^(svc|lib)(-[a-z0-9]+){0,5}$",
    "^(?:(svc|api)-[0-9]+)*$",
    "^[a-z]+(?:[._-][a-z0-9]+)*$",
    r"^(?:v\d+\.)?(?:\d+\.){0,2}\d+$",
    "(?:-[a-z]+)+-sandbox$",
    "^([a-z0-9]+/)*[a-z0-9-]+$",
    "^(?:x-?)+$",
    "^([a-z]++-?)+$",
    "^(?:(?!-)[a-z-])+$",
    "^(?:[^-]+-)*[^-]+$",
]
"""Name filters a platform team writes, each of whose choices inside a repetition the next
character decides."""


@pytest.mark.parametrize("pattern", TAKEN_PATTERNS)
def test_a_name_pattern_without_nested_repetition_is_taken(pattern: str) -> None:
    (source,) = parse_settings({"sources": [_github(include=pattern)]}, environ={}).sources
    assert isinstance(source, GitHubSourceSettings)
    assert source.filters.include == pattern


def _hostile_names(pattern: str) -> Iterator[str]:
    """Names that make a pattern backtrack if it can: long runs of its own characters, alone and
    mixed, that it does not match at their end."""
    own = sorted({c for c in pattern if c.isalnum() or c in "-._/"} | {"a", "1", "-", "."})
    yield from ("a" * 60 + "!", "-a" * 50 + "!", "svc" + "-a" * 40 + "!", "1." * 40 + "x")
    yield from ("team-" + "1." * 40 + "x", "v1." + "1." * 40 + "-", "svc-" + "a" * 60 + "--")
    for first, second in product(own, repeat=2):
        yield (first + second) * 30 + "!"
        yield (first * 3 + second) * 15 + "!"
        yield "svc" + (second + first * 2) * 20 + "!"


@pytest.mark.parametrize("pattern", TAKEN_PATTERNS)
def test_a_taken_name_pattern_judges_a_hostile_name_at_once(pattern: str) -> None:
    raw = {"sources": [_github(include=pattern), _gitlab(exclude=pattern)]}
    for source in parse_settings(raw, environ={}).sources:
        assert isinstance(source, GitHubSourceSettings | GitLabSourceSettings)
        judge = RepositoryFilter(source.filters).judge
        for name in _hostile_names(pattern):
            started = time.perf_counter()
            judge(Candidate(name, (), fork=False, archived=False))
            assert time.perf_counter() - started < 0.5, (pattern, name)


DOUBLING_PATTERNS = [
    "(a+)+$",
    "([a-z]+-?)+$",
    r"(\w+\s?)+$",
    "(-?[a-z]+)*$",
    "(x+x+)+y",
    "(a|aa)+$",
    "(a*)*$",
    "(a?){30}a{30}",
    "(.*a){20}",
    "([a-z]+[a-z0-9]*)+$",
    "(-[bc-]+)*$",
    "^(a+){10}$",
    "((a+)?)+$",
    r"(\d+\.?)+$",
    "(?:[^-]+-?)+$",
    "(?:(a)\\1?)+$",
    "(?:(a)?(?(1)b|c))+$",
    "(?:a(?=b*)b)+$",
    "^(?>([a-z]+-?)+$)",
    "^(?:([a-z]+-?)+$)++",
    "(?=(x+)+y)",
    "(?i)(?:\u212ab|Kb)+$",
    "(?i)(?:[\u212a]b|[A-K]b)+$",
    "(?i)(?:\u0130b|ib)+$",
    "(?i)(?:\u0131b|ib)+$",
    "(?i)(?:\u017fb|sb)+$",
]
"""Name filters whose matching time doubles with each character of a name they do not match (or
that are not understood well enough to tell, inside a repetition)."""


@pytest.mark.parametrize("pattern", DOUBLING_PATTERNS)
@pytest.mark.parametrize(("source", "key"), [(_github, "include"), (_gitlab, "exclude")])
def test_a_name_pattern_whose_time_doubles_is_refused_naming_its_key(
    pattern: str, source: Any, key: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings({"sources": [source(**{key: pattern})]}, environ={})
    assert caught.value.key == f"sources.0.{key}"
    assert "where the next character does not decide whether it goes on" in caught.value.message
    assert "^svc(-[a-z0-9]+)*$" in caught.value.message


@pytest.mark.parametrize(
    ("pattern", "fragment"),
    [
        ("^svc-[a-z]{99999999999}$", "not a valid regular expression: the repetition number is too large"),
        ("(" * 400 + ")" * 400, "nested too deeply"),
        ("(" * 499 + ")" * 499, "nested too deeply"),
    ],
    ids=["huge-count", "deep-groups", "deepest-groups"],
)
@pytest.mark.parametrize(("source", "key"), [(_github, "include"), (_gitlab, "exclude")])
def test_a_name_pattern_re_cannot_take_is_refused_naming_its_key(
    pattern: str, fragment: str, source: Any, key: str
) -> None:
    """A count over re's limit, or groups nested deeper than its parser (or the check) can follow,
    is refused like any other bad pattern: the key named, not a traceback at start."""
    with pytest.raises(ConfigError) as caught:
        parse_settings({"sources": [source(**{key: pattern})]}, environ={})
    assert caught.value.key == f"sources.0.{key}"
    assert fragment in caught.value.message


@pytest.mark.parametrize(
    ("pattern", "name"),
    [("(a+)+$", "a" * 19 + "!"), ("([a-z]+-?)+$", "a" * 18 + "!"), ("(?i)(?:\u212ab|Kb)+$", "kb" * 18 + "!")],
)
def test_a_refused_name_pattern_is_slow_on_a_short_hostile_name(pattern: str, name: str) -> None:
    include = re.compile(pattern)
    started = time.perf_counter()
    include.search(name)
    assert time.perf_counter() - started > 0.01


@pytest.mark.parametrize("pattern", [r"(?:(a)|b?)++", r"((x)|y|z)*+", r"^(?:svc-([a-z]+))++$"])
def test_a_capturing_group_inside_a_possessive_repetition_is_refused_naming_its_key(pattern: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings({"sources": [_github(include=pattern)]}, environ={})
    assert caught.value.key == "sources.0.include"
    assert "write the group as a non-capturing one, (?:...)" in caught.value.message


def test_re_fails_on_some_names_with_a_capturing_group_inside_a_possessive_repetition() -> None:
    """Why such a filter is refused: one repository's name would stop its source's listing with an
    internal error of ``re`` (CPython issue 101955). Were a Python to mend it, the refusal could go."""
    with pytest.raises(SystemError):
        re.compile(r"(?:(a)|b?)++").search("ab")
    assert re.compile(r"(?:(?:a)|b?)++").search("ab") is not None


def test_a_possessive_repetition_never_backtracks_into_its_earlier_turns() -> None:
    """The check looks into a possessive repetition's body alone, as ``re`` runs each turn as an
    atomic group: were a Python to backtrack across its turns, as ``(?>(a+){2})`` does, a body with
    a repetition (``(a+){30}+``) would take a time that doubles, and the check would have to change."""
    assert re.fullmatch("(a+){2}+", "aa") is None
    assert re.fullmatch("(?>(a+){2})", "aa") is not None
