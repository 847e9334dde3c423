"""Sending due deliveries once: claim a batch, post each, record what the receiver said.

What an answer means:
- 2xx: delivered.
- 5xx, 408 or 429, no answer within ``timeout_seconds``, a refused or closed connection: tried
  again after ``backoff_seconds``, doubling at each try up to ``max_backoff_seconds``, until
  ``max_attempts`` tries; then ``failed``.
- any other answer (a 4xx, a redirect): ``failed`` at once. The receiver refused this body or moved,
  and sending it again will not change that.

Error texts are written here, never taken from the HTTP client, whose messages quote the URL (a
Slack URL is itself the secret).

A channel naming a ``proxy`` sends through it, its credentials (``proxy_auth_env``) written into the
proxy's URL for this request alone and sent in UTF-8, as git sends a source's; every other channel goes
direct, since the session reads no proxy from the environment. A proxy that answers 407 (to the
request, or to the ``CONNECT`` of a tunnel) is retried like a receiver's 5xx: a proxy's own
authentication can fail for a while, and a password that is wrong fails every try and, after the last,
the delivery, with the reason. Error texts name the proxy as configured, which carries no credentials, and
pass through ``redact`` as well.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from math import ceil

import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests.utils import get_auth_from_url

from catalog_sync.config import ChannelSettings, NotificationSettings
from catalog_sync.config.network import proxy_with_credentials
from catalog_sync.notify.bodies import slack_request, webhook_request
from catalog_sync.sources.urls import redact
from catalog_sync.store.outbox import Delivery, OutboxDelivery, Try

log = logging.getLogger(__name__)

PROXY_AUTHENTICATION = 407
RETRIED_STATUSES = frozenset({408, 429})
"""4xx answers that say "later", not "never": a timeout on their side and rate limiting."""

MAX_ANSWER_BYTES = 64 * 1024
"""Bytes of an answer's body read (and dropped); a longer body costs its connection, not memory."""

Recorder = Callable[[str, str, str], None]
"""Counts one try: ``(channel, event, result)`` with result ``delivered``, ``retried`` or ``failed``."""


@dataclass(frozen=True)
class Outcome:
    """What one try came to: ``delivered``, ``retry`` or ``failed``, and why when not delivered."""

    result: str
    error: str | None = None


def _utcnow() -> datetime:
    return datetime.now(UTC)


class _ProxyAdapter(HTTPAdapter):
    """Sends a proxy's credentials in UTF-8, as git's libcurl sends a source's.

    requests encodes them in latin-1: a password such as ``pässwort`` reached the proxy as other bytes
    than git sends (a 407), and one with a character outside latin-1 raised ``UnicodeEncodeError`` out
    of the whole batch, whose claims then never ended in a try."""

    def proxy_headers(self, proxy: str) -> dict[str, str]:
        user, password = get_auth_from_url(proxy)
        if not user:
            return {}
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        return {"Proxy-Authorization": f"Basic {token}"}


class Deliverer:
    """Sends what is due to the configured channels, through the outbox's claims."""

    def __init__(
        self,
        settings: NotificationSettings,
        store: OutboxDelivery,
        *,
        record: Recorder | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._record = record or (lambda _channel, _event, _result: None)
        self._channels = {channel.name: channel for channel in settings.channels}
        self._session = requests.Session()
        self._session.trust_env = False  # a proxy from the environment must not see the URLs
        adapter = _ProxyAdapter(
            pool_connections=max(1, len(self._channels)), pool_maxsize=settings.concurrency
        )
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._pool = ThreadPoolExecutor(max_workers=settings.concurrency, thread_name_prefix="notify")

    @property
    def lease_seconds(self) -> float:
        """How long a claim holds: long enough for a whole batch of receivers that all hang."""
        rounds = ceil(self.settings.batch_size / self.settings.concurrency)
        return 2 * self.settings.timeout_seconds * rounds + 5

    def run_once(self) -> int:
        """Claim and try one batch of due deliveries; answer how many were tried."""
        if not self._channels:
            return 0
        batch = self.store.claim(self.worker, self.clock(), self.settings.batch_size, self.lease_seconds)
        if not batch:
            return 0
        tries = list(self._pool.map(self._attempt, batch))
        self.store.record(self.worker, tries)
        for tried in tries:
            result = "retried" if tried.status == "pending" else tried.status
            self._record(tried.delivery.channel, tried.delivery.event, result)
            if tried.status == "failed":
                log.warning(
                    "notification %s to channel %s failed: %s",
                    tried.delivery.id,
                    tried.delivery.channel,
                    tried.error,
                )
        return len(batch)

    def close(self) -> None:
        """Let go of the threads and connections."""
        self._pool.shutdown(wait=True)
        self._session.close()

    def _attempt(self, delivery: Delivery) -> Try:
        """Send one delivery and decide what becomes of it (recorded with its batch)."""
        channel = self._channels.get(delivery.channel)
        if channel is None:
            outcome = Outcome("failed", f"channel {delivery.channel!r} is no longer configured")
        else:
            outcome = self.send(channel, delivery)
        now = self.clock()
        tries = delivery.attempts + 1
        if outcome.result == "retry" and tries >= self.settings.max_attempts:
            outcome = Outcome("failed", f"{outcome.error}; gave up after {tries} tries")
        if outcome.result == "retry":
            later = now + timedelta(seconds=self.backoff(tries))
            return Try(delivery, "pending", now, outcome.error, later)
        return Try(delivery, outcome.result, now, outcome.error)

    def backoff(self, tries: int) -> float:
        """Seconds before the next try, after ``tries`` tries."""
        first = self.settings.backoff_seconds
        return float(min(first * 2 ** min(tries - 1, 30), self.settings.max_backoff_seconds))

    def send(self, channel: ChannelSettings, delivery: Delivery) -> Outcome:
        """Post one delivery to its channel and judge the answer (see the module doc)."""
        if channel.type == "slack":
            body, headers = slack_request(delivery)
        else:
            body, headers = webhook_request(delivery, channel.secret)
        timeout = self.settings.timeout_seconds
        try:
            response = self._session.post(
                channel.url,
                data=body,
                headers=headers,
                timeout=(timeout, timeout),
                allow_redirects=False,
                stream=True,
                proxies=_proxies(channel),
                verify=channel.ca_file or True,  # the channel's authorities, else requests' bundle
            )
        except requests.exceptions.ProxyError as exc:
            return _proxy_failure(channel, exc)
        except requests.exceptions.SSLError:
            trusted = "the channel's ca_file" if channel.ca_file else "the bundled authorities (see ca_file)"
            return Outcome(
                "retry", f"the receiver's TLS certificate was refused: no authority of {trusted} signed it"
            )
        except requests.Timeout:
            return Outcome("retry", f"the receiver did not answer within {timeout:g} s")
        except requests.ConnectionError:
            return Outcome("retry", "the connection was refused or closed before an answer")
        except requests.RequestException as exc:
            return Outcome("retry", f"the request failed ({type(exc).__name__})")
        status = response.status_code
        # A short answer read whole lets the connection serve the next delivery; the status is what
        # counts, so a body that breaks off changes nothing.
        with contextlib.suppress(requests.RequestException, OSError, urllib3.exceptions.HTTPError):
            response.raw.read(MAX_ANSWER_BYTES, decode_content=False)
        response.close()
        if 200 <= status < 300:
            return Outcome("delivered")
        if status == PROXY_AUTHENTICATION and channel.proxy is not None:
            return _proxy_refused(channel)
        if status >= 500 or status in RETRIED_STATUSES:
            return Outcome("retry", f"the receiver answered {status}")
        return Outcome(
            "failed", f"the receiver answered {status}; not tried again (it would answer the same)"
        )


def _proxies(channel: ChannelSettings) -> dict[str, str]:
    """The channel's proxy for both schemes, with its credentials; empty for a channel without one."""
    if channel.proxy is None:
        return {}
    proxy = proxy_with_credentials(channel.proxy, channel.proxy_credentials)
    return {"http": proxy, "https": proxy}


def _proxy_refused(channel: ChannelSettings) -> Outcome:
    """A 407: the proxy asks for credentials the channel did not give, or refused those it gave."""
    if channel.proxy_auth_env is None:
        why = "asks for credentials; name the variable holding its user:password in proxy_auth_env"
    else:
        why = f"refused the credentials of proxy_auth_env ({channel.proxy_auth_env})"
    return Outcome("retry", redact(f"the proxy {channel.proxy} answered 407: it {why}"))


def _proxy_failure(channel: ChannelSettings, exc: requests.exceptions.ProxyError) -> Outcome:
    """The proxy could not be reached or refused the tunnel; only its answer's status is read from the
    client's message, which quotes the receiver's URL."""
    if f" {PROXY_AUTHENTICATION} " in f" {exc} " and channel.proxy is not None:
        return _proxy_refused(channel)
    return Outcome("retry", redact(f"the proxy {channel.proxy} could not be reached or refused the tunnel"))
