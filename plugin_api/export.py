"""``/api/export/backstage``: the whole catalog as Backstage entities, one YAML document each.

For moving to (or mirroring into) a Backstage instance: the file can be registered there as a
location as it is.
"""

from __future__ import annotations

from flask import Response

from catalog_sync.export import export_backstage
from plugin_api.smorest import api_blueprint
from plugin_api.state import connection, state

blp = api_blueprint("export", __name__, "The catalog as Backstage YAML")


@blp.route("/backstage", methods=["GET"])
@blp.response(
    200,
    {"type": "array", "items": {"type": "object"}},
    content_type="application/yaml",
    description="a stream of YAML documents (`---`), one Backstage entity each",
)
def export_yaml() -> Response:
    """Every entity, as Backstage would read it from a catalog-info.yaml."""
    body = export_backstage(state().catalog, connection())
    return Response(
        body,
        status=200,
        mimetype="application/yaml",
        headers={"Content-Disposition": 'inline; filename="catalog-backstage.yaml"'},
    )
