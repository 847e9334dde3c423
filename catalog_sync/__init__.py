"""catalog-sync: reconciles descriptor files kept in git repositories into one product catalog.

The package is the engine. It never imports Flask or ``plugin_api``; ``catalog_sync.cli`` is the one
place that wires the engine, the store and the HTTP layer together.
"""

__version__ = "0.1.0"
