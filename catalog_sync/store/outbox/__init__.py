"""The notifications outbox: events written beside the change that caused them, then delivered.

``write_events`` (used by the scoring, KPI and sync stores inside their own transactions) routes
events to channels; ``OutboxDelivery`` is the delivery loop's protocol (claim, then record each
try), ``OutboxReads`` the API's and the portal's; ``SqlOutbox`` implements both.
"""

from catalog_sync.store.outbox.store import OutboxDelivery, OutboxReads, SqlOutbox
from catalog_sync.store.outbox.types import STATUSES, Delivery, Event, NotificationPage, Route, Try

__all__ = [
    "STATUSES",
    "Delivery",
    "Event",
    "NotificationPage",
    "OutboxDelivery",
    "OutboxReads",
    "Route",
    "SqlOutbox",
    "Try",
]
