"""Shared fixtures. Each app keeps its own in tests/fixtures/<app>.py."""

pytest_plugins = [
    "tests.fixtures.core",
    "tests.fixtures.services",
]
