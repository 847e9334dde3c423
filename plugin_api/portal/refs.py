"""Entity refs as people read them: the entity's title (its ref on hover), a link only when the entity
exists, and the team's page for a Team or Group.

A page names many refs (owners, products per capability, relations, members) and each needs the same
two answers: does the entity exist, and what is it called. Asking the database once per ref would
cost a query per line, so a view hands every ref it will show to ``prime_refs`` first and they are
looked up together, in one read of the search index (kind, namespace, name, title; no relations, no
body); a ref the view did not announce is looked up on its own when the template asks. The answers
live on ``flask.g`` for the one request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask import g, url_for

from catalog_sync.errors import RefError
from catalog_sync.model import EntityRef
from catalog_sync.store.filters import Alternative, Condition, EntityFilter
from plugin_api.state import connection, state

TEAM_KINDS = ("team", "group")
_FIELDS = ("kind", "metadata.name", "metadata.namespace", "metadata.title")
_CACHE = "portal_ref_titles"
MAX_REFS_PER_READ = 500
"""Refs looked up in one statement at most (a bigger page asks in several)."""


@dataclass(frozen=True)
class RefInfo:
    """What a page shows for one ref: its text, whether it exists, and where a link to it goes."""

    ref: str
    title: str
    known: bool
    url: str | None


def parse_ref(text: str) -> EntityRef | None:
    """An entity ref as stored (``kind:namespace/name``), None when it is not one."""
    try:
        return EntityRef.parse(text)
    except RefError:
        return None


def prime_refs(refs: Iterable[str | None]) -> None:
    """Look up every ref of ``refs`` not yet known to this request, in as few reads as possible."""
    cache = _cache()
    wanted: dict[str, EntityRef] = {}
    for text in refs:
        if not text:
            continue
        parsed = parse_ref(text)
        if parsed is not None and parsed.key not in cache:
            wanted[parsed.key] = parsed
    keys = sorted(wanted)
    for start in range(0, len(keys), MAX_REFS_PER_READ):
        chunk = [wanted[key] for key in keys[start : start + MAX_REFS_PER_READ]]
        found = _read_titles(chunk)
        for ref in chunk:
            cache[ref.key] = found.get(ref.key)


def ref_info(ref: str | None) -> RefInfo:
    """How ``ref`` is shown: its title (or name) when it exists, and its page."""
    text = ref or ""
    parsed = parse_ref(text) if text else None
    if parsed is None:
        return RefInfo(text, text, False, None)
    cache = _cache()
    if parsed.key not in cache:
        prime_refs([text])
    title = cache.get(parsed.key)
    known = parsed.key in cache and title is not None
    return RefInfo(text, title or parsed.name, known, page_of(parsed) if known else None)


def title_of(ref: str | None) -> str:
    """The title of ``ref``'s entity, its name when it has none or is not in the catalog."""
    return ref_info(ref).title


def existing_refs(refs: Iterable[str]) -> set[str]:
    """Which of these refs name an entity of the catalog, as lower-case keys."""
    listed = list(refs)
    prime_refs(listed)
    cache = _cache()
    return {parsed.key for text in listed if (parsed := parse_ref(text)) and cache.get(parsed.key)}


def page_of(ref: EntityRef) -> str:
    """A Team's or Group's page on the portal, else the entity's page."""
    if ref.kind in TEAM_KINDS:
        namespace = ref.namespace if ref.namespace.lower() != "default" else None
        return url_for("portal.team", name=ref.name, namespace=namespace)
    return url_for("portal.entity", kind=ref.kind, namespace=ref.namespace, name=ref.name)


def _cache() -> dict[str, str | None]:
    cache: dict[str, str | None] | None = g.get(_CACHE)
    if cache is None:
        cache = {}
        setattr(g, _CACHE, cache)
    return cache


def _read_titles(refs: list[EntityRef]) -> dict[str, str]:
    """Title (or name) of each of ``refs`` that exists, by key."""
    names: dict[tuple[str, str], set[str]] = {}
    for ref in refs:
        names.setdefault((ref.kind.lower(), ref.namespace.lower()), set()).add(ref.name.lower())
    alternatives = tuple(
        Alternative(
            (
                Condition("kind", (kind,)),
                Condition("metadata.namespace", (namespace,)),
                Condition("metadata.name", tuple(sorted(found))),
            )
        )
        for (kind, namespace), found in sorted(names.items())
    )
    items = state().catalog.list_entities(
        EntityFilter(alternatives), _FIELDS, None, 0, connection=connection()
    )
    titles: dict[str, str] = {}
    for item in items:
        meta = item.get("metadata") or {}
        key = EntityRef(str(item["kind"]), str(meta.get("namespace") or "default"), str(meta["name"])).key
        title = meta.get("title")
        titles[key] = title if isinstance(title, str) and title.strip() else str(meta["name"])
    return titles
