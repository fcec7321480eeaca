"""A program manager handles data-subject requests in headless Chromium, in Korean and English.

Opens an erasure request for a participant, previews what the erasure touches, confirms
it and closes the request; then opens an access request and reads its printable export.
Against a live server connected as the application role.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.models import Membership, User
from privacy import services
from programs.models import Participant
from tests.factories.core import MembershipFactory, OrganizationFactory, UserFactory
from tests.factories.programs import CheckInFactory, EnrollmentFactory, ParticipantFactory, RunFactory
from tests.fixtures.browser import DESKTOP

pytestmark = [pytest.mark.browser, pytest.mark.postgres]
PASSWORD = "pm-pass-for-privacy-journey"
EMAIL = "pm.privacy@hanbit.test"


@pytest.fixture
def world(transactional_db):
    organization = OrganizationFactory(name="한빛창업학교", slug="hanbit-privacy-journey")
    user = UserFactory(email=EMAIL, name="이서연", language="ko")
    user.set_password(PASSWORD)
    user.save()
    MembershipFactory(organization=organization, user=user, role=Membership.Role.PROGRAM_MANAGER)
    run = RunFactory(program__organization=organization, name="2026 봄 기수")
    leaving = ParticipantFactory(
        organization=organization, name="정다은", email="daeun@founder.test", phone="010-3333-4444"
    )
    CheckInFactory(enrollment=EnrollmentFactory(run=run, participant=leaving), done="고객 인터뷰 세 건")
    asking = ParticipantFactory(organization=organization, name="한지우", email="jiwoo@founder.test")
    CheckInFactory(enrollment=EnrollmentFactory(run=run, participant=asking), done="가격 실험을 시작했습니다")
    return organization, leaving, asking


def _log_in(page, url):
    page.goto(f"{url}/admin/login/")
    page.fill("input[name=username]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{url}/admin/")


def _text(page, selector: str) -> str:
    return " ".join(page.locator(selector).inner_text().split())


def _open_request(page, url, *, kind: str, participant) -> None:
    page.goto(f"{url}{reverse('admin:privacy_datasubjectrequest_add')}")
    page.select_option("select[name=kind]", kind)
    page.select_option("select[name=participant]", str(participant.pk))
    page.fill("input[name=received_on]", "2026-03-02")
    page.click("input[name=_save]")
    page.wait_for_selector("#request-actions")


@pytest.mark.parametrize("locale", ["ko-KR", "en-US"])
def test_a_program_manager_erases_a_participant_and_reads_an_access_export(world, live_server, browser_for, locale):
    organization, leaving, asking = world
    url = live_server.url
    language = locale[:2]
    User.objects.filter(email=EMAIL).update(language=language)
    with browser_for(f"privacy-{language}") as browser:
        page = browser.page(viewport=DESKTOP, locale=locale)
        _log_in(page, url)
        assert page.locator("html").get_attribute("lang") == language

        # Erasure: open, preview (nothing changes), confirm.
        _open_request(page, url, kind="erasure", participant=leaving)
        assert "2026-03-12" in _text(page, "#request-actions")  # ten days under PIPA
        browser.shot(page, "01-erasure-request")
        page.click("#erase-preview")
        page.wait_for_selector("#erase-preview-page")
        browser.shot(page, "02-erasure-preview")
        assert "정다은" in _text(page, "#erase-preview-page")
        assert _text(page, "#erase-parts tbody").count("1") >= 2  # the participant row, one enrollment, one check-in
        if language == "en":
            assert "cannot be undone" in _text(page, "#erase-preview-page")
            assert "Check-ins 1" in _text(page, "#erase-parts")
        assert Participant.objects.get(pk=leaving.pk).name == "정다은"
        page.click("#confirm-erasure")
        page.wait_for_selector("#close-request")
        assert Participant.objects.get(pk=leaving.pk).name == services.ERASED
        page.click("#close-request")
        page.wait_for_load_state()
        browser.shot(page, "03-erasure-closed")
        page.wait_for_selector("ul.messagelist")
        assert "정다은" not in page.content()

        # Access: open, read the printable export.
        _open_request(page, url, kind="access", participant=asking)
        page.click("#open-export")
        page.wait_for_selector("#personal-data-export")
        browser.shot(page, "04-access-export")
        assert page.locator("html").get_attribute("lang") == language
        assert "한지우" in _text(page, "section[data-part='participant']")
        assert "가격 실험을 시작했습니다" in _text(page, "section[data-part='check_ins']")
        assert "정다은" not in page.content()
        if language == "en":
            assert "Personal data held by 한빛창업학교" in _text(page, "h1")
            assert "Check-ins" in _text(page, "section[data-part='check_ins'] h2")
        with page.expect_download() as download:
            page.click("#export-json")
        assert download.value.suggested_filename.startswith("personal-data-")
