"""The HTTP face of the catalog: a Flask app built by ``create_app(settings, store)``.

It depends on ``catalog_sync``; nothing in ``catalog_sync`` depends on it.
"""
