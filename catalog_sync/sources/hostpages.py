"""Walking a hosting API's paginated list: ``Link: rel="next"`` followed page by page, or the pages the
previous listing went through asked ahead at once.

The pages stored from the previous listing (with their ETags) are asked up to ``parallel`` at a time,
each still conditional: a pass where nothing moved waits for one round trip per ``parallel`` pages,
not per page. Each answer is checked against that chain: where a page's ``next`` link is not the stored
one (the list grew or shrank), the answers asked ahead are dropped and the walk follows the host's
link again, page by page. A link that loops back, or a list longer than ``max_pages``, fails the
listing (``HostApiError``) instead of holding the pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

from catalog_sync.errors import HostApiError
from catalog_sync.sources.hostanswer import Page


def walk_pages(
    first: str,
    get: Callable[[str], Page],
    chain: list[str],
    *,
    parallel: int,
    max_pages: int,
    shown: Callable[[str], str],
) -> Iterator[Page]:
    """Every page from ``first`` on, each asked with ``get``; ``chain`` is the previous listing's
    pages, in order, asked ahead; ``shown`` names a URL in an error."""
    ahead = chain[:max_pages]
    seen: set[str] = set()

    def following(page: Page) -> Page:
        """The page ``page`` links to, unless the link loops back or leads past ``max_pages``."""
        if page.next_url is None or page.next_url in seen:
            raise HostApiError(f"{shown(page.url)}: the host's next page link loops; listing stopped")
        if len(seen) >= max_pages:
            raise HostApiError(
                f"{shown(first)}: the host links more than {max_pages} pages; the listing was stopped"
            )
        return get(page.next_url)

    page: Page | None = None
    if len(ahead) > 1 and parallel > 1:
        with ThreadPoolExecutor(min(parallel, len(ahead))) as threads:
            asked = [threads.submit(get, url) for url in ahead]
            try:
                for index, future in enumerate(asked):
                    page = future.result()
                    seen.add(page.url)
                    yield page
                    if page.next_url != (ahead[index + 1] if index + 1 < len(ahead) else None):
                        break
            finally:
                for future in asked:
                    future.cancel()
        if page is None or page.next_url is None:
            return
        page = following(page)
    else:
        page = get(first)
    yield page
    seen.add(page.url)
    while page.next_url is not None:
        page = following(page)
        seen.add(page.url)
        yield page


__all__ = ["walk_pages"]
