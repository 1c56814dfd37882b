"""Shared pytest fixtures: each area's fixtures live in ``tests/fixtures/`` and are loaded here."""

pytest_plugins = [
    "tests.fixtures.redis",
    "tests.fixtures.sandbox",
    "tests.fixtures.stack",
]
