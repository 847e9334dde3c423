"""What a delivery sends: a signed JSON body for ``webhook`` channels, Slack's message for ``slack``.

A webhook's body is the event's JSON, bytes exactly as signed: ``X-Catalog-Signature-256`` is
``sha256=`` and the hex HMAC-SHA256 of those bytes with the channel's secret (GitHub's scheme, so
receivers reuse their code), and ``X-Catalog-Delivery`` is the row's id, the same at every try.

A Slack message escapes ``&``, ``<`` and ``>`` in everything a descriptor wrote, so a title cannot
ping ``<!channel>`` or hide a link behind other text.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from catalog_sync import __version__
from catalog_sync.store.outbox import Delivery

SIGNATURE_HEADER = "X-Catalog-Signature-256"
DELIVERY_HEADER = "X-Catalog-Delivery"
EVENT_HEADER = "X-Catalog-Event"
USER_AGENT = f"catalog-sync/{__version__}"
MAX_SLACK_TEXT = 2900
"""Slack cuts a section's text at 3,000 characters; ours stops before."""


def sign(secret: str, body: bytes) -> str:
    """The signature header's value for ``body``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def webhook_request(delivery: Delivery, secret: str | None) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a ``webhook`` delivery."""
    document = {"deliveryId": delivery.delivery_id, **delivery.payload}
    body = json.dumps(document, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8")
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        DELIVERY_HEADER: delivery.delivery_id,
        EVENT_HEADER: delivery.event,
    }
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, body)
    return body, headers


def slack_request(delivery: Delivery) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a ``slack`` delivery (an incoming webhook's message)."""
    body = json.dumps(slack_body(delivery.payload), ensure_ascii=False).encode("utf-8")
    return body, {"Content-Type": "application/json", "User-Agent": USER_AGENT}


def _escape(text: Any) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_body(payload: dict[str, Any]) -> dict[str, Any]:
    """Slack's incoming-webhook message: ``text`` (notifications, screen readers) and ``blocks``."""
    event = str(payload.get("event", "event"))
    summary = _escape(payload.get("summary") or event)[:MAX_SLACK_TEXT]
    fields = []
    entity = payload.get("entity") or {}
    if entity.get("ref"):
        fields.append({"type": "mrkdwn", "text": f"*Entity*\n{_escape(entity['ref'])}"})
    owner = payload.get("owner") or {}
    if owner.get("ref"):
        fields.append({"type": "mrkdwn", "text": f"*Owner*\n{_escape(owner.get('title') or owner['ref'])}"})
    contact = owner.get("contact") or {}
    reach = ", ".join(_escape(contact[key]) for key in ("channel", "email") if contact.get(key))
    if reach:
        fields.append({"type": "mrkdwn", "text": f"*Contact*\n{reach}"})
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": event.replace("_", " ")[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": summary}},
    ]
    if fields:
        blocks.append({"type": "section", "fields": fields[:10]})
    blocks.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"catalog-sync · {_escape(event)}"}]}
    )
    return {"text": f"{event.replace('_', ' ')}: {summary}", "blocks": blocks}
