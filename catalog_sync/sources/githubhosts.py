"""Which host serves a GitHub API's git and web pages, and which API a web host's URLs belong to.

GitHub.com serves its API from ``api.github.com`` and its git and pages from ``github.com``; GitHub
Enterprise Cloud with data residency does the same under its own subdomain of ``ghe.com``
(``api.acme.ghe.com`` and ``acme.ghe.com``); GitHub Enterprise Server serves all of them from one host
(the API below ``/api/v3``). A source keys its repositories by its API's host, and a push delivery
names the web host (``https://acme.ghe.com/acme/pay``): both directions are answered here, once.
"""

from __future__ import annotations

from catalog_sync.config.hosts import DATA_RESIDENCY, PUBLIC_API, github_api_netloc
from catalog_sync.sources.hostanswer import origin_of


def git_origin(api_url: str) -> str:
    """Where the repositories' git is served: github.com for api.github.com, ``<name>.ghe.com`` for
    ``api.<name>.ghe.com``, else the API's origin (GitHub Enterprise Server serves both from one host),
    written as a URL's origin: its listed pages and clone URLs are compared with it, and git's header
    is scoped to it."""
    scheme, host, port = origin_of(api_url)
    if host == PUBLIC_API:
        return "https://github.com"
    residency = host.startswith("api.") and host.endswith(DATA_RESIDENCY) and host.count(".") == 3
    if residency and scheme == "https" and port == 443:
        return f"https://{host.removeprefix('api.')}"
    default = {"https": 443, "http": 80}.get(scheme)
    named = f"[{host}]" if ":" in host else host  # an IPv6 address is written in brackets in a URL
    return f"{scheme}://{named}" + ("" if port == default else f":{port}")


__all__ = ["git_origin", "github_api_netloc"]
