"""A delivery from its request to its answer, in two steps shared by the Flask views and the fast path.

``read_delivery`` checks a request (``intake``: length, token or signature, then type and payload) and
reads what it asks (``github``, ``gitlab``) into a ``Delivery``, or raises ``Refused``.
``record_delivery`` hands the delivery to the store's ``WebhookIntake`` (one transaction, shared with
the deliveries arriving meanwhile), counts it, logs it, wakes an in-process sync loop, and answers the
status and document to send. Neither touches Flask's request context, so the views
(``plugin_api.webhooks``) and the WSGI fast path in front of Flask (``fastpath``) run the same code.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from werkzeug.wrappers import Request

from catalog_sync.config import GitHubSourceSettings, GitLabSourceSettings, Settings, WebhookSettings
from catalog_sync.config.webhooks import LEGACY_SECRET_ENV
from catalog_sync.metrics import count_delivery, prepare_deliveries
from catalog_sync.store.webhook_events import (
    ACCEPTED,
    DUPLICATE,
    Action,
    Delivery,
    GroupMoved,
    Lifecycle,
    Push,
)
from plugin_api.state import AppState
from plugin_api.webhooks import github, gitlab
from plugin_api.webhooks.intake import (
    FORM_TYPE,
    JSON_TYPE,
    Refusal,
    Unread,
    check_length,
    check_signature,
    check_token,
    delivery_id,
    parse_document,
    read_body,
    shown,
)
from plugin_api.webhooks.newcomers import branches_read, listing_sources, naming_old_path
from plugin_api.webhooks.payload import PayloadError

log = logging.getLogger(__name__)

Reader = Callable[
    [str, dict[str, Any], str | None, Callable[[Push], Collection[str]]], tuple[Action | None, str | None]
]
"""(event, payload, the ``instance_header``'s value, the branches the sources read in a push's project)
-> what the delivery asks, or why it changes nothing."""


@dataclass(frozen=True)
class Route:
    """What differs between the hosts: the headers a delivery comes with, the events read, and how
    each is authenticated (GitHub signs the body; GitLab sends a token, checked before the body is read)."""

    provider: str
    rule: str
    """The URL rule, as the request metrics label it."""
    event_header: str
    id_headers: tuple[str, ...]
    """The headers naming a delivery, the first present taken; a repeated id is a duplicate."""
    events: tuple[str, ...]
    labels: dict[str, str]
    """The events counted under their own name (``catalog_webhook_deliveries_total{event}``); any
    other is ``other``, so a caller cannot grow the label set."""
    read: Reader
    instance_header: str | None = None
    """The header naming the instance that sent the delivery, for payloads that name no host (a GitLab
    system hook's project events): without it, an instance that is no source could name a project
    of another by its id."""
    answers_unread: bool = False
    """Whether an authenticated delivery of an event not read is answered 202 ignored rather than
    refused (400). GitLab disables a hook after four failed deliveries in a row (for good on a 4xx in
    its releases before late 2024), and a group hook ticked for merge request events besides pushes
    would stop bringing the pushes; GitHub disables none, and its refusal shows the mistake in its
    list of deliveries."""
    shared_ids: tuple[str, ...] = ()
    """Id headers whose value other deliveries may carry too, so they name a delivery only with its
    body. GitLab's ``X-Gitlab-Event-UUID`` is new for each hook it runs, except that every hook a
    request from a webhook's receiver triggers carries the value that receiver was sent (its
    recursion detection): a receiver that pushes through the API with it, twice, sends two pushes
    under one value. GitLab's resend of a delivery brings a new value; ``Idempotency-Key`` keeps its."""
    content_types: tuple[str, ...] = (JSON_TYPE,)
    """The content types a delivery may come as: GitHub's webhook lets its creator choose a form
    (``intake.form_payload``); GitLab always sends JSON, so nothing else is read there."""

    def label(self, event: str) -> str:
        """The event's metric label."""
        return self.labels.get(event, "other")


GITHUB = Route(
    provider=github.PROVIDER,
    rule="/api/webhooks/github",
    event_header="X-GitHub-Event",
    id_headers=("X-GitHub-Delivery", "Idempotency-Key"),
    events=github.EVENTS,
    labels={event: event for event in github.EVENTS},
    read=github.read_event,
    content_types=(JSON_TYPE, FORM_TYPE),
)
GITLAB = Route(
    provider=gitlab.PROVIDER,
    rule="/api/webhooks/gitlab",
    event_header="X-Gitlab-Event",
    id_headers=("Idempotency-Key", "X-Gitlab-Event-UUID"),
    shared_ids=("X-Gitlab-Event-UUID",),
    events=gitlab.EVENTS,
    labels={"Push Hook": "push", "System Hook": "system"},
    read=gitlab.read_event,
    instance_header=gitlab.INSTANCE_HEADER,
    answers_unread=True,
)


def prepare_delivery_counts() -> None:
    """Every provider's delivery series at zero from the start (``metrics.prepare_deliveries``): each
    event counted under its own label, and ``other``."""
    for route in (GITHUB, GITLAB):
        prepare_deliveries(route.provider, [*dict.fromkeys(route.labels.values()), "other"])


def warn_of_unset_secrets(webhooks: WebhookSettings) -> None:
    """Say once, at start, which variable named by ``webhooks.*`` holds nothing (a Secret not mounted,
    a misspelt name): its endpoint refuses what is signed with it (401), as it must, and without this
    line the operator learns it only from the host's list of failed deliveries. Names the variable and
    the endpoint, never a value."""
    for route in (GITHUB, GITLAB):
        if route.provider in webhooks.unset:
            key, variable = _named_variable(webhooks, route.provider)
            log.warning(
                "%s names %s, which is unset or empty: %s",
                key,
                variable,
                _what_is_refused(webhooks, route),
            )


def _named_variable(webhooks: WebhookSettings, provider: str) -> tuple[str, str]:
    """The key of the file that names ``provider``'s variable, and the variable."""
    if provider == github.PROVIDER:
        return "webhooks.github.secrets_env", webhooks.github_secrets_env
    return "webhooks.gitlab.tokens_env", webhooks.gitlab_tokens_env


def _what_is_refused(webhooks: WebhookSettings, route: Route) -> str:
    """What the unset variable costs: every delivery, unless the legacy GitHub secret still signs some."""
    if route.provider == github.PROVIDER and webhooks.github_secrets:
        return f"deliveries to {route.rule} are checked against {LEGACY_SECRET_ENV}'s secret alone"
    return f"every delivery to {route.rule} is refused (401) until it is set and the service restarted"


def read_delivery(route: Route, request: Request, app_state: AppState) -> Delivery:
    """The authenticated delivery and what it asks, read in the order ``intake`` gives; ``Refused``
    when any step fails."""
    settings = app_state.settings.webhooks
    event = request.headers.get(route.event_header, "")
    fail = Refusal(route.provider, route.label(event))
    check_length(request, settings.max_body_bytes, fail)
    if route.provider == gitlab.PROVIDER:
        check_token(request, settings.gitlab_tokens, fail)
    body = read_body(request, settings.max_body_bytes, fail)
    if route.provider == github.PROVIDER:
        check_signature(request, body, settings.github_secrets, fail)
    if not event:
        fail(400, f"missing {route.event_header}: the host names the event in it")
    if event not in route.events:
        unread = (
            f"{route.event_header} {shown(event)} is not handled: subscribe the webhook to "
            f"{', '.join(route.events)} only"
        )
        if route.answers_unread:
            raise Unread(route.provider, route.label(event), unread)
        fail(400, unread)
    document = parse_document(request, body, route.content_types, fail)
    identifier = delivery_id(request, route.id_headers, body, fail, route.shared_ids)
    try:
        instance = request.headers.get(route.instance_header) if route.instance_header else None
        reads = partial(branches_read, app_state.settings, document)
        action, ignored = route.read(event, document, instance, reads)
    except PayloadError as exc:
        fail(400, f"the {event} delivery cannot be read: {exc}")
    if action is not None:
        action = replace(action, listed_by=listing_sources(app_state.settings, action, document))
    return Delivery(route.provider, identifier, event, app_state.clock(), action, ignored)


def record_delivery(route: Route, delivery: Delivery, app_state: AppState) -> tuple[int, dict[str, Any]]:
    """Record the delivery (durable once this returns) and answer its status and document."""
    # Only a lifecycle event asks which sources keep archived repositories: a push does not pay for it.
    keeping = sources_keeping_archived(app_state.settings) if isinstance(delivery.action, Lifecycle) else ()
    outcome = app_state.webhooks.record_delivery(
        delivery,
        keep_seconds=app_state.settings.webhooks.keep_deliveries_seconds,
        sources_keeping_archived=keeping,
    )
    count_delivery(route.provider, route.label(delivery.event), outcome.result)
    log.info("%s %s delivery %s: %s", route.provider, delivery.event, delivery.delivery_id, outcome.result)
    if outcome.woke and app_state.sync_trigger is not None:
        app_state.sync_trigger()
    if isinstance(delivery.action, GroupMoved) and outcome.result == ACCEPTED:
        warn_old_path(app_state.settings, delivery.action)
    if outcome.result == DUPLICATE:
        return 200, {"duplicate": True}
    if outcome.result != ACCEPTED:
        return 202, {"ignored": outcome.reason or "nothing to do"}
    if delivery.action is None:
        return 200, {"accepted": True}
    answer: dict[str, Any] = {"accepted": True, "repositories": list(outcome.repository_ids)}
    if outcome.listing:  # whatever asked for it: a newcomer, a move, an unarchiving, an edit
        answer["listing"] = list(outcome.listing)
    return 202, answer


def warn_old_path(settings: Settings, moved: GroupMoved) -> None:
    """Name the sources a group's new path leaves behind: GitLab's API no longer answers the old path,
    so their listing, asked for now, fails and removes nothing until their ``group`` is changed."""
    for name, group in naming_old_path(settings, moved):
        log.warning(
            "gitlab group %r was renamed %r: source %r names its old path, so its listings fail (and "
            "remove nothing) until the configuration sets its group to %r",
            moved.old_path,
            moved.new_path,
            name,
            group,
        )


def sources_keeping_archived(settings: Settings) -> frozenset[str]:
    """Sources configured with ``archived: true``: an ``archived`` event orphans nothing of theirs."""
    return frozenset(
        s.name
        for s in settings.sources
        if isinstance(s, GitHubSourceSettings | GitLabSourceSettings) and s.filters.archived
    )
