"""The portal: server-rendered pages of the catalog, scorecards and ownership gaps for people.

``blp`` is a plain Flask blueprint (kept out of the OpenAPI description); ``create_app`` registers it
with ``app.register_blueprint(portal.blp)``. Pages, one module per group:

- ``/`` (``overview``), ``/catalog`` (``catalog``), ``/catalog/{kind}/{namespace}/{name}`` (``entity``);
- ``/capabilities`` (``capabilities``), ``/teams`` and ``/teams/{name}`` (``teams``), ``/insights``
  (``insights``): the product model's questions;
- ``/scorecards``, ``/scorecards/{name}`` (``scorecards``); ``/initiatives``, ``/initiatives/{name}``
  (``initiatives``); ``/gaps`` (``gaps``); ``/kpis`` (``kpis``, which also gives product and team
  pages their KPI blocks);
  ``/repositories``, ``/repositories/{id}`` (``repositories``).
"""

from plugin_api.portal import (
    capabilities,
    catalog,
    entity,
    errors,
    gaps,
    initiatives,
    insights,
    kpis,
    overview,
    repositories,
    scorecards,
    teams,
)
from plugin_api.portal.blueprint import blp

__all__ = [
    "blp",
    "capabilities",
    "catalog",
    "entity",
    "errors",
    "gaps",
    "initiatives",
    "insights",
    "kpis",
    "overview",
    "repositories",
    "scorecards",
    "teams",
]
