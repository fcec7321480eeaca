"""Shared fixtures. Each app keeps its own in tests/fixtures/<app>.py."""

pytest_plugins = [
    "tests.fixtures.core",
    "tests.fixtures.services",
    "tests.fixtures.programs",
    "tests.fixtures.mentors",
    "tests.fixtures.assessments",
    "tests.fixtures.notifications",
    "tests.fixtures.integrations",
]
