"""The sync engine: which repositories are due, claiming them, reading them, reconciling them.

One pass (``passes.SyncEngine.run_pass``): list each source's repositories (``discovery``); claim due
ones in batches (``claims``); ask each for its tip in threads, and scan the ones whose tip moved in
worker processes (``workers``, driven batch by batch by ``batch``; under ``serve``, always in child
processes: ``isolation``); reconcile and write the scans in groups, each group in one transaction
(``writing``); delete orphans past their grace period (``expiry``); record the run and run what
follows it (``runs``). The worker loop (``loop``) repeats
passes over what is due and waits between them for a poll interval or a wake-up (``wakeup``). The
same code runs one-off (``catalog-sync sync``), in a background thread (``serve``) and as a scaled-out
worker (``catalog-sync worker``). The database is reached only through ``store.sync_store.SyncStore``.
"""

from __future__ import annotations

from catalog_sync.sync.passes import SyncEngine
from catalog_sync.sync.summary import PassSummary, utcnow
from catalog_sync.sync.wakeup import InProcessWakeup, Wakeup

__all__ = ["InProcessWakeup", "PassSummary", "SyncEngine", "Wakeup", "utcnow"]
