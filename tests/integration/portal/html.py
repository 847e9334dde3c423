"""Reading a rendered page the way a person sees it: its text, its links, its table rows, its scripts.

``scripts`` counts inline scripts (the portal has none: anything there came from a descriptor);
``script_sources`` lists the files loaded with ``src``.

Built on the standard library's HTML parser, so a test asserts on what the browser would show (text
with markup removed, where each link goes) rather than on the exact spelling of the markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser

_BLOCKS = {"p", "div", "li", "tr", "td", "th", "dt", "dd", "h1", "h2", "h3", "section", "table", "br"}


@dataclass
class Link:
    """One ``<a>``: where it goes and the text it shows."""

    href: str
    text: str
    title: str | None = None


class Page(HTMLParser):
    """A parsed page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.links: list[Link] = []
        self.rows: list[list[str]] = []
        self.row_refs: list[str | None] = []
        """The ``data-ref`` of each row of ``rows`` (the entity a row is about), None when it has none."""
        self.scripts = 0
        self.script_sources: list[str] = []
        self.title = ""
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self._link: Link | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._in_title = False
        self._row_ref: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.elements.append((tag, attributes))
        if tag == "script":
            if attributes.get("src"):
                self.script_sources.append(attributes["src"] or "")
            else:
                self.scripts += 1
        if tag == "title":
            self._in_title = True
        if tag == "a":
            self._link = Link(attributes.get("href") or "", "", attributes.get("title"))
        if tag == "tr":
            self._row = []
            self._row_ref = attributes.get("data-ref")
        if tag in ("td", "th") and self._row is not None:
            self._cell = []
        if tag in _BLOCKS:
            self.texts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag == "a" and self._link is not None:
            self._link.text = " ".join(self._link.text.split())
            self.links.append(self._link)
            self._link = None
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        if tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self.row_refs.append(self._row_ref)
            self._row = None
        if tag in _BLOCKS:
            self.texts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        self.texts.append(data)
        if self._link is not None:
            self._link.text += data
        if self._cell is not None:
            self._cell.append(data)

    @property
    def text(self) -> str:
        """The visible text, whitespace collapsed to single spaces."""
        return " ".join("".join(self.texts).split())

    def hrefs(self, text: str) -> list[str]:
        """Where the links showing exactly ``text`` go."""
        return [link.href for link in self.links if link.text == text]

    def href(self, text: str) -> str:
        """Where the one link showing ``text`` goes (the first, if several)."""
        found = self.hrefs(text)
        assert found, f"no link {text!r} on the page; links: {[link.text for link in self.links]}"
        return found[0]

    def ref_href(self, ref: str) -> str:
        """Where the link to the entity ``ref`` goes: such links show a title and carry the ref in
        their ``title`` attribute."""
        found = [link.href for link in self.links if link.title == ref]
        assert found, f"no link to {ref!r}; refs linked: {[link.title for link in self.links if link.title]}"
        return found[0]

    def ref_text(self, ref: str) -> str:
        """What the link to ``ref`` shows."""
        found = [link.text for link in self.links if link.title == ref]
        assert found, f"no link to {ref!r}"
        return found[0]

    def unlinked_refs(self) -> list[str]:
        """Refs shown as text without a link (those not in the catalog)."""
        return [
            str(attrs.get("title"))
            for tag, attrs in self.elements
            if tag == "span" and "ref-link" in str(attrs.get("class") or "").split()
        ]

    def rows_by_ref(self) -> dict[str, list[str]]:
        """The rows that carry a ``data-ref``, by that ref (the first row of each ref)."""
        found: dict[str, list[str]] = {}
        for ref, row in zip(self.row_refs, self.rows, strict=True):
            if ref and ref not in found:
                found[ref] = row
        return found

    def row(self, first_cell_contains: str) -> list[str]:
        """The first table row whose first cell contains the text."""
        for row in self.rows:
            if row and first_cell_contains in row[0]:
                return row
        raise AssertionError(f"no row starting with {first_cell_contains!r}")


def parse(body: bytes | str) -> Page:
    """Parse a response body."""
    page = Page()
    page.feed(body.decode("utf-8") if isinstance(body, bytes) else body)
    page.close()
    return page
