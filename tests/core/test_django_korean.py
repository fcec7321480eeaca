"""Django's own Korean admin messages read naturally (the project's override catalogue in locale/ko)."""

import io
import json
import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, ngettext
from django.utils.translation.reloader import translation_file_changed

from tests.factories.notifications import NotificationFactory

CATALOGUE = Path(settings.BASE_DIR) / "locale/ko/LC_MESSAGES/django.po"
# A particle pair written out after a variable ("%s 를(을)", "{name}이/가"): what a person would never write.
PARTICLE_PAIR = re.compile(r"(을\(를\)|를\(을\)|이\(가\)|가\(이\)|을/를|를/을|이/가|가/이|은\(는\)|은/는|\(으\)로)")


@pytest.fixture(autouse=True, scope="module")
def compiled_catalogue():
    """What `manage.py compile_translations` does on every deployment, then a fresh translation cache."""
    out = io.StringIO()
    call_command("compile_translations", stdout=out)
    assert "compiled locale/ko/LC_MESSAGES/django.po" in out.getvalue()
    translation_file_changed(sender=None, file_path=CATALOGUE.with_suffix(".mo"))
    yield


def test_the_override_catalogue_is_first_in_line_and_complete():
    assert Path(settings.LOCALE_PATHS[0]) / "ko/LC_MESSAGES/django.po" == CATALOGUE
    catalogue = polib.pofile(str(CATALOGUE))
    assert catalogue.untranslated_entries() == [] and catalogue.fuzzy_entries() == []
    for entry in catalogue:
        text = entry.msgstr or entry.msgstr_plural[0]
        assert not PARTICLE_PAIR.search(text), text
        # Every placeholder of the English is kept.
        assert sorted(re.findall(r"%\(\w+\)[sdr]|%[sd]|\{\w*\}", entry.msgid)) == sorted(
            re.findall(r"%\(\w+\)[sdr]|%[sd]|\{\w*\}", text)
        ), entry.msgid


def test_django_admin_messages_read_naturally_in_korean():
    with translation.override("ko"):
        assert gettext("Select %s to view") % "알림" == "조회할 알림 선택"
        assert gettext("View %s") % "알림" == "알림 보기"
        assert gettext("Select all %(total_count)s %(module_name)s") % {
            "total_count": 30,
            "module_name": "알림",
        } == ("알림 30개 모두 선택")
        assert gettext("Successfully deleted %(count)d %(items)s.") % {"count": 2, "items": "참가자"} == (
            "참가자 2개를 삭제했습니다."
        )
        assert gettext("The {name} “{obj}” was changed successfully.").format(name="기수", obj="2026 봄") == (
            "기수 “2026 봄” 항목을 변경했습니다."
        )
        assert ngettext("%(count)s %(name)s was changed successfully.", "x", 3) % {"count": 3, "name": "기수"} == (
            "기수 3개를 변경했습니다."
        )
    with translation.override("en"):  # English is left alone
        assert gettext("Select %s to view") % "notification" == "Select notification to view"


def test_a_view_only_changelist_reads_naturally_in_korean(organization, viewer, admin_client_for):
    NotificationFactory.create_batch(3, organization=organization)
    client = admin_client_for(viewer)
    client.cookies["django_language"] = "ko"
    body = client.get(reverse("admin:notifications_notification_changelist")).content.decode()
    assert "<h1>조회할 알림 선택</h1>" in body
    assert "를(을)" not in body and "보기위한" not in body


def test_the_action_counter_of_the_admin_scripts_reads_naturally(viewer, admin_client_for):
    client = admin_client_for(viewer)
    client.cookies["django_language"] = "ko"
    catalogue = client.get(reverse("admin:jsi18n")).content.decode()
    assert "%(cnt)s\\uac1c \\uc911 %(sel)s\\uac1c \\uc120\\ud0dd\\ub428" in catalogue or (
        "%(cnt)s개 중 %(sel)s개 선택됨" in catalogue
    )


def test_the_time_zone_note_of_the_date_pickers_reads_as_korean(viewer, admin_client_for):
    client = admin_client_for(viewer)
    client.cookies["django_language"] = "ko"
    catalogue = client.get(reverse("admin:jsi18n")).content.decode()

    def present(text: str) -> bool:  # the catalogue may write non-ASCII as \\u escapes
        return text in catalogue or json.dumps(text)[1:-1] in catalogue

    assert present("참고: 지금 계신 곳의 시각이 서버보다 %s시간 늦습니다.")
    assert not present("Note: 서버")  # Django's own, half English
