"""The outbox's plain values: an event as a change produces it, a channel's route, a claimed delivery."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from catalog_sync.store.filters import EntityFilter

STATUSES = ("pending", "delivered", "failed")


@dataclass(frozen=True)
class Event:
    """One thing a person should hear about, as the store operation that caused it sees it.

    ``subject`` (with ``type`` and the day) is what makes it the same event twice in a day: a level
    dropped to silver on one scorecard, a gap of one type on one entity, one KPI, one repository."""

    type: str
    subject: str
    entity_id: int | None = None
    entity_ref: str | None = None
    owner: str | None = None
    summary: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    """A channel as the outbox sees it: its name, the events it takes and the entities it cares for.

    A channel with a ``filter`` gets only events whose entity the filter selects (events about no
    entity, such as a repository that holds none, are left out of it)."""

    name: str
    events: frozenset[str]
    entity_filter: EntityFilter | None = None


@dataclass(frozen=True)
class Delivery:
    """A claimed row of the outbox, ready to send: what the delivery loop holds while it tries."""

    id: int
    channel: str
    event: str
    delivery_id: str
    payload: dict[str, Any]
    attempts: int
    created_at: datetime


@dataclass(frozen=True)
class NotificationPage:
    """One page of ``GET /api/notifications``: the rows, newest first, and how many match."""

    items: list[dict[str, Any]]
    total: int
    last_id: int | None
    has_more: bool


@dataclass(frozen=True)
class Try:
    """One delivery tried once: ``delivered``, ``failed`` (no more tries) or ``pending`` (again at
    ``next_attempt_at``), and why when not delivered."""

    delivery: Delivery
    status: str
    at: datetime
    error: str | None = None
    next_attempt_at: datetime | None = None
