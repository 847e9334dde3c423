"""What each ``catalog-sync`` command does and says, apart from the wiring that ``catalog_sync.cli`` does.

The composition root (``cli``) opens the database, builds the stores, the sync engine and the HTTP
app, and hands the commands what they need; the modules here hold the rest, each small:
``validate`` (files, folders, and refs against a running catalog through ``catalog_client``), ``init``
(the starter descriptor and its editor modeline), ``reports`` (what a sync pass prints) and ``demo``
(the example organisation). None of them opens a database.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
"""``validate --catalog``: the catalog could not be asked, so nothing is known about the refs."""
