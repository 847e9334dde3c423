"""Wire schemas of ``/api/notifications``: the outbox's deliveries and their state."""

from __future__ import annotations

from marshmallow import EXCLUDE, fields, validate

from catalog_sync.config import NOTIFICATION_EVENTS
from catalog_sync.store.outbox import STATUSES
from plugin_api.schemas.common import ListArgsSchema, OpenSchema, list_schema


class NotificationSchema(OpenSchema):
    """One event for one channel, and how its delivery went (never the channel's URL)."""

    id = fields.Integer(required=True)
    deliveryId = fields.String(  # noqa: N815
        required=True, metadata={"description": "the X-Catalog-Delivery header, the same at every try"}
    )
    channel = fields.String(required=True)
    event = fields.String(required=True, validate=validate.OneOf(NOTIFICATION_EVENTS))
    entityRef = fields.String(allow_none=True, required=True)  # noqa: N815
    summary = fields.String(allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    attempts = fields.Integer(required=True, metadata={"description": "tries made so far"})
    createdAt = fields.DateTime(required=True)  # noqa: N815
    nextAttemptAt = fields.DateTime(allow_none=True, metadata={"description": "when pending"})  # noqa: N815
    deliveredAt = fields.DateTime(allow_none=True)  # noqa: N815
    lastError = fields.String(allow_none=True, metadata={"description": "why the last try failed"})  # noqa: N815


NotificationListSchema = list_schema("NotificationList", NotificationSchema)


class NotificationListArgsSchema(ListArgsSchema):
    """Filters of ``GET /api/notifications``."""

    class Meta:
        unknown = EXCLUDE

    status = fields.String(
        validate=validate.OneOf(STATUSES),
        metadata={"description": "pending, delivered or failed (failed: kept after the last try)"},
    )


__all__ = ["NotificationListArgsSchema", "NotificationListSchema", "NotificationSchema"]
