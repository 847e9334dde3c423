"""What every portal page shares: rendering, links between pages, query parameters and paging.

Every value shown comes from descriptors that anyone with a repository can write, so it is untrusted:
templates are autoescaped, and the one place where autoescaping is not enough, a URL in an ``href``
(``javascript:...`` escapes to itself), goes through ``safe_href``, which lets only web and mail
addresses become links.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

from flask import render_template, request, url_for

from catalog_sync import __version__
from catalog_sync.errors import QueryError, RefError
from catalog_sync.model import KINDS, EntityRef, canonical_kind
from catalog_sync.store.filters import Alternative, Condition, EntityFilter
from plugin_api.paging import page_size
from plugin_api.portal.blueprint import blp
from plugin_api.state import connection, state

PAGE_SIZE = 50
"""Rows per page when the URL does not ask (``limit``); never more than ``api.max_page_size``."""
TEAM_KINDS = ("team", "group")
SAFE_SCHEMES = ("http", "https", "mailto")
NAVIGATION = (
    ("portal.overview", "Overview"),
    ("portal.catalog", "Catalog"),
    ("portal.scorecards", "Scorecards"),
    ("portal.initiatives", "Initiatives"),
    ("portal.gaps", "Ownership gaps"),
    ("portal.repositories", "Repositories"),
)
SECTIONS = {
    "portal.entity": "portal.catalog",
    "portal.team": "portal.catalog",
    "portal.scorecard": "portal.scorecards",
    "portal.initiative": "portal.initiatives",
    "portal.repository": "portal.repositories",
}
"""The navigation entry a page belongs to, for pages that are not themselves in the navigation."""


@dataclass(frozen=True)
class Pager:
    """The links around one page of a list, and what the page holds."""

    shown: int
    total: int
    next_url: str | None = None
    previous_url: str | None = None
    first_url: str | None = None


def render(template: str, **context: Any) -> str:
    """Render one of the portal's templates (``portal/<template>``)."""
    return render_template(f"portal/{template}", **context)


def existing_refs(refs: Sequence[str]) -> set[str]:
    """Which of these entity refs name an entity of the catalog, as lower-case keys.

    A page that only marks owners missing from the catalog must not read the owners themselves: a
    team's entity carries a relation to everything it owns, hundreds of rows to read and decode for
    one yes or no. The refs are looked up by kind, namespace and name in the search index instead,
    one statement for all of them, reading no relations.
    """
    names: dict[tuple[str, str], list[str]] = {}
    for text in refs:
        ref = parse_ref(text)
        if ref is not None:
            names.setdefault((ref.kind.lower(), ref.namespace.lower()), []).append(ref.name.lower())
    if not names:
        return set()
    alternatives = tuple(
        Alternative(
            (
                Condition("kind", (kind,)),
                Condition("metadata.namespace", (namespace,)),
                Condition("metadata.name", tuple(sorted(set(found)))),
            )
        )
        for (kind, namespace), found in sorted(names.items())
    )
    items = state().catalog.list_entities(
        EntityFilter(alternatives), _REF_FIELDS, None, 0, connection=connection()
    )
    return {
        EntityRef(str(item["kind"]), str(meta.get("namespace") or "default"), str(meta["name"])).key
        for item in items
        for meta in (item["metadata"],)
    }


_REF_FIELDS = ("kind", "metadata.name", "metadata.namespace")


def limit_arg() -> int:
    """The page size asked for with ``limit`` (a whole number), within ``api.max_page_size``."""
    raw = request.args.get("limit", "").strip()
    if not raw:
        return page_size(PAGE_SIZE, state().settings.api)
    if not raw.isdigit() or len(raw) > 6 or int(raw) < 1:
        raise QueryError("limit", f"{raw!r} is not a page size (a whole number from 1)")
    return page_size(int(raw), state().settings.api)


def text_arg(name: str) -> str | None:
    """A query parameter, trimmed; None when absent or blank."""
    value = request.args.get(name, "").strip()
    return value or None


def page_url(endpoint: str, cursor: str | None, **values: Any) -> str:
    """The current page's URL with another cursor (None: the first page), every other parameter kept."""
    params: dict[str, Any] = {
        key: request.args.getlist(key) for key in request.args if key not in ("cursor", *values)
    }
    params.update({key: value for key, value in values.items() if value is not None})
    if cursor:
        params["cursor"] = cursor
    return url_for(endpoint, **params)


def make_pager(
    endpoint: str,
    *,
    shown: int,
    total: int,
    next_cursor: str | None,
    previous_cursor: str | None = None,
    **values: Any,
) -> Pager:
    """The pager of a cursor-paged list; "first page" is offered whenever this is not the first page."""
    paged = bool(request.args.get("cursor"))
    return Pager(
        shown=shown,
        total=total,
        next_url=page_url(endpoint, next_cursor, **values) if next_cursor else None,
        previous_url=page_url(endpoint, previous_cursor, **values) if previous_cursor else None,
        first_url=page_url(endpoint, None, **values) if paged else None,
    )


def parse_ref(text: str) -> EntityRef | None:
    """An entity ref as stored (``kind:namespace/name``), None when it is not one."""
    try:
        return EntityRef.parse(text)
    except RefError:
        return None


def entity_url(ref: str | None) -> str | None:
    """The portal page of an entity ref, None for text that is not a ref."""
    parsed = parse_ref(ref) if ref else None
    if parsed is None:
        return None
    return url_for("portal.entity", kind=parsed.kind, namespace=parsed.namespace, name=parsed.name)


def team_url(ref: str) -> str | None:
    """The team page of a Team or Group ref (None for other kinds)."""
    parsed = parse_ref(ref)
    if parsed is None or parsed.kind not in TEAM_KINDS:
        return None
    namespace = parsed.namespace if parsed.namespace.lower() != "default" else None
    return url_for("portal.team", name=parsed.name, namespace=namespace)


def owner_url(ref: str | None) -> str | None:
    """Where an owner's link goes: a team's page for a Team or Group, else the entity's page."""
    if not ref:
        return None
    return team_url(ref) or entity_url(ref)


def safe_href(url: Any) -> str | None:
    """``url`` when it is safe to put in an ``href`` (http, https, mailto), else None."""
    if not isinstance(url, str) or not url.strip():
        return None
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return None
    return url.strip() if scheme in SAFE_SCHEMES else None


def when(value: Any) -> str:
    """A timestamp as people read it (``2024-03-01 12:00 UTC``); ``—`` for none."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if isinstance(value, datetime):
        moment = value.astimezone(UTC) if value.tzinfo is not None else value
        return moment.strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def short_commit(sha: str | None) -> str:
    """The first 10 characters of a commit, as git shows them."""
    return sha[:10] if sha else "—"


def location(path: str | None, line: int | None = None, column: int | None = None) -> str:
    """``path:line:column`` as compilers and ``catalog-sync validate`` print it."""
    text = path or "(no file)"
    if line:
        text += f":{line}"
        if column:
            text += f":{column}"
    return text


def score(value: Any) -> str:
    """A score with one decimal; ``—`` when there is none."""
    if value is None:
        return "—"
    return f"{float(value):.1f}"


def kind_label(kind: str) -> str:
    """A kind spelled as in the docs (``API``, ``Product``)."""
    return canonical_kind(kind)


def known_kinds() -> list[str]:
    """Every kind, as written in docs, for messages and pickers."""
    return [info.name for info in KINDS.values()]


def level_class(level: str | None, levels: list[str] | tuple[str, ...] = ()) -> str:
    """A CSS class for a level, by its rank in the scorecard (``lvl-none``, ``lvl-0``...)."""
    if not level or level == "none":
        return "lvl-none"
    for index, name in enumerate(levels):
        if name == level:
            return f"lvl-{min(index, 3)}"
    return {"bronze": "lvl-0", "silver": "lvl-1", "gold": "lvl-2", "platinum": "lvl-3"}.get(level, "lvl-1")


def humanize(text: str) -> str:
    """``team_missing_roles`` -> ``team missing roles``: names of gap types and levels in prose."""
    return text.replace("_", " ").replace("-", " ")


def level_parts(levels: Mapping[str, int], order: list[str] | tuple[str, ...]) -> list[dict[str, Any]]:
    """Entities per level (``none`` first, then the scorecard's levels) with their share in percent."""
    names = ["none", *[name for name in order if name != "none"]]
    names += [name for name in levels if name not in names]
    total = sum(levels.values())
    return [
        {
            "level": name,
            "count": int(levels.get(name, 0)),
            "percent": round(100 * levels.get(name, 0) / total, 1) if total else 0.0,
            "css": level_class(name, list(order)),
        }
        for name in names
    ]


def columns(rows: Any) -> list[str]:
    """The keys of a list of mappings, in order of first appearance: the columns of its table."""
    found: list[str] = []
    for row in rows if isinstance(rows, list) else []:
        for key in row if isinstance(row, Mapping) else ():
            if key not in found:
                found.append(key)
    return found


@blp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "entity_url": entity_url,
        "owner_url": owner_url,
        "team_url": team_url,
        "safe_href": safe_href,
        "when": when,
        "short_commit": short_commit,
        "location": location,
        "score": score,
        "kind_label": kind_label,
        "level_class": level_class,
        "humanize": humanize,
        "columns": columns,
        "navigation": NAVIGATION,
        "section": SECTIONS.get(request.endpoint or "", request.endpoint),
        "version": __version__,
    }
