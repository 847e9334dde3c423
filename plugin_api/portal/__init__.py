"""The portal: server-rendered pages of the catalog, scorecards and ownership gaps for people.

``blp`` is a plain Flask blueprint (kept out of the OpenAPI description); ``create_app`` registers it
with ``app.register_blueprint(portal.blp)``. Pages, one module per group:

- ``/`` (``overview``), ``/catalog`` (``catalog``), ``/catalog/{kind}/{namespace}/{name}`` (``entity``);
- ``/scorecards``, ``/scorecards/{name}`` (``scorecards``); ``/initiatives``, ``/initiatives/{name}``
  (``initiatives``); ``/gaps`` (``gaps``); ``/teams/{name}``
  (``teams``); ``/repositories``, ``/repositories/{id}`` (``repositories``).
"""

from plugin_api.portal import (
    catalog,
    entity,
    errors,
    gaps,
    initiatives,
    overview,
    repositories,
    scorecards,
    teams,
)
from plugin_api.portal.blueprint import blp

__all__ = [
    "blp",
    "catalog",
    "entity",
    "errors",
    "gaps",
    "initiatives",
    "overview",
    "repositories",
    "scorecards",
    "teams",
]
