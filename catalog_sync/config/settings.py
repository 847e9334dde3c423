"""The typed settings: one frozen dataclass per section, with the defaults every key has.

They are built only by ``catalog_sync.config.parse_settings`` (through ``schema``), so a Settings
object in hand is always valid; the parts of the program read them and never parse anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_PATTERNS = (
    "catalog-info.yaml",
    "catalog-info.yml",
    "**/catalog-info.yaml",
    "**/catalog-info.yml",
    ".catalog/*.yaml",
    ".catalog/*.yml",
)
DEFAULT_FACT_PATHS = (
    "README.md",
    "README.rst",
    "README",
    "CODEOWNERS",
    ".github/CODEOWNERS",
    "docs/CODEOWNERS",
    "docs/",
    "mkdocs.yml",
    ".github/workflows/",
    ".gitlab-ci.yml",
    "runbooks/",
    "LICENSE",
    "SECURITY.md",
)
SOURCE_TYPES = ("local", "git", "github", "gitlab")
HOST_FILTER_KEYS = ("include", "exclude", "topics", "forks", "archived", "branch")
HOST_NETWORK_KEYS = ("proxy", "proxy_auth_env", "ca_file")
SOURCE_KEYS = {
    "local": ("path", "branch"),
    "git": ("url", "branch"),
    "github": ("org", "user", "api_url", "auth", *HOST_FILTER_KEYS, *HOST_NETWORK_KEYS),
    "gitlab": ("group", "api_url", "auth", *HOST_FILTER_KEYS, *HOST_NETWORK_KEYS),
}
"""The keys each kind of source takes besides ``name`` and ``type``: a ``git`` source cannot carry a
``path``, nor a ``local`` one a ``url`` or an ``org``, so a key that would do nothing is refused at start."""
DEFAULT_API_URLS = {"github": "https://api.github.com", "gitlab": "https://gitlab.com/api/v4"}
PROTOCOLS = ("https", "http", "ssh", "git", "file")
WEBHOOK_KEYS_IN_FILE = (
    "webhook secrets are never kept in the configuration file: name the environment variable that "
    "holds them in webhooks.github.secrets_env (comma-separated, two while rotating), or set "
    "CATALOG_SYNC_WEBHOOK_SECRET"
)
_MIB = 1024 * 1024
_GIB = 1024 * _MIB
_HOUR = 3600
_DAY = 24 * _HOUR
_YEAR = 365 * _DAY
REGISTERED_SOURCE = "registered"
"""The name of the source that holds the repositories registered through ``POST /api/repositories``
(``catalog_sync.sources.registered``); ``scorecards.trusted_sources`` may name it."""


@dataclass(frozen=True)
class SourceSettings:
    """One entry of ``sources``: where repositories come from."""

    name: str
    type: str
    path: str | None = None
    url: str | None = None
    branch: str | None = None

    @property
    def target(self) -> str:
        """What the source reads (its URL or folder), as recorded on the source row."""
        return self.url or self.path or ""


@dataclass(frozen=True)
class TokenAuth:
    """A hosting API token, read from the environment variable ``token_env`` when the source is
    built: the file names the variable, never the secret, so the file can be shared and committed."""

    token_env: str


@dataclass(frozen=True)
class AppAuth:
    """A GitHub App installation: its private key (PEM) comes from ``private_key_env``; installation
    tokens are minted from it and renewed before they expire, so no long-lived token is kept."""

    app_id: int
    private_key_env: str
    installation_id: int


@dataclass(frozen=True)
class RepositoryFilters:
    """Which of a host's repositories a source keeps: names by regular expression, topics (an
    excluded topic wins over an included one), and whether forks and archived ones count."""

    include: str | None = None
    exclude: str | None = None
    topics_include: tuple[str, ...] = ()
    topics_exclude: tuple[str, ...] = ()
    forks: bool = False
    archived: bool = False


@dataclass(frozen=True)
class HostNetwork:
    """How a hosted source reaches its host, for its API requests and its git fetches alike.

    An organisation's network often lets nothing reach the internet but through a proxy, and an
    Enterprise host inside it often shows a certificate the organisation's own authority signed. Both
    are set per source, never taken from the environment: a proxy named there for other tools must not
    see a source's requests, and one source (GitHub.com, through the proxy) may sit beside another
    (an Enterprise host, reached directly).
    """

    proxy: str | None = None
    """``http(s)://HOST:PORT`` of the proxy every request of the source goes through; None: direct."""
    proxy_auth_env: str | None = None
    """The environment variable holding the proxy's ``user:password``; None: the proxy asks none."""
    ca_file: str | None = None
    """A PEM file of the authorities trusted for the host (and an https proxy) instead of the bundled
    ones; None: the bundled ones (``certifi``) for the API, git's own for fetches."""


@dataclass(frozen=True)
class GitHubSourceSettings:
    """A ``github`` source: every repository of an organisation (``org``) or a user (``user``)."""

    name: str
    type: str = "github"
    org: str | None = None
    user: str | None = None
    api_url: str = DEFAULT_API_URLS["github"]
    auth: TokenAuth | AppAuth | None = None
    filters: RepositoryFilters = field(default_factory=RepositoryFilters)
    branch: str | None = None
    """The branch read in every repository; None reads each repository's default branch."""
    network: HostNetwork = field(default_factory=HostNetwork)

    @property
    def target(self) -> str:
        """What the source lists, as recorded on the source row."""
        owner = f"orgs/{self.org}" if self.org else f"users/{self.user}"
        return f"{self.api_url.rstrip('/')}/{owner}"


@dataclass(frozen=True)
class GitLabSourceSettings:
    """A ``gitlab`` source: every project of a group and of all its subgroups."""

    name: str
    group: str
    type: str = "gitlab"
    api_url: str = DEFAULT_API_URLS["gitlab"]
    auth: TokenAuth | None = None
    filters: RepositoryFilters = field(default_factory=RepositoryFilters)
    branch: str | None = None
    """The branch read in every project; None reads each project's default branch."""
    network: HostNetwork = field(default_factory=HostNetwork)

    @property
    def target(self) -> str:
        """What the source lists, as recorded on the source row."""
        return f"{self.api_url.rstrip('/')}/groups/{self.group}"


HostSourceSettings = GitHubSourceSettings | GitLabSourceSettings
"""A source listed from a hosting API."""
AnySourceSettings = SourceSettings | GitHubSourceSettings | GitLabSourceSettings
"""One entry of ``sources``, typed by its kind."""


@dataclass(frozen=True)
class DescriptorSettings:
    """Which files are descriptors, and how large one may be."""

    patterns: tuple[str, ...] = DEFAULT_PATTERNS
    max_file_bytes: int = 1024 * 1024
    max_tree_entries: int = 200_000
    """Tree entries one scan may visit: a repository whose tree lists more fails alone (a tree bomb)."""
    max_read_bytes: int = 64 * 1024 * 1024
    """Bytes of descriptors and trees one scan may read before that repository fails alone."""


@dataclass(frozen=True)
class SyncSettings:
    """How often and how carefully repositories are synced."""

    interval_seconds: int = 300
    concurrency: int = 8
    cache_dir: str = ".catalog-sync/repos"
    orphan_policy: str = "keep"
    orphan_grace_seconds: int = 604800
    max_removal_fraction: float = 0.5
    allowed_protocols: tuple[str, ...] = ("https", "ssh", "file")
    lease_seconds: int = 600
    fact_paths: tuple[str, ...] = DEFAULT_FACT_PATHS
    scan_timeout_seconds: float = 60.0
    """Seconds one repository's scan may take before it fails alone and the pass goes on."""
    tip_timeout_seconds: float = 30.0
    """Seconds a remote may take to name its tip (``git ls-remote``)."""
    fetch_timeout_seconds: float = 300.0
    """Seconds a fetch may take before that repository fails alone."""
    max_repository_bytes: int = 1024 * 1024 * 1024
    """Bytes a fetch may bring into the cache for one repository."""
    max_registered_repositories: int = 1000
    """Repositories ``POST /api/repositories`` may register in all."""
    rate_limit_max_wait_seconds: float = 60.0
    """The longest wait a hosting API's rate limit is obeyed with; a longer one fails the listing (or
    the read) with the reason, and the next pass tries again."""
    allowed_private_networks: tuple[str, ...] = ()
    """Networks (CIDR) or host names that registered URLs may name although they are loopback,
    link-local or private; none by default, so the API cannot be pointed at internal services."""


@dataclass(frozen=True)
class ScorecardSettings:
    """Which scorecards are evaluated besides those found in repositories."""

    builtin: bool = True
    paths: tuple[str, ...] = ()
    trusted_sources: tuple[str, ...] = ()
    """Sources whose repositories may define scorecards; any other repository's ``kind: Scorecard``
    is refused, so no repository can replace an organisation-wide scorecard. Each is the name of a
    configured source or ``registered``; see ``catalog_sync.descriptors.trust``."""


@dataclass(frozen=True)
class OwnershipSettings:
    """What makes a team a complete cross-functional team."""

    required_team_roles: tuple[str, ...] = ("product-owner", "developer", "operations")


@dataclass(frozen=True)
class ApiSettings:
    """Who may read and write through the HTTP API."""

    read_requires_token: bool = False
    tokens: tuple[str, ...] = ()
    cors_origins: tuple[str, ...] = ()
    max_page_size: int = 500
    default_page_size: int = 100
    max_body_bytes: int = 1024 * 1024
    facet_cache_seconds: float = 5.0
    """How long an entity-facets answer is reused (0: never); facets may lag a sync by that long."""
    max_filter_conditions: int = 200
    """Filter conditions one request may carry in all (every ``filter`` parameter together)."""
    statement_timeout_seconds: float = 10.0
    """Seconds one API read may run in the database before it is cancelled with a clear error."""


@dataclass(frozen=True)
class KpiSettings:
    """How KPIs are measured: on their own schedule, never inside a sync pass."""

    interval_seconds: int = 300
    """Seconds between measuring rounds (one round per interval whatever the number of processes)."""
    prometheus_url: str | None = None
    """The Prometheus that ``prometheus`` measures query (its base URL); none: they stay unknown."""
    timeout_seconds: float = 10.0
    """Seconds one Prometheus query may take before its KPI is unknown this round."""
    concurrency: int = 8
    """Prometheus queries in flight at once."""
    release_tag_pattern: str = "v*"
    """Tags that mark a release (a glob on the tag name), for ``git`` measures."""


NOTIFICATION_EVENTS = (
    "level_dropped",
    "gap_opened",
    "gap_closed",
    "kpi_missed",
    "repository_failing",
    "initiative_due",
    "initiative_overdue",
)
"""The events a channel may ask for; each is written to the outbox by the change that causes it."""
CHANNEL_TYPES = ("webhook", "slack")


@dataclass(frozen=True)
class ChannelSettings:
    """One entry of ``notifications.channels``: where events go and which ones.

    The URL and the secret are read from the environment (``url_env``, ``secret_env``) when the settings
    load, so the file never holds them; they are kept out of ``repr`` so no log line can show them."""

    name: str
    type: str
    url_env: str
    events: tuple[str, ...]
    secret_env: str | None = None
    filter: str | None = None
    proxy: str | None = None
    """``http(s)://HOST:PORT`` of the proxy the channel's deliveries go through; None: direct, whatever
    ``https_proxy`` says (the same rules as a hosted source's ``proxy``)."""
    proxy_auth_env: str | None = None
    ca_file: str | None = None
    """A PEM file of the authorities trusted for the receiver (and an https proxy) instead of the
    bundled ones: a receiver inside the network whose certificate the organisation's authority signed."""
    url: str = field(default="", repr=False)
    secret: str | None = field(default=None, repr=False)
    proxy_credentials: str | None = field(default=None, repr=False)
    """The proxy's ``user:password``, read from ``proxy_auth_env`` when the settings load."""


@dataclass(frozen=True)
class NotificationSettings:
    """Where events are delivered, and how hard a delivery is tried before it is kept as failed."""

    channels: tuple[ChannelSettings, ...] = ()
    max_attempts: int = 8
    """Tries of one delivery (the first included) before it is ``failed``; a 4xx answer ends it at once."""
    backoff_seconds: float = 5.0
    """Wait before the second try; each further try waits twice as long, up to ``max_backoff_seconds``."""
    max_backoff_seconds: float = 3600.0
    timeout_seconds: float = 10.0
    """Seconds a receiver may take to connect and to answer: a receiver that hangs costs this, no more."""
    poll_seconds: float = 2.0
    """How often the delivery loop looks for due deliveries when none was waiting."""
    batch_size: int = 50
    """Deliveries one loop claims at once (claims keep two processes from sending one row together)."""
    concurrency: int = 8
    """Deliveries in flight at once, so one slow receiver does not hold up the others."""


@dataclass(frozen=True)
class WebhookSettings:
    """Who may push events to ``/api/webhooks/*``: secrets and tokens read from the environment only.

    ``github_secrets`` and ``gitlab_tokens`` hold the values (loaded at start from the variables
    named by ``webhooks.github.secrets_env`` and ``webhooks.gitlab.tokens_env``); the file names the
    variables, never the values, so a configuration file can be shared and committed.
    """

    github_secrets_env: str = "CATALOG_SYNC_GITHUB_WEBHOOK_SECRETS"
    gitlab_tokens_env: str = "CATALOG_SYNC_GITLAB_WEBHOOK_TOKENS"
    github_secrets: tuple[str, ...] = field(default=(), repr=False)
    gitlab_tokens: tuple[str, ...] = field(default=(), repr=False)
    max_body_bytes: int = 5 * _MIB
    """The largest delivery accepted: GitHub caps payloads at 25 MB, and a push naming thousands of
    files is rarely over a few hundred KiB; a larger body is refused with 413 before it is read."""
    keep_deliveries_seconds: int = 7 * _DAY
    """How long a delivery's id is remembered, so a redelivery within it is recognised as one."""
    named: tuple[str, ...] = ()
    """The providers (``github``, ``gitlab``) whose variable the file names: one that holds nothing at
    start is a mistake worth a warning, where an endpoint nobody configured is not."""
    unset: tuple[str, ...] = ()
    """The providers of ``named`` whose variable was unset or empty at start: their endpoint refuses
    what is signed with it (401, never unsigned acceptance), and the app warns of each once."""


@dataclass(frozen=True)
class Settings:
    """Everything configurable, typed; built only by ``load_settings`` so it is always valid."""

    database: str = "sqlite:///catalog.db"
    sources: tuple[AnySourceSettings, ...] = ()
    descriptors: DescriptorSettings = field(default_factory=DescriptorSettings)
    sync: SyncSettings = field(default_factory=SyncSettings)
    scorecards: ScorecardSettings = field(default_factory=ScorecardSettings)
    ownership: OwnershipSettings = field(default_factory=OwnershipSettings)
    api: ApiSettings = field(default_factory=ApiSettings)
    kpis: KpiSettings = field(default_factory=KpiSettings)
    webhooks: WebhookSettings = field(default_factory=WebhookSettings)
    notifications: NotificationSettings = field(default_factory=NotificationSettings)
    base_dir: str = "."
