"""The schema revision this version of catalog-sync expects, known without loading Alembic.

Every start of a command checks the database against it; loading Alembic to learn the newest
revision costs a fifth of a second, so the check reads the ``alembic_version`` table with one query
and Alembic runs only when an upgrade is due. A test proves ``HEAD_REVISION`` equals Alembic's head.
"""

from __future__ import annotations

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from catalog_sync.store.engine import translate_errors

HEAD_REVISION = "0018_gitlab_com_locations"


def stored_revision(engine: Engine) -> str | None:
    """The revision recorded in the database, None when it has no schema yet."""
    with translate_errors(engine), engine.connect() as connection:
        try:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        except DBAPIError:
            return None
    return rows[0] if len(rows) == 1 else None
