"""The ``MetaData`` every table joins and the column conventions they share.

The naming convention gives every index and constraint the name the migrations give it, so
``alembic`` autogenerate compares the two by name.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, MetaData

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

TEXT_LIMIT = 4000
"""The most characters kept of a message (``info["max_length"]`` of a ``Text`` column; see ``limits``)."""

JSON_TEXT = {"json": True}
"""``info`` of a ``Text`` column that holds JSON the store wrote: the file check (``integrity``) proves
each value still parses, as damage inside a record leaves SQLite's own page checks content."""

ID = BigInteger().with_variant(Integer(), "sqlite")
"""Primary keys: 64-bit on PostgreSQL, SQLite's rowid alias there (only INTEGER autoincrements)."""
