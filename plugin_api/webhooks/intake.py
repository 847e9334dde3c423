"""Reading a delivery safely, in the order that keeps an unauthenticated caller from costing anything.

1. the declared length against ``webhooks.max_body_bytes`` (413 before a byte is read);
2. GitLab's token, a header, compared in constant time against every configured token (401);
3. the body, read up to the limit and no further (413 when it reaches it);
4. GitHub's signature, HMAC-SHA256 of those bytes, compared in constant time against the HMAC of
   every configured secret, with no early exit (401);
5. only then the event (400), the content type (415) and the JSON (400).

GitHub sends a delivery as ``application/json`` or, when the webhook was created with its form's
default, as ``application/x-www-form-urlencoded``: ``payload=<the JSON, percent-encoded>``, signed as
sent. Both carry one document: the form is read strictly (``form_payload``: exactly one field, named
``payload``, percent-encoded UTF-8) and that field goes through the JSON body's own reading
(``parse_json``: depth bounded, an object), so the form adds no second, looser reading of what a push
says. GitLab sends JSON only, and its route reads nothing else. A ``charset`` parameter changes
nothing: JSON, and GitHub's form, are UTF-8.

A refusal names the header or setting at fault and never repeats what was presented: the signature
and token a caller sent, like the configured secrets, appear in no answer and no log line. It is raised
as ``Refused``; the Flask view counts it and answers it in the API's error shape, and the fast path
(``fastpath``) hands the delivery to that view, so every refusal is answered by one piece of code.

The functions take werkzeug's ``Request`` rather than Flask's global one, so the fast path, which runs
outside Flask's request context, reads a delivery with exactly the code the view uses.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any, NoReturn
from urllib.parse import parse_qsl

from werkzeug.wrappers import Request

from catalog_sync.descriptors import JsonTooDeepError, load_json

SIGNATURE_HEADER = "X-Hub-Signature-256"
SIGNATURE_PREFIX = "sha256="
TOKEN_HEADER = "X-Gitlab-Token"  # noqa: S105 (a header's name)
JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"
FORM_FIELD = "payload"
MAX_FORM_FIELDS = 4
"""More fields than a form should have (one) are still named one by one; beyond this, the form is
refused without splitting it, so a body of many ``&`` costs nothing."""
BAD_PERCENT_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
"""A ``%`` not followed by two hex digits: ``unquote`` would keep it as text; a strict reading refuses it."""
DELIVERY_ID_PATTERN = re.compile(r"\A[\x21-\x7e]{1,200}\Z")
"""A delivery id as stored: printable ASCII without spaces, at most 200 characters (GUIDs are 36)."""
OWS = " \t"
"""HTTP's optional whitespace around a header's value; only it is stripped, never ``str.strip``'s set:
a header is read as latin-1, and a UTF-8 token ending in ``à`` (bytes C3 A0) ends in NBSP there."""


class Refused(Exception):  # noqa: N818 (a refusal, not a failure of the server)
    """A delivery refused: the status, the message, and the result it is counted as
    (``catalog_webhook_deliveries_total{result}``) under its provider and event."""

    def __init__(self, provider: str, event: str, status: int, message: str, result: str) -> None:
        super().__init__(message)
        self.provider = provider
        self.event = event
        self.status = status
        self.message = message
        self.result = result

    @property
    def headers(self) -> dict[str, str] | None:
        """What a 401 must say: how the caller authenticates."""
        return {"WWW-Authenticate": 'HMAC realm="catalog-sync webhooks"'} if self.status == 401 else None


class Unread(Exception):  # noqa: N818 (an answer, not a failure)
    """An authenticated delivery of an event the catalog does not read, on a host that disables a hook
    whose deliveries keep failing (``Route.answers_unread``): answered 202 ignored, with the hint that
    would have been its 400, and counted as ``ignored``."""

    def __init__(self, provider: str, event: str, message: str) -> None:
        super().__init__(message)
        self.provider = provider
        self.event = event
        self.message = message


class Refusal:
    """Refuses a delivery of one provider and event (the labels it is counted under)."""

    def __init__(self, provider: str, event: str) -> None:
        self.provider = provider
        self.event = event

    def __call__(self, status: int, message: str, *, result: str = "invalid") -> NoReturn:
        """Refuse with ``status`` and ``message``, to be counted as ``result``."""
        raise Refused(self.provider, self.event, status, message, result)


def check_length(request: Request, limit: int, fail: Refusal) -> None:
    """Refuse a body declared larger than ``limit`` before anything reads it."""
    length = request.content_length
    if length is not None and length > limit:
        fail(413, f"the delivery has {length} bytes; at most {limit} are accepted (webhooks.max_body_bytes)")


def read_body(request: Request, limit: int, fail: Refusal) -> bytes:
    """The body, read up to ``limit`` bytes and no further; one that reaches the limit is refused."""
    request.max_content_length = limit + 1
    data = request.stream.read(limit + 1)
    if len(data) > limit:
        fail(413, f"the delivery reaches the limit of {limit} bytes (webhooks.max_body_bytes)")
    return data


def matches_any(presented: bytes, expected: list[bytes]) -> bool:
    """Constant-time comparison against every expected value, with no early exit on a match."""
    matched = False
    for value in expected:
        matched |= hmac.compare_digest(presented, value)
    return matched


def check_signature(request: Request, body: bytes, secrets: tuple[str, ...], fail: Refusal) -> None:
    """Refuse unless ``X-Hub-Signature-256`` is the HMAC-SHA256 of the body under a configured secret."""
    if not secrets:
        fail(
            401,
            "no GitHub webhook secret is configured: set the variable named by "
            "webhooks.github.secrets_env (or CATALOG_SYNC_WEBHOOK_SECRET)",
            result="unauthorized",
        )
    header = request.headers.get(SIGNATURE_HEADER)
    if not header:
        fail(401, f"missing {SIGNATURE_HEADER}: set a secret on the webhook", result="unauthorized")
    presented = header.strip(OWS).lower().encode("latin-1", "replace")  # hex: either case is the same bytes
    expected = [
        (SIGNATURE_PREFIX + hmac.new(s.encode(), body, hashlib.sha256).hexdigest()).encode() for s in secrets
    ]
    if not matches_any(presented, expected):
        fail(
            401,
            f"{SIGNATURE_HEADER} does not match the body under any configured secret",
            result="unauthorized",
        )


def check_token(request: Request, tokens: tuple[str, ...], fail: Refusal) -> None:
    """Refuse unless ``X-Gitlab-Token`` is one of the configured tokens."""
    if not tokens:
        fail(
            401,
            "no GitLab webhook token is configured: set the variable named by webhooks.gitlab.tokens_env",
            result="unauthorized",
        )
    header = request.headers.get(TOKEN_HEADER)
    if not header:
        fail(401, f"missing {TOKEN_HEADER}: set a secret token on the webhook", result="unauthorized")
    presented = header.strip(OWS).encode("latin-1", "replace")  # as configured tokens are stripped
    if not matches_any(presented, [t.encode() for t in tokens]):
        fail(401, f"{TOKEN_HEADER} is not a configured token", result="unauthorized")


def delivery_id(
    request: Request, headers: tuple[str, ...], body: bytes, fail: Refusal, shared: tuple[str, ...] = ()
) -> str:
    """The delivery's id from the first of ``headers`` present; without one, a digest of the body, so a
    replayed body is still recognised. A header of ``shared`` names a delivery only with its body
    (``_with_body``): the host gives its value to other deliveries too."""
    for name in headers:
        value = request.headers.get(name)
        if value is None:
            continue
        if not DELIVERY_ID_PATTERN.match(value):
            fail(400, f"{name} must be 1 to 200 printable characters without spaces")
        return _with_body(value, body) if name in shared else value
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _with_body(value: str, body: bytes) -> str:
    """An id from a value several deliveries share and the body each brings: the same delivery sent
    again keeps its id, another delivery carrying the value gets its own. Within the stored id's 200
    characters: the value stays readable (GitLab's are 36) unless it is too long to."""
    digest = hashlib.sha256(body).hexdigest()[:32]
    if len(value) <= 200 - 33:
        return f"{value}~{digest}"
    return "sha256:" + hashlib.sha256(value.encode() + b"\0" + body).hexdigest()


def shown(value: str) -> str:
    """A value the caller sent, as an answer may repeat it: short and printable, else ``(unreadable)``."""
    return repr(value) if len(value) <= 64 and value.isprintable() else "(unreadable)"


def parse_document(request: Request, body: bytes, accepted: tuple[str, ...], fail: Refusal) -> dict[str, Any]:
    """The delivery's JSON object, from a body of one of the ``accepted`` content types (a form's
    ``payload`` field, or the body itself), or a 415/400 saying why not."""
    if request.mimetype not in accepted:
        fail(415, f"the delivery's content type must be {' or '.join(accepted)}")
    if request.mimetype == FORM_TYPE:
        return parse_json(form_payload(body, fail), fail, f"the form's {FORM_FIELD} field")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        fail(400, f"the delivery is not valid JSON: {exc}")
    return parse_json(text, fail)


def form_payload(body: bytes, fail: Refusal) -> str:
    """The ``payload`` field of a form-encoded delivery, read strictly: a form GitHub did not send (no
    ``payload``, two, another field, a broken escape, bytes that are not UTF-8) is refused by name
    rather than read in part, so no reading of it can differ from what was signed."""
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError:
        fail(400, "the form is not URL-encoded: it has bytes outside ASCII that are not percent-encoded")
    if BAD_PERCENT_ESCAPE.search(text):
        fail(400, "the form is not URL-encoded: a % is not followed by two hexadecimal digits")
    if text.count("&") >= MAX_FORM_FIELDS:
        fail(400, f"the form has more than {MAX_FORM_FIELDS} fields: it must have one, {FORM_FIELD}")
    try:
        fields = parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FORM_FIELDS,
        )
    except UnicodeDecodeError:
        fail(400, "the form is not UTF-8 once percent-decoded")
    except ValueError:
        fail(400, "the form is not URL-encoded: each field must be name=value, the fields joined by &")
    values = [value for name, value in fields if name == FORM_FIELD]
    if not values:
        fail(400, f"the form has no {FORM_FIELD} field: GitHub sends the JSON in a field named {FORM_FIELD}")
    if len(values) > 1:
        fail(400, f"the form has {len(values)} {FORM_FIELD} fields: it must have exactly one")
    others = [name for name, _ in fields if name != FORM_FIELD]
    if others:
        fail(
            400,
            f"the form has a field other than {FORM_FIELD} ({shown(others[0])}): "
            f"it must have {FORM_FIELD} alone",
        )
    return values[0]


def parse_json(text: str, fail: Refusal, what: str = "the delivery") -> dict[str, Any]:
    """``text`` (``what`` the answer calls it) as a JSON object, or a 400 saying why not."""
    try:
        document = load_json(text)
    except JsonTooDeepError as exc:
        fail(400, f"{what} cannot be read: {exc}")
    except ValueError as exc:
        fail(400, f"{what} is not valid JSON: {exc}")
    if not isinstance(document, dict):
        fail(400, f"{what} must be a JSON object")
    return document
