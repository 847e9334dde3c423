"""The descriptor ``catalog-sync init`` writes: a Product a developer can fill in without reading docs first.

It validates as written (no errors, no warnings), so the first ``catalog-sync validate`` is green and
every later message is about the developer's own edits. Given the URL of the JSON Schema (a running
catalog serves it at ``SCHEMA_PATH``), its first line is the YAML language server's modeline, so the
editor completes and checks the file against the rules the catalog applies.
"""

from __future__ import annotations

from urllib.parse import urlsplit

SCHEMA_PATH = "/schemas/catalog-info.schema.json"
"""Where a running catalog serves the JSON Schema of any descriptor."""
MODELINE = "# yaml-language-server: $schema={url}\n"
NO_MODELINE = """\
# Editors with the YAML language server complete and check this file when its first line names the
# JSON Schema a running catalog serves: catalog-sync init --catalog https://CATALOG writes that line.
"""


def schema_url_problem(url: str) -> str | None:
    """Why ``url`` cannot stand in a modeline, or None: an http(s) URL on one line, without spaces
    (the language server reads up to the end of the line, and a newline would add YAML to the file)."""
    if any(ord(c) < 0x21 or c == "\x7f" for c in url):
        return "the schema URL holds spaces or control characters"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"the schema URL must start with http:// or https:// and name a host (got {url})"
    if "@" in parts.netloc:
        return "the schema URL carries credentials; the file is committed, so they would be published"
    return None


def starter_descriptor(schema_url: str | None = None) -> str:
    """The starter file, its first line the modeline for ``schema_url`` when one is given (check it
    with ``schema_url_problem`` first)."""
    head = MODELINE.format(url=schema_url) if schema_url else ""
    return head + _TEMPLATE.replace("{editor}", "" if schema_url else NO_MODELINE)


_TEMPLATE = """\
# catalog-info.yaml: how this repository's product appears in the catalog.
# Check it with: catalog-sync validate catalog-info.yaml
{editor}apiVersion: catalog/v1
kind: Product
metadata:
  name: my-product                  # 1-63 letters, digits, '-', '_' or '.'; unique among products
  title: My product
  description: What this product does for whom, in one sentence.
  tags: [example]                   # lower-case words joined by '-'
  links:
    - {url: https://example.com/dashboards/my-product, title: Dashboard, type: dashboard}
spec:
  type: service                     # service, website, library, data-product, platform, automation, ...
  lifecycle: experimental           # experimental, production, deprecated or retired
  owner: team:my-team               # the one team responsible end to end (a missing owner is a gap)
  tier: 3                           # business criticality, 1 (most critical) to 4
  capabilities:                     # the business capabilities it serves (none is a gap)
    - capability:my-capability
  dependsOn: []                     # products or components it needs, e.g. product:payments
  outcomes:
    - The business outcome this product is aligned with
  kpis:                             # speed-to-market, customer-satisfaction, business-alignment,
    - name: lead time for changes   # team-performance or other
      category: speed-to-market
      target: 2
      unit: days
  runbooks:
    - title: Restart the service
      url: https://example.com/runbooks/my-product/restart
      automated: false              # true when it runs without a person (a productized runbook)
  support:
    channel: "#my-team"
    email: my-team@example.com
  techDebt: []                      # {title, severity: low|medium|high|critical, url}
# A file may hold several descriptors separated by '---'. The owning team, for example:
# ---
# apiVersion: catalog/v1
# kind: Team
# metadata:
#   name: my-team
# spec:
#   displayName: My team
#   members:
#     - {name: jdoe, role: product-owner}
#     - {name: asmith, role: developer}
#     - {name: bkhan, role: operations}
#   contact:
#     email: my-team@example.com
#     channel: "#my-team"
"""
"""A commented starter ``catalog-info.yaml`` for a Product, with a commented-out Team; ``{editor}``
stands where the words about the editor's modeline go."""

STARTER_DESCRIPTOR = starter_descriptor()
"""The starter as written without a schema URL."""
