"""Lets ``python -m catalog_sync`` behave exactly like the ``catalog-sync`` console script."""

from catalog_sync.cli import main

raise SystemExit(main())
