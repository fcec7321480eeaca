"""The Korean translation is complete: every catalogue, every message."""

from pathlib import Path

import polib
import pytest
from django.utils import translation

ROOT = Path(__file__).resolve().parents[2]
# Every app of the project (a folder with an apps.py), so a new app cannot be forgotten.
APPS = sorted(path.parent.name for path in ROOT.glob("*/apps.py"))
CATALOGUES = sorted(p for app in APPS for p in (ROOT / app / "locale").glob("ko/LC_MESSAGES/django.po"))


def _speaks(app: str) -> bool:
    """Does the app have user-facing text: a gettext call or a translate tag in its code?"""
    for path in (ROOT / app).rglob("*"):
        if "migrations" in path.parts or path.suffix not in (".py", ".html", ".txt"):
            continue
        text = path.read_text(encoding="utf-8", errors="ignore")
        if "gettext" in text or "{% translate" in text or "{% blocktranslate" in text:
            return True
    return False


@pytest.mark.parametrize("app", APPS)
def test_every_app_with_user_facing_text_has_a_korean_catalogue(app):
    if not _speaks(app):
        pytest.skip(f"{app} has no user-facing text")
    assert ROOT / app / "locale/ko/LC_MESSAGES/django.po" in CATALOGUES


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: p.parts[-5])
def test_the_korean_catalogue_is_complete(path):
    catalogue = polib.pofile(str(path))
    assert not catalogue.metadata_is_fuzzy, f"{path}: header marked fuzzy"
    untranslated = [entry.msgid for entry in catalogue.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalogue.fuzzy_entries()]
    assert untranslated == [], f"{path}: untranslated {untranslated}"
    assert fuzzy == [], f"{path}: fuzzy {fuzzy}"


def test_the_admin_speaks_korean(program_manager, admin_client_for):
    client = admin_client_for(program_manager)
    client.cookies["django_language"] = "ko"
    body = client.get("/admin/").content.decode()
    assert "프로그램 관리" in body
    with translation.override("en"):
        client.cookies["django_language"] = "en"
        assert "Program administration" in client.get("/admin/").content.decode()
