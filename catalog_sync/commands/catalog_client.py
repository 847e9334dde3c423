"""A running catalog asked over HTTP whether the refs of some descriptors exist (``validate --catalog``).

It reads through the Backstage-compatible API every catalog-sync serves: ``POST
/api/catalog/entities/by-refs`` for existence, ``GET /api/catalog/entities/by-query`` (kind filter,
three fields, keyset pages) for the names to suggest. The URL comes from a developer's command line or
a CI script, so it is held to ``http``/``https``, every request has a bounded timeout, redirects are
not followed, answers are read up to a size limit, and anything that is not the catalog's JSON (an
HTML login page, a 500, a proxy's error) is a ``CatalogUnreachableError`` naming what came back. The URL
is shown without its credentials.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import requests

from catalog_sync.errors import CatalogUnreachableError
from catalog_sync.model import EntityRef

TOKEN_ENV = "CATALOG_SYNC_TOKEN"  # noqa: S105 - the name of a variable, not a token
"""A bearer token for a catalog whose reads need one (``api.read_requires_token``)."""
MAX_ANSWER_BYTES = 16 * 1024 * 1024
REFS_PER_REQUEST = 200
PAGE_SIZE = 500
MAX_PAGES = 40
"""At most this many pages of names per kind are read for suggestions (20,000 names)."""
NAME_FIELDS = "kind,metadata.namespace,metadata.name"


def check_catalog_url(url: str) -> str:
    """The base URL without a trailing ``/``; ``CatalogUnreachableError`` when it cannot be a catalog's."""
    if any(ord(c) < 0x21 or c == "\x7f" for c in url):
        raise CatalogUnreachableError("the catalog URL holds spaces or control characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or not parts.hostname:
        raise CatalogUnreachableError(
            f"the catalog URL must start with http:// or https:// and name a host, e.g. "
            f"https://catalog.example.com (got {shown_url(url)})"
        )
    if parts.query or parts.fragment:
        raise CatalogUnreachableError(
            f"the catalog URL is the catalog's address, without ? or # ({shown_url(url)})"
        )
    return url.rstrip("/")


def shown_url(url: str) -> str:
    """The URL as messages show it: credentials replaced, so a log never carries them."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return parts._replace(netloc=f"***@{host}").geturl()


class HttpCatalogRefs:
    """``CatalogRefs`` over a running catalog's API."""

    def __init__(self, base_url: str, *, timeout: float, token: str | None = None) -> None:
        self.base = check_catalog_url(base_url)
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["Accept"] = "application/json"
        self.session.headers["User-Agent"] = "catalog-sync validate"
        token = token if token is not None else os.environ.get(TOKEN_ENV)
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def close(self) -> None:
        """Close the pooled connections."""
        self.session.close()

    def existing(self, ref_keys: Sequence[str]) -> set[str]:
        """See ``CatalogRefs``: one ``by-refs`` request per 200 refs."""
        found: set[str] = set()
        keys = list(ref_keys)
        for start in range(0, len(keys), REFS_PER_REQUEST):
            chunk = keys[start : start + REFS_PER_REQUEST]
            body = self._ask(
                "POST",
                "/api/catalog/entities/by-refs",
                json_body={"entityRefs": chunk, "fields": NAME_FIELDS.split(",")},
                params={},
            )
            items = body.get("items") if isinstance(body, dict) else None
            if not isinstance(items, list) or len(items) != len(chunk):
                raise self._not_a_catalog("/api/catalog/entities/by-refs", "its answer has no items list")
            found.update(key for key, item in zip(chunk, items, strict=True) if item is not None)
        return found

    def of_kinds(self, kinds: Sequence[str]) -> list[str]:
        """See ``CatalogRefs``: keyset pages of ``by-query``, at most ``MAX_PAGES`` per call."""
        params: dict[str, Any] = {
            "filter": [f"kind={kind}" for kind in kinds],
            "fields": NAME_FIELDS,
            "limit": PAGE_SIZE,
        }
        keys: list[str] = []
        for _ in range(MAX_PAGES):
            body = self._ask("GET", "/api/catalog/entities/by-query", params=params)
            items = body.get("items") if isinstance(body, dict) else None
            if not isinstance(items, list):
                raise self._not_a_catalog("/api/catalog/entities/by-query", "its answer has no items list")
            keys.extend(key for key in map(_key_of, items) if key is not None)
            cursor = (body.get("pageInfo") or {}).get("nextCursor")
            if not cursor:
                break
            params = {"cursor": cursor, "fields": NAME_FIELDS, "limit": PAGE_SIZE}
        return keys

    def _ask(self, method: str, path: str, *, params: dict[str, Any], json_body: Any = None) -> Any:
        url = self.base + path
        try:
            with self.session.request(
                method,
                url,
                params=params,
                json=json_body,
                timeout=self.timeout,
                allow_redirects=False,
                stream=True,
            ) as response:
                status = response.status_code
                mimetype = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
                data = response.raw.read(MAX_ANSWER_BYTES + 1, decode_content=True)
        except requests.exceptions.Timeout:
            raise CatalogUnreachableError(
                f"{shown_url(self.base)} did not answer within {self.timeout:g} s (--catalog-timeout)"
            ) from None
        except requests.exceptions.RequestException as exc:
            raise CatalogUnreachableError(f"cannot reach {shown_url(self.base)}: {_reason(exc)}") from None
        if status in (401, 403):
            raise CatalogUnreachableError(
                f"{shown_url(self.base)} answered {status}: its reads need a token; set {TOKEN_ENV}"
            )
        if 300 <= status < 400:
            raise CatalogUnreachableError(
                f"{shown_url(self.base)} answered a redirect ({status}); give the catalog's own address"
            )
        if status != 200:
            raise CatalogUnreachableError(f"{shown_url(self.base)} answered {status} to {method} {path}")
        if len(data) > MAX_ANSWER_BYTES:
            raise self._not_a_catalog(path, f"its answer is larger than {MAX_ANSWER_BYTES} bytes")
        if mimetype != "application/json":
            raise self._not_a_catalog(path, f"it answered {mimetype or 'no content type'}, not JSON")
        try:
            return json.loads(data)
        except ValueError:
            raise self._not_a_catalog(path, "its answer is not valid JSON") from None
        except RecursionError:  # else a traceback, exit 1: as if the descriptors held errors
            raise self._not_a_catalog(path, "its answer is JSON nested too deeply to read") from None

    def _not_a_catalog(self, path: str, why: str) -> CatalogUnreachableError:
        return CatalogUnreachableError(
            f"{shown_url(self.base)} is not a catalog-sync catalog ({path}: {why}); give the address "
            "where the portal and /api are served"
        )


def _reason(exc: requests.exceptions.RequestException) -> str:
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "the connection was refused or the host is unknown"
    return type(exc).__name__


def _key_of(item: Any) -> str | None:
    if not isinstance(item, dict) or not isinstance(item.get("metadata"), dict):
        return None
    metadata = item["metadata"]
    kind, name = item.get("kind"), metadata.get("name")
    if not isinstance(kind, str) or not isinstance(name, str):
        return None
    namespace = metadata.get("namespace") if isinstance(metadata.get("namespace"), str) else "default"
    return EntityRef(kind.lower(), namespace, name).key
