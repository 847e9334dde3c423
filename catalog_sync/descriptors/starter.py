"""The descriptor ``catalog-sync init`` writes: a Product a developer can fill in without reading docs first.

It validates as written (no errors, no warnings), so the first ``catalog-sync validate`` is green and
every later message is about the developer's own edits.
"""

from __future__ import annotations

STARTER_DESCRIPTOR = """\
# catalog-info.yaml: how this repository's product appears in the catalog.
# Check it with: catalog-sync validate catalog-info.yaml
# Editors with the YAML language server can complete and check it when the first line reads
#   # yaml-language-server: $schema=<where you publish descriptors/schema/catalog-info.schema.json>
apiVersion: catalog/v1
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
"""A commented starter ``catalog-info.yaml`` for a Product, with a commented-out Team."""
