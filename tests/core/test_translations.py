"""The Korean translation is complete: every catalogue, every message."""

from pathlib import Path

import polib
import pytest
from django.utils import translation

ROOT = Path(__file__).resolve().parents[2]
APPS = ["core", "programs", "mentors", "assessments", "notifications", "integrations"]
CATALOGUES = sorted(p for app in APPS for p in (ROOT / app / "locale").glob("ko/LC_MESSAGES/django.po"))


def test_every_app_with_user_facing_text_has_a_korean_catalogue():
    assert ROOT / "core/locale/ko/LC_MESSAGES/django.po" in CATALOGUES


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
