"""In headless Chromium with a Korean browser: the saved language, Django's Korean, anonymous ratings.

A program manager who saved English logs in and reads the admin in English although the
browser asks for Korean; switching to 한국어 with the selector saves it, and the view-only
outbox then reads "조회할 알림 선택" with a natural action counter. A mentor who saved English
opens a one-to-one session (no rating beside the mentee's name) and a session three
mentees rated (its average).
"""

from __future__ import annotations

import datetime

import pytest

from core.models import Membership, User
from mentors import services as mentor_services
from programs import services as program_services
from tests.factories.core import MembershipFactory, OrganizationFactory, UserFactory
from tests.factories.mentors import MentorFactory
from tests.factories.notifications import NotificationFactory
from tests.factories.programs import EnrollmentFactory, ParticipantFactory, ProgramFactory, RunFactory
from tests.fixtures.browser import DESKTOP, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.postgres]
PASSWORD = "language-journey-pass"


@pytest.fixture
def world(transactional_db):
    organization = OrganizationFactory(name="한빛창업학교", slug="hanbit-language-journey")
    pm = UserFactory(email="pm.english@hanbit.test", name="Jamie Park", language="en")
    pm.set_password(PASSWORD)
    pm.save()
    MembershipFactory(organization=organization, user=pm, role=Membership.Role.PROGRAM_MANAGER)
    NotificationFactory.create_batch(3, organization=organization)

    mentor_user = UserFactory(email="mentor.english@hanbit.test", name="Sam Lee", language="en")
    mentor_user.set_password(PASSWORD)
    mentor_user.save()
    MembershipFactory(organization=organization, user=mentor_user, role=Membership.Role.MENTOR)
    mentor = MentorFactory(organization=organization, user=mentor_user, capacity=10)
    run = RunFactory(program=ProgramFactory(organization=organization), name="2026 봄 기수")
    mentees = []
    for n, name in enumerate(["김민지", "이준호", "박하늘", "최유나"]):
        enrollment = EnrollmentFactory(
            run=run,
            participant=ParticipantFactory(organization=organization, name=name, email=f"m{n}@startup.test"),
        )
        program_services.mentor_assign(organization=organization, run=run, mentor=mentor, enrollment=enrollment)
        mentees.append(enrollment)

    def rated(held_on, present, scores, topics):
        session = mentor_services.session_log(
            organization=organization,
            mentor=mentor,
            held_on=held_on,
            attendees=present,
            topics=topics,
            request_ratings=False,
        )
        for enrollment, score in zip(present, scores, strict=True):
            mentor_services.session_rate(
                organization=organization, session=session, participant=enrollment.participant, score=score
            )
        return session

    one_to_one = rated(datetime.date(2026, 4, 7), mentees[:1], [1], "가격 인터뷰")
    group = rated(datetime.date(2026, 4, 8), mentees[1:], [5, 4, 3], "투자 유치 준비")
    return {"organization": organization, "pm": pm, "one_to_one": one_to_one, "group": group}


def test_saved_language_natural_korean_and_anonymous_ratings(world, live_server, browser_for):
    url = live_server.url
    with browser_for("language-and-ratings") as browser:
        page = browser.page(viewport=DESKTOP, locale="ko-KR")
        page.goto(f"{url}/admin/login/")
        assert page.get_attribute("html", "lang") == "ko"  # anonymous: the browser's language
        page.fill("input[name=username]", "pm.english@hanbit.test")
        page.fill("input[name=password]", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url(f"{url}/admin/")
        assert "Program administration" in page.inner_text("body")  # the saved English wins
        browser.shot(page, "01-admin-in-saved-english")

        page.goto(f"{url}/admin/notifications/notification/")
        assert page.inner_text("h1") == "Select notification to view"
        with page.expect_navigation():
            page.select_option("select[name=language]", "ko")  # the selector submits itself (page.js)
        assert page.inner_text("h1") == "조회할 알림 선택"
        page.locator("input.action-select").first.check()
        assert page.inner_text(".action-counter") == "3개 중 1개 선택됨"
        body = page.inner_text("body")
        assert "를(을)" not in body and "보기위한" not in body
        browser.shot(page, "02-outbox-in-natural-korean")
        assert User.objects.get(pk=world["pm"].pk).language == "ko"  # the choice was saved

        mentor_page = browser.page(viewport=PHONE, locale="ko-KR")
        mentor_page.goto(f"{url}/mentor/login/")
        mentor_page.fill("input[name=username]", "mentor.english@hanbit.test")
        mentor_page.fill("input[name=password]", PASSWORD)
        mentor_page.click("button[type=submit]")
        mentor_page.wait_for_url(f"{url}/mentor/")
        mentor_page.goto(f"{url}/mentor/sessions/{world['one_to_one'].pk}/")
        card = mentor_page.inner_text(".card")
        assert "Mentees present" in card and "김민지" in card  # the portal in the saved English
        assert "★" not in card
        assert "The rating appears once 3 mentees have rated this session" in card
        browser.shot(mentor_page, "03-one-to-one-session-without-rating")

        mentor_page.goto(f"{url}/mentor/sessions/{world['group'].pk}/")
        assert "★ 4.0" in mentor_page.inner_text(".card")
        browser.shot(mentor_page, "04-group-session-with-average")

        mentor_page.goto(f"{url}/mentor/sessions/")
        listing = mentor_page.inner_text("main")
        assert "1 / 5" not in listing and "4.0 / 5" in listing
        browser.shot(mentor_page, "05-my-ratings")
