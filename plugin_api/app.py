"""The composition of the HTTP app: settings and the store's protocols in, a Flask app out.

``create_app`` is the only public entry: the CLI (``serve``, ``demo``), gunicorn and the tests build the
same app from the same two objects (``catalog_sync.cli.build_app`` opens the stores on a database).
The OpenAPI description at ``/api/openapi.json`` is generated from the marshmallow wire schemas by
flask-smorest and apispec, never written by hand.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from catalog_sync import __version__
from catalog_sync.config import Settings
from catalog_sync.store.stores import Stores
from plugin_api.auth import SECURITY_SCHEME, install_auth
from plugin_api.catalog import blp as catalog_blp
from plugin_api.editor_schemas import blp as editor_schemas_blp
from plugin_api.errors import register_error_handlers
from plugin_api.export import blp as export_blp
from plugin_api.health import blp as health_blp
from plugin_api.hooks import (
    OBSERVERS_KEY,
    install_body_limit,
    install_cors,
    install_input_guard,
    install_observers,
)
from plugin_api.initiatives import blp as initiatives_blp
from plugin_api.insights import blp as insights_blp
from plugin_api.kpis import blp as kpis_blp
from plugin_api.locations import blp as locations_blp
from plugin_api.metrics import blp as metrics_blp
from plugin_api.notifications import blp as notifications_blp
from plugin_api.ownership import blp as ownership_blp
from plugin_api.portal import blp as portal_blp
from plugin_api.repositories import blp as repositories_blp
from plugin_api.scorecards import blp as scorecards_blp
from plugin_api.smorest import Api
from plugin_api.sources import blp as sources_blp
from plugin_api.state import STATE_KEY, AppState, install_request_connection
from plugin_api.sync_api import blp as sync_blp
from plugin_api.teams import blp as teams_blp
from plugin_api.validate import blp as validate_blp
from plugin_api.webhooks import ENDPOINTS as WEBHOOK_ENDPOINTS
from plugin_api.webhooks import blp as webhooks_blp
from plugin_api.webhooks.fastpath import install_fast_path
from plugin_api.webhooks.receive import prepare_delivery_counts, warn_of_unset_secrets

OPENAPI_VERSION = "3.0.3"


def create_app(
    settings: Settings, stores: Stores, *, sync_trigger: Callable[[], None] | None = None
) -> Flask:
    """Build the API over the store's protocols for one catalog database (``open_stores``).

    ``sync_trigger`` is called after ``POST /api/sync``, ``POST /api/repositories/{id}/refresh`` or a
    push webhook has made repositories due, so a process that runs the sync loop itself (``serve``)
    can start a pass at once instead of at its next tick. It must return quickly (set an event; never
    sync inline).
    """
    app = Flask("plugin_api", static_folder=None)
    app.config.update(
        API_TITLE="catalog-sync",
        API_VERSION=__version__,
        OPENAPI_VERSION=OPENAPI_VERSION,
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        JSON_SORT_KEYS=False,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions[STATE_KEY] = AppState.from_stores(settings, stores, sync_trigger=sync_trigger)
    app.extensions.setdefault(OBSERVERS_KEY, [])

    install_observers(app)
    install_request_connection(app)
    install_body_limit(app, settings.api, own_limits=WEBHOOK_ENDPOINTS)
    install_input_guard(app)
    install_auth(app, settings.api)
    install_cors(app, settings.api)

    api = Api(app, spec_kwargs={"info": {"description": _DESCRIPTION}})
    api.spec.components.security_scheme(
        SECURITY_SCHEME, {"type": "http", "scheme": "bearer", "description": "a token of api.tokens"}
    )
    blueprints = (
        catalog_blp,
        locations_blp,
        repositories_blp,
        sources_blp,
        sync_blp,
        webhooks_blp,
        validate_blp,
        export_blp,
        health_blp,
        scorecards_blp,
        ownership_blp,
        teams_blp,
        insights_blp,
        kpis_blp,
        notifications_blp,
        initiatives_blp,
        metrics_blp,
    )
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    register_error_handlers(app)
    # The portal's pages are a plain Flask blueprint: HTML for people, kept out of the OpenAPI description.
    app.register_blueprint(portal_blp)
    # The editors' JSON Schemas: files for the YAML language server, not API resources.
    app.register_blueprint(editor_schemas_blp)
    # Accepted webhook deliveries are answered in front of Flask (``plugin_api.webhooks.fastpath``).
    install_fast_path(app)
    warn_of_unset_secrets(settings.webhooks)
    prepare_delivery_counts()
    return app


_DESCRIPTION = (
    "The product catalog of catalog-sync. `/api/catalog` follows Backstage's catalog API, so "
    "`@backstage/catalog-client` works against it unchanged; the rest of `/api` is catalog-sync's own. "
    "Write endpoints need `Authorization: Bearer <token>`. Errors use Backstage's shape "
    "`{error: {name, message}, request, response: {statusCode}}`."
)
