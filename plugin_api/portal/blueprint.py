"""The portal's blueprint: the HTML pages a platform team reads in a browser.

The pages are served by the API's own app and read the catalog through the same readers as the API
(``plugin_api.state`` and the scoring reader), never over HTTP. They are a plain Flask blueprint, not
one of flask-smorest's, so they stay out of the OpenAPI description: they are pages, not endpoints
a client programs against. Templates live in ``plugin_api/templates/portal`` and the style sheet in
``plugin_api/static``; both ship as package data.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint

PACKAGE_ROOT = Path(__file__).resolve().parent.parent

blp = Blueprint(
    "portal",
    __name__,
    template_folder=str(PACKAGE_ROOT / "templates"),
    static_folder=str(PACKAGE_ROOT / "static"),
    static_url_path="/portal/static",
)
