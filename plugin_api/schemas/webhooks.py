"""The answer of the webhook endpoints: one small document whatever the outcome."""

from __future__ import annotations

from marshmallow import fields

from plugin_api.schemas.common import OpenSchema


class WebhookAnswerSchema(OpenSchema):
    """``{"accepted": true, "repositories": [...]}`` (with ``listing`` when sources were asked to list),
    ``{"ignored": why}`` or ``{"duplicate": true}``."""

    accepted = fields.Boolean(metadata={"description": "the delivery was applied"})
    repositories = fields.List(
        fields.Integer(), metadata={"description": "ids of the repositories it made due or changed"}
    )
    listing = fields.List(
        fields.String(),
        metadata={
            "description": "the sources asked to list at once: the delivery names a repository none "
            "lists yet (created since their last listing, moved or unarchived into their reach), one "
            "renamed, transferred, unarchived or edited, or a GitLab group renamed; read once listed"
        },
    )
    ignored = fields.String(metadata={"description": "why the delivery changes nothing"})
    duplicate = fields.Boolean(
        metadata={
            "description": "this delivery id was received and acted on before; nothing done (a delivery "
            "that was ignored is decided again when redelivered)"
        }
    )
