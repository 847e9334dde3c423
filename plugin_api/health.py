"""``/healthz`` and ``/readyz``: the probes of the Helm chart and of load balancers.

``/healthz`` says the process answers (a restart will not help if it fails); ``/readyz`` says the
database answers too, so traffic is held back from a replica that cannot serve it.
"""

from __future__ import annotations

from plugin_api.schemas.resources import ProbeSchema
from plugin_api.smorest import api_blueprint
from plugin_api.state import state

blp = api_blueprint("health", __name__, "Liveness and readiness probes", url_prefix="")


@blp.route("/healthz", methods=["GET"])
@blp.response(200, ProbeSchema)
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@blp.route("/readyz", methods=["GET"])
@blp.response(200, ProbeSchema)
@blp.alt_response(503, description="the database does not answer, or its file is corrupt (named)")
def readyz() -> dict[str, str]:
    """The database answers and its file is not known to be damaged; otherwise 503 (``StoreError`` is
    answered as ServiceUnavailableError; ``CorruptDatabaseError`` names the file)."""
    state().units.check_ready()
    return {"status": "ok"}
