"""Configuration is refused at start, naming the key, and the environment overrides the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog_sync.config import GitHubSourceSettings, load_settings, parse_settings
from catalog_sync.errors import ConfigError


@pytest.mark.parametrize(
    ("raw", "key", "fragment"),
    [
        ({"sourcez": []}, "sourcez", "unknown key"),
        ({"sources": [{"name": "x", "type": "svn", "url": "u"}]}, "sources.0.type", "Must be one of"),
        ({"sources": [{"name": "x", "type": "git"}]}, "sources.0.url", "needs 'url'"),
        (
            {"sources": [{"name": "x", "type": "local", "path": "p", "colour": 1}]},
            "sources.0.colour",
            "unknown",
        ),
        (
            {
                "sources": [
                    {"name": "a", "type": "local", "path": "p"},
                    {"name": "a", "type": "local", "path": "q"},
                ]
            },
            "sources.1.name",
            "used twice",
        ),
        (
            {"sources": [{"name": "../../x", "type": "local", "path": "p"}]},
            "sources.0.name",
            "1 to 63 letters",
        ),
        (
            {"sources": [{"name": "my repos", "type": "git", "url": "u"}]},
            "sources.0.name",
            "starting with a letter",
        ),
        ({"sources": [{"name": "x", "type": "git", "url": "u", "path": "p"}]}, "sources.0.path", "a git"),
        (
            {"sources": [{"name": "x", "type": "local", "path": "p", "token_env": "GITHUB_TOKEN"}]},
            "sources.0.token_env",
            "unknown key for a local source (it takes path, branch)",
        ),
        (
            {"sources": [{"name": "x", "type": "git", "url": "u", "api_url": "https://h/api/v3"}]},
            "sources.0.api_url",
            "unknown key",
        ),
        ({"sources": ["git"]}, "sources.0", "Invalid input type"),
        ({"api": {"webhook_secret": "s3cret-hook"}}, "api.webhook_secret", "webhooks.github.secrets_env"),
        (
            {"webhooks": {"github": {"secrets_env": "S", "secret": "x" * 20}}},
            "webhooks.github.secret",
            "unknown key",
        ),
        ({"webhooks": {"github": {}}}, "webhooks.github.secrets_env", "required"),
        ({"webhooks": {"gitlab": {"tokens_env": "not a name"}}}, "webhooks.gitlab.tokens_env", "variable"),
        ({"webhooks": {"max_body_bytes": 10}}, "webhooks.max_body_bytes", "greater than or equal"),
        ({"webhooks": {"max_body_bytes": 2**40}}, "webhooks.max_body_bytes", "less than or equal"),
        ({"webhooks": {"max_body_bytes": "1MB"}}, "webhooks.max_body_bytes", "integer"),
        ({"webhooks": {"keep_deliveries_seconds": 1}}, "webhooks.keep_deliveries_seconds", "greater"),
        ({"webhooks": "on"}, "webhooks", "Invalid input type"),
        ({"sync": {"orphan_policy": "shred"}}, "sync.orphan_policy", "keep, delete"),
        ({"sync": {"concurrency": 0}}, "sync.concurrency", "greater than or equal"),
        ({"sync": {"concurrency": "8"}}, "sync.concurrency", "integer"),
        ({"sync": {"max_removal_fraction": 2}}, "sync.max_removal_fraction", "less than or equal"),
        ({"sync": {"allowed_protocols": ["ext"]}}, "sync.allowed_protocols.0", "Must be one of"),
        ({"descriptors": {"max_file_bytes": -1}}, "descriptors.max_file_bytes", "greater"),
        ({"api": {"read_requires_token": "yes"}}, "api.read_requires_token", "boolean"),
        ({"api": {"tokens": ["short"]}}, "api.tokens.0", "Shorter than minimum"),
        ({"database": ""}, "database", "Shorter"),
        ({"kpis": {"prometheus_url": "ftp://prom:9090"}}, "kpis.prometheus_url", "http or https URL"),
        ({"kpis": {"prometheus_url": "not a url"}}, "kpis.prometheus_url", "http or https URL"),
        (
            {"kpis": {"prometheus_url": "https://user:pw@prom.example.com"}},
            "kpis.prometheus_url",
            "must not carry a credential",
        ),
        ({"kpis": {"release_tag_pattern": "v*.*"}}, "kpis.release_tag_pattern", "at most one *"),
        ({"kpis": {"release_tag_pattern": "v[0-9]"}}, "kpis.release_tag_pattern", "tag name glob"),
        ({"kpis": {"release_tag_pattern": ""}}, "kpis.release_tag_pattern", "Length must be between"),
        ({"kpis": {"interval_seconds": 5}}, "kpis.interval_seconds", "greater than or equal to 10"),
        ({"kpis": {"concurrency": 65}}, "kpis.concurrency", "less than or equal to 64"),
        ({"kpis": {"every": 5}}, "kpis.every", "unknown key"),
    ],
)
def test_bad_values_are_refused_naming_the_key(raw: dict[str, object], key: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(raw, environ={})
    assert caught.value.key == key
    assert fragment in caught.value.message


def test_a_configuration_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(ConfigError, match="mapping"):
        parse_settings(["database"], environ={})


def test_environment_overrides_database_and_tokens() -> None:
    env = {
        "CATALOG_SYNC_DATABASE_URL": "postgresql+psycopg://db/catalog",
        "CATALOG_SYNC_API_TOKENS": "a" * 16 + ", " + "b" * 20,
    }
    settings = parse_settings({"database": "sqlite:///x.db"}, environ=env)
    assert settings.database == "postgresql+psycopg://db/catalog"
    assert settings.api.tokens == ("a" * 16, "b" * 20)


def test_webhook_secrets_come_from_the_variables_the_file_names_two_at_once_while_rotating() -> None:
    raw = {"webhooks": {"github": {"secrets_env": "HOOK_SECRETS"}, "gitlab": {"tokens_env": "LAB_TOKENS"}}}
    env = {
        "HOOK_SECRETS": "old-secret-0123456789, new-secret-0123456789",
        "LAB_TOKENS": "lab-token-0123456789",
    }
    settings = parse_settings(raw, environ=env)
    assert settings.webhooks.github_secrets == ("old-secret-0123456789", "new-secret-0123456789")
    assert settings.webhooks.gitlab_tokens == ("lab-token-0123456789",)
    assert "secret-0123456789" not in repr(settings)


def test_a_webhook_variable_the_file_names_but_the_environment_leaves_empty_is_noted() -> None:
    """Only a variable the file names is a mistake to warn of; an endpoint nobody configured is not."""
    raw = {"webhooks": {"github": {"secrets_env": "HOOK_SECRETS"}, "gitlab": {"tokens_env": "LAB_TOKENS"}}}
    assert parse_settings(raw, environ={"LAB_TOKENS": "  "}).webhooks.unset == ("github", "gitlab")
    assert parse_settings(raw, environ={"LAB_TOKENS": "lab-token-0123456789"}).webhooks.unset == ("github",)
    assert parse_settings({}, environ={}).webhooks.unset == ()


def test_the_single_webhook_secret_variable_keeps_working_as_a_github_secret() -> None:
    settings = parse_settings({}, environ={"CATALOG_SYNC_WEBHOOK_SECRET": "legacy-secret-0123456789"})
    assert settings.webhooks.github_secrets == ("legacy-secret-0123456789",)
    both = parse_settings(
        {},
        environ={
            "CATALOG_SYNC_WEBHOOK_SECRET": "legacy-secret-0123456789",
            "CATALOG_SYNC_GITHUB_WEBHOOK_SECRETS": "fresh-secret-0123456789",
        },
    )
    assert both.webhooks.github_secrets == ("fresh-secret-0123456789", "legacy-secret-0123456789")


def test_the_single_webhook_secret_is_taken_whole_even_holding_a_comma() -> None:
    """It never was a list: a secret GitHub took with a comma in it must go on verifying deliveries."""
    settings = parse_settings({}, environ={"CATALOG_SYNC_WEBHOOK_SECRET": " legacy,secret-0123456789 "})
    assert settings.webhooks.github_secrets == ("legacy,secret-0123456789",)
    assert settings.webhooks.unset == ()


def test_a_short_webhook_secret_is_refused_naming_the_variable_and_never_showing_it() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings({}, environ={"CATALOG_SYNC_WEBHOOK_SECRET": "s3cret-hook"})
    assert caught.value.key == "CATALOG_SYNC_WEBHOOK_SECRET"
    assert "16 to 1024" in caught.value.message
    assert "s3cret-hook" not in str(caught.value)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CATALOG_SYNC_GITHUB_WEBHOOK_SECRETS", "old-secret-0123456789\nnew-secret-0123456789"),
        ("CATALOG_SYNC_GITLAB_WEBHOOK_TOKENS", "lab-token-0123456789\tlab-token-9876543210"),
        ("CATALOG_SYNC_WEBHOOK_SECRET", "legacy-secret-0123\x00456789"),
    ],
)
def test_webhook_secrets_separated_by_line_breaks_are_refused_naming_the_variable(
    variable: str, value: str
) -> None:
    """A secret holds no control character (GitHub's and GitLab's forms take one line): secrets listed one
    a line would be read as one secret no delivery is signed with, and every delivery refused."""
    with pytest.raises(ConfigError) as caught:
        parse_settings({}, environ={variable: value})
    assert caught.value.key == variable
    assert "separated by commas" in caught.value.message
    assert "0123" not in str(caught.value)


def test_webhook_secrets_with_empty_items_and_spaces_keep_the_others() -> None:
    settings = parse_settings(
        {}, environ={"CATALOG_SYNC_GITHUB_WEBHOOK_SECRETS": ",, old-secret-0123456789 ,\n"}
    )
    assert settings.webhooks.github_secrets == ("old-secret-0123456789",)


def test_a_webhook_secret_in_the_file_is_refused_and_never_shown() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings({"api": {"webhook_secret": "file-secret-0123456789"}}, environ={})
    assert caught.value.key == "api.webhook_secret"
    assert "file-secret-0123456789" not in str(caught.value)


def test_short_tokens_in_the_environment_are_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings({}, environ={"CATALOG_SYNC_API_TOKENS": "tiny"})
    assert caught.value.key == "CATALOG_SYNC_API_TOKENS"


def test_file_is_found_from_the_environment_and_broken_yaml_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("sync: {interval_seconds: 60}\n")
    assert load_settings(None, environ={"CATALOG_SYNC_CONFIG": str(config)}).sync.interval_seconds == 60
    config.write_text("sync: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(str(config), environ={})
    config.write_bytes(b"\xff\xfe")
    with pytest.raises(ConfigError, match="UTF-8"):
        load_settings(str(config), environ={})
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(str(tmp_path / "missing.yaml"), environ={})


def test_a_bad_value_in_the_file_is_refused_naming_the_file_and_the_key(tmp_path: Path) -> None:
    config = tmp_path / "catalog-sync.yaml"
    config.write_text("sources:\n  - {name: acme, type: github, org: acme, api_url: 'https://h/api?x=1'}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(None, environ={"CATALOG_SYNC_CONFIG": str(config)})
    assert caught.value.key == "sources.0.api_url"
    assert str(caught.value).startswith("sources.0.api_url: the URL may not carry a query")
    assert str(caught.value).endswith(f"(in {config})")


SOURCES_THEN_README_SNIPPET = """\
sources:
  - {name: pay, type: github, org: acme-pay}
  - {name: shop, type: github, org: acme-shop}
sources:
  - {name: acme-gl, type: gitlab, group: acme}
webhooks:
  github: {secrets_env: HOOK_SECRETS}
"""


@pytest.mark.parametrize(
    ("text", "key", "lines"),
    [
        (SOURCES_THEN_README_SNIPPET, "sources", "lines 1 and 4"),
        (
            "sources:\n  - name: acme\n    type: github\n    org: acme\n    org: acme-sandbox\n",
            "sources.0.org",
            "lines 4 and 5",
        ),
        (
            "webhooks:\n  github: {secrets_env: A}\n  max_body_bytes: 4096\n  github: {secrets_env: B}\n",
            "webhooks.github",
            "lines 2 and 4",
        ),
        ("sync: {interval_seconds: 60, 'interval_seconds': 30}\n", "sync.interval_seconds", "lines 1 and 1"),
    ],
    ids=["sources-twice", "org-twice", "webhooks-github-twice", "quoted-twice"],
)
def test_a_key_given_twice_in_the_file_is_refused_naming_it(
    tmp_path: Path, text: str, key: str, lines: str
) -> None:
    """YAML keeps the last of two equal keys: the first (a whole list of sources, pasted over by an
    example) would be dropped without a word."""
    config = tmp_path / "catalog-sync.yaml"
    config.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_settings(str(config), environ={})
    assert caught.value.key == key
    assert f"given twice ({lines})" in caught.value.message
    assert str(caught.value).endswith(f"(in {config})")


def test_a_key_merged_from_an_anchor_may_be_given_again(tmp_path: Path) -> None:
    config = tmp_path / "catalog-sync.yaml"
    config.write_text(
        "sources:\n  - &base {name: a, type: github, org: acme, forks: true}\n"
        "  - {<<: *base, name: b, forks: false}\n"
    )
    first, second = load_settings(str(config), environ={}).sources
    assert isinstance(first, GitHubSourceSettings)
    assert isinstance(second, GitHubSourceSettings)
    assert (first.name, first.filters.forks, second.name, second.filters.forks) == ("a", True, "b", False)


def test_an_environment_value_is_refused_naming_the_variable_not_the_file(tmp_path: Path) -> None:
    config = tmp_path / "catalog-sync.yaml"
    config.write_text("sync: {interval_seconds: 60}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(str(config), environ={"CATALOG_SYNC_API_TOKENS": "tiny"})
    assert caught.value.key == "CATALOG_SYNC_API_TOKENS"
    assert str(config) not in str(caught.value)


def test_defaults_need_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(None, environ={})
    assert settings.database == "sqlite:///catalog.db"
    assert settings.sync.orphan_policy == "keep"
    assert settings.ownership.required_team_roles == ("product-owner", "developer", "operations")


def _numeric_keys() -> list[tuple[str, str]]:
    """Every numeric setting, found from the settings classes so a new one cannot escape the test."""
    from dataclasses import fields as dataclass_fields

    from catalog_sync.config import ApiSettings, DescriptorSettings, KpiSettings, SyncSettings

    sections = {
        "descriptors": DescriptorSettings,
        "sync": SyncSettings,
        "api": ApiSettings,
        "kpis": KpiSettings,
    }
    return [
        (section, f.name)
        for section, cls in sections.items()
        for f in dataclass_fields(cls)
        if f.type in ("int", "float")
    ]


@pytest.mark.parametrize(("section", "name"), _numeric_keys())
@pytest.mark.parametrize("value", [10**20, -(10**20), float("inf"), float("nan"), True, "5"])
def test_every_numeric_setting_has_a_range_refused_at_start(section: str, name: str, value: object) -> None:
    """A value the code cannot use (an overflow at the first pass) is refused at start, naming the key."""
    with pytest.raises(ConfigError) as caught:
        parse_settings({section: {name: value}}, environ={})
    assert caught.value.key == f"{section}.{name}"


def test_the_numeric_settings_are_found() -> None:
    keys = _numeric_keys()
    assert ("sync", "interval_seconds") in keys
    assert ("api", "statement_timeout_seconds") in keys
    assert ("kpis", "timeout_seconds") in keys
    assert len(keys) >= 15


def test_trusted_scorecard_sources_must_be_configured_sources_or_the_registered_ones() -> None:
    local = {"name": "platform", "type": "local", "path": "p"}
    with pytest.raises(ConfigError) as caught:
        parse_settings({"sources": [local], "scorecards": {"trusted_sources": ["platfrom"]}}, environ={})
    assert caught.value.key == "scorecards.trusted_sources"
    assert "'platfrom' is not a source" in caught.value.message
    assert "known: platform, registered" in caught.value.message
    settings = parse_settings(
        {"sources": [local], "scorecards": {"trusted_sources": ["platform", "registered"]}}, environ={}
    )
    assert settings.scorecards.trusted_sources == ("platform", "registered")
    assert parse_settings({}, environ={}).scorecards.trusted_sources == ()


def test_the_registered_source_is_named_as_the_configuration_names_it() -> None:
    from catalog_sync.config import REGISTERED_SOURCE
    from catalog_sync.sources.registered import REGISTERED_SOURCE as LISTED

    assert REGISTERED_SOURCE == LISTED


def test_a_configured_source_cannot_take_the_name_of_the_registered_repositories() -> None:
    """Sharing the name would merge a configured source with every API registration: trusting it
    with scorecards would trust whatever a token holder registers."""
    with pytest.raises(ConfigError) as caught:
        parse_settings(
            {
                "sources": [
                    {"name": "platform", "type": "local", "path": "p"},
                    {"name": "registered", "type": "local", "path": "q"},
                ],
                "scorecards": {"trusted_sources": ["registered"]},
            },
            environ={},
        )
    assert caught.value.key == "sources.1.name"
    assert "POST /api/repositories" in caught.value.message


@pytest.mark.parametrize(
    "url",
    [
        "https://git.example.com/acme/r.git?ref=main?access_token=S3CRET",
        "https://git.example.com/acme/r.git;jsessionid=S3CRET",
        "https://git.example.com/acme/r.git?ref=main&x=1?private_token=S3CRET",
    ],
)
def test_a_git_url_with_a_secret_in_any_parameter_is_refused_and_never_shown(url: str) -> None:
    """A configured URL is used (and keyed, and shown redacted) as written: one whose secret parameter
    follows a second '?' was taken, and neither the refusal nor redaction saw it, so the token was in
    the repository's key, its stored URL and every message naming it."""
    with pytest.raises(ConfigError) as caught:
        parse_settings({"sources": [{"name": "x", "type": "git", "url": url}]}, environ={})
    assert caught.value.key == "sources.0.url"
    assert "credential helper" in caught.value.message
    assert "S3CRET" not in str(caught.value)
