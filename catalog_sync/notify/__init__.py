"""Delivering the outbox: channels (``webhook``, ``slack``), signing, retries with back-off.

``routes_of`` turns the configured channels into the outbox's routes (the stores write events with
them); ``Deliverer`` sends what is due once; ``DeliveryLoop`` runs it in a thread beside the sync loop,
in ``worker`` and under ``serve``.
"""

from catalog_sync.notify.bodies import sign, slack_body, webhook_request
from catalog_sync.notify.deliver import Deliverer, Outcome
from catalog_sync.notify.loop import DeliveryLoop
from catalog_sync.notify.routes import routes_of

__all__ = ["Deliverer", "DeliveryLoop", "Outcome", "routes_of", "sign", "slack_body", "webhook_request"]
