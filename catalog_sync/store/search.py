"""The ``search`` table's rows, as the store writes and reads them.

The rows are built by ``catalog_sync.searchrows``, which sits below the store so that reconcile (which
prepares an entity's rows where it parsed it) and the store (which re-indexes an orphan) share one
function; this module keeps the store's own name for it.
"""

from __future__ import annotations

from catalog_sync.searchrows import (
    MAX_KEY_LENGTH,
    MAX_VALUE_LENGTH,
    SearchRow,
    build_search_rows,
    case_conflicting_keys,
)

__all__ = ["MAX_KEY_LENGTH", "MAX_VALUE_LENGTH", "SearchRow", "build_search_rows", "case_conflicting_keys"]
