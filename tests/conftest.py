"""Shared fixtures: real git repositories, a real PostgreSQL, stores on both databases.

Each group of fixtures lives in its own module under ``tests/fixtures`` and is loaded here, so a test
anywhere in the tree can ask for them by name.
"""

pytest_plugins = [
    "tests.fixtures.gitrepos",
    "tests.fixtures.postgres",
    "tests.fixtures.tools",
    "tests.fixtures.browser",
    "tests.fixtures.axe",
    "tests.fixtures.demo",
    "tests.fixtures.apps",
    "tests.fixtures.helm",
]
