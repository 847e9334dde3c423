"""The initiative events: an initiative due in 14, 7 or 1 days, or overdue and not done.

They follow from the day, not from a change of data, so they are judged by the re-score that
records the day (``progress.keep_progress``) from the progress it just kept, with the rule of
``initiatives.due_notices``, and handed to the store in that re-score's transaction (``announce``).
An overdue initiative is announced once a day while it stays overdue.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from catalog_sync.scoring.initiatives import Progress, due_notices
from catalog_sync.store.outbox import Event


def initiative_events(judged: Iterable[Progress], today: date) -> list[Event]:
    """The ``initiative_due`` and ``initiative_overdue`` events of ``today``."""
    progress = {p.definition.name: p for p in judged}
    items = [
        {"name": name, "dueOn": p.definition.due_on.isoformat(), "inScope": p.in_scope, "done": p.done}
        for name, p in progress.items()
    ]
    events = []
    for notice in due_notices(items, today):
        p = progress[notice.name]
        definition = p.definition
        left = notice.days_left
        when = f"due in {left} day{'s' if left != 1 else ''}" if left >= 0 else f"overdue by {-left} days"
        events.append(
            Event(
                type=notice.event,
                subject=f"{definition.name}\x00{left if left >= 0 else 'overdue'}",
                entity_ref=definition.entity_ref,
                owner=definition.owner or None,
                summary=f"initiative {definition.title or definition.name} is {when} ({p.done} of "
                f"{p.in_scope} done)",
                detail={
                    "initiative": definition.name,
                    "scorecard": definition.scorecard,
                    "dueOn": notice.due_on.isoformat(),
                    "daysLeft": left,
                    "inScope": p.in_scope,
                    "done": p.done,
                    "atRisk": p.at_risk,
                },
            )
        )
    return events
