"""The one error tree of catalog-sync.

Every error the engine raises on purpose derives from ``CatalogSyncError``, so a caller (the CLI, the
HTTP layer, the sync loop) can tell "we refused this, and here is why" from a bug::

    CatalogSyncError
    ├── ConfigError              a configuration key is unknown or its value is bad (names the key)
    ├── DescriptorError          a descriptor file cannot be read as descriptors at all
    │   └── UnsafeInputError     hostile input: too large, too deep, alias bomb, binary, symlink
    ├── RefError                 an entity reference does not parse
    ├── SourceError              a repository or source cannot be listed, reached or read
    │   ├── ProtocolNotAllowedError   the URL's transport is not in sync.allowed_protocols
    │   │   └── AddressNotAllowedError  a registered URL's host is not public (sync.allowed_private_networks)
    │   ├── RepositoryUnreachableError the remote did not answer or refused us
    │   ├── HostApiError         a hosting API (GitHub, GitLab) failed a request: status, timeout, link
    │   │   ├── RateLimitedError the host asked for a wait longer than the bound
    │   │   └── AnswerTooLargeError the host's answer is larger than the client reads; left unread
    │   └── ScanBudgetError      reading the repository would exceed a budget (entries, bytes, seconds)
    ├── StoreError               the database is unreachable or refused a statement
    │   ├── NotFoundError        the thing asked for is not in the catalog
    │   ├── RefusedError         the database refused the values of a write (not its availability)
    │   │   └── WriteRaceError   another writer stored the same row first (a unique key)
    │   ├── HeavyQueryError      the database stopped a read for its cost: too slow or too large
    │   └── CorruptDatabaseError the database file is damaged: restore it, no retry will help
    ├── ConflictError            two repositories claim one entity, or an action contradicts state
    ├── MeasureError             a KPI could not be measured (Prometheus down, a timeout, no single sample)
    ├── CatalogUnreachableError  a running catalog asked by `validate --catalog` did not answer as one
    └── QueryError               a filter, field list, order field, cursor or limit is malformed

Messages are written for the person who must act: they say what was wrong and, where it helps, what is
allowed. They never carry credentials (see ``catalog_sync.sources.urls.redact``).
"""

from __future__ import annotations


class CatalogSyncError(Exception):
    """Root of everything catalog-sync refuses on purpose, so callers can catch "ours" in one place."""


class ConfigError(CatalogSyncError):
    """The configuration cannot be used; raised at start so a bad key never half-runs a service."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        self.message = message
        super().__init__(f"{key}: {message}" if key else message)


class DescriptorError(CatalogSyncError):
    """A file cannot be read as descriptors; it affects that file only, never its neighbours."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        self.message = message
        self.line = line
        self.column = column
        super().__init__(message)


class UnsafeInputError(DescriptorError):
    """Input refused because reading it would cost too much or could not be trusted."""


class RefError(CatalogSyncError):
    """An entity reference is malformed; kept apart so validators can report it on the field."""


class SourceError(CatalogSyncError):
    """A source or repository cannot be listed, reached or read; its entities are kept, not dropped."""


class ProtocolNotAllowedError(SourceError):
    """The URL asks for a git transport that is not allowed; refused before git runs."""


class AddressNotAllowedError(ProtocolNotAllowedError):
    """A registered URL names a host that is, or resolves to, an address that is not public; refused
    before git runs, so the API cannot be used to reach internal services."""


class RepositoryUnreachableError(SourceError):
    """The remote did not answer or refused us; the repository is marked failing, then stale."""


class EmptyRepositoryError(SourceError):
    """The host holds the repository, but its branch has no commit yet (created, never pushed): there is
    nothing to read, which is no failure. The catalog lists it as read and unchanged, and reads it at
    its first push; an organisation creates repositories every day, and none of them should alert."""


class HostApiError(SourceError):
    """A hosting API request failed; a listing it belonged to is incomplete and removes nothing."""


class HostNotFoundError(HostApiError):
    """The host answered 404: what was asked is gone or not visible to the credential. A branch the
    listing names that answers it is how an empty repository shows (``EmptyRepositoryError``)."""


class RateLimitedError(HostApiError):
    """The host's rate limit asks for a wait longer than ``sync.rate_limit_max_wait_seconds``."""


class AnswerTooLargeError(HostApiError):
    """The host's answer is larger than ``hostapi.MAX_ANSWER_BYTES`` (or the client's own bound); it was
    not read, so a caller with another way to the same content (a tree read by a shallow fetch) can take
    it instead of failing."""


class ScanBudgetError(SourceError):
    """Scanning one repository would visit, read or take more than its budget allows (a tree bomb, a
    giant tree); that repository fails alone, keeping its entities, and the pass goes on. The message
    names the setting that sets the budget."""


class StoreError(CatalogSyncError):
    """The database cannot be reached or refused a statement; a pass that hits it stops cleanly."""


class NotFoundError(StoreError):
    """What was asked for is not in the catalog; the API answers 404 with it."""


class RefusedError(StoreError):
    """The database refused what a write tried to store; the database itself is fine, so a caller
    can redo a group of writes one at a time and fail only the one at fault."""


class WriteRaceError(RefusedError):
    """Another writer stored the same row at the same moment; retrying later sees its row."""


class HeavyQueryError(StoreError):
    """The database stopped a statement because of the query itself: it ran longer than
    ``api.statement_timeout_seconds`` or went past a limit of the database (columns, parameters, depth).

    The database is fine and other requests are answered; the client must narrow its query, so the
    API answers 400 with ``message`` instead of blaming the database with a 503.
    """

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class CorruptDatabaseError(StoreError):
    """The database's file is damaged (SQLite's "database disk image is malformed" or "file is not a
    database"; PostgreSQL's data or index corruption). Unlike an outage it does not pass: the catalog
    is not ready, a sync pass stops, and the message names the file so an operator can restore it."""


class ConflictError(CatalogSyncError):
    """An action contradicts the catalog's state, e.g. deleting an entity that is not an orphan."""


class MeasureError(CatalogSyncError):
    """A KPI has no value this round; the reason is shown and the last good value is kept."""


class CatalogUnreachableError(CatalogSyncError):
    """The catalog named by ``validate --catalog`` could not be asked, or did not answer as a catalog does;
    kept apart from the descriptors' own errors so a CI script can tell the two apart."""


class QueryError(CatalogSyncError):
    """A query parameter (filter, fields, order, cursor, limit) is malformed; the API answers 400."""

    def __init__(self, parameter: str, message: str) -> None:
        self.parameter = parameter
        self.message = message
        super().__init__(f"{parameter}: {message}")
