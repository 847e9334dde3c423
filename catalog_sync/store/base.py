"""The store's seam: an opaque unit of work and the database it runs on.

Every consumer of the store (a sync pass, the catalog API, administration, scoring, metrics) holds a
``typing.Protocol`` of its own, declared beside its implementation in this package. Each protocol's
operations take a ``Transaction``: a caller can open one, pass it along and let it commit or roll
back, but it cannot run SQL through it, because only modules of this package can reach the
connection inside (``connection_of``). That is what lets an invariant live in the store operation
that can break it (deleting an entity re-points what named it) instead of in every caller.

``Database`` opens transactions for writes (``transaction``: one ``BEGIN`` ... ``COMMIT``) and for
reads (``reading``: autocommit on PostgreSQL, see ``engine.read_connection``). One request of the
API reads through one ``reading`` transaction, so it checks out one pooled connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import final

from sqlalchemy import Connection, Engine

from catalog_sync.store.engine import check_ready, describe, read_connection, translate_errors


@final
class Transaction:
    """An open unit of work against the catalog's database, opaque outside the store package."""

    __slots__ = ("_connection",)

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def __repr__(self) -> str:
        return "<Transaction>"


def connection_of(tx: Transaction) -> Connection:
    """The connection behind a transaction; for the store's own modules only."""
    return tx._connection


class Database:
    """One database (SQLite or PostgreSQL) and the transactions opened on it."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``: the few operations that differ by database ask this."""
        return self._engine.dialect.name

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine; for the store's own modules and the composition root only."""
        return self._engine

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """A write transaction: committed when the block ends, rolled back when it raises."""
        with translate_errors(self._engine), self._engine.begin() as connection:
            yield Transaction(connection)

    @contextmanager
    def reading(self) -> Iterator[Transaction]:
        """A read-only unit (autocommit on PostgreSQL); nothing may be written through it."""
        connection = read_connection(self._engine)
        try:
            with translate_errors(self._engine):
                yield Transaction(connection)
        finally:
            connection.close()

    def open_reading(self) -> Transaction:
        """A read unit whose end the caller decides (one per HTTP request); close it with ``close``."""
        return Transaction(read_connection(self._engine))

    @staticmethod
    def close(tx: Transaction) -> None:
        """End a unit opened with ``open_reading``."""
        connection_of(tx).close()

    def check_ready(self) -> None:
        """Raise ``StoreError`` unless the database answers a query now (``/readyz``)."""
        check_ready(self._engine)

    def describe(self) -> str:
        """The database's URL without credentials, for logs and the start-up line."""
        return describe(self._engine)

    def dispose(self) -> None:
        """Close every pooled connection (at shutdown, and in a forked child before first use)."""
        self._engine.dispose()
