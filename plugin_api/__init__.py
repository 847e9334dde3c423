"""The HTTP face of the catalog: a Flask app built by ``create_app(settings, stores)``.

It depends on ``catalog_sync``; nothing in ``catalog_sync`` depends on it.
"""

from plugin_api.app import create_app

__all__ = ["create_app"]
