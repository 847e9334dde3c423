"""The answer of the webhook endpoints: one small document whatever the outcome."""

from __future__ import annotations

from marshmallow import fields

from plugin_api.schemas.common import OpenSchema


class WebhookAnswerSchema(OpenSchema):
    """``{"accepted": true, "repositories": [...]}`` (with ``listing`` for a repository no source lists
    yet), ``{"ignored": why}`` or ``{"duplicate": true}``."""

    accepted = fields.Boolean(metadata={"description": "the delivery was applied"})
    repositories = fields.List(
        fields.Integer(), metadata={"description": "ids of the repositories it made due or changed"}
    )
    listing = fields.List(
        fields.String(),
        metadata={
            "description": "the sources asked to list at once: the push names a repository none lists "
            "yet (created since their last listing), read once listed"
        },
    )
    ignored = fields.String(metadata={"description": "why the delivery changes nothing"})
    duplicate = fields.Boolean(
        metadata={
            "description": "this delivery id was received and acted on before; nothing done (a delivery "
            "that was ignored is decided again when redelivered)"
        }
    )
