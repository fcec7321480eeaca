"""Shared fixtures. Each app keeps its own in tests/fixtures/<app>.py."""

from pathlib import Path

import polib
import pytest

pytest_plugins = [
    "tests.fixtures.database",
    "tests.fixtures.browser",
    "tests.fixtures.core",
    "tests.fixtures.services",
    "tests.fixtures.programs",
    "tests.fixtures.mentors",
    "tests.fixtures.assessments",
    "tests.fixtures.notifications",
    "tests.fixtures.integrations",
    "tests.fixtures.sso",
]


def pytest_sessionstart(session):
    """Compile stale translation catalogues, so a bare `pytest` sees current Korean text."""
    root = Path(__file__).resolve().parents[1]
    for po_path in root.glob("*/locale/*/LC_MESSAGES/django.po"):
        mo_path = po_path.with_suffix(".mo")
        if not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime:
            polib.pofile(str(po_path)).save_as_mofile(str(mo_path))


@pytest.fixture(autouse=True)
def _restore_language():
    """A request through LocaleMiddleware leaves its language active in this thread; the next test starts clean."""
    yield
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
