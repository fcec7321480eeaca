"""Office hours in headless Chromium against a live server (application role).

A mentor publishes weekly office hours in the portal (desktop); their mentee opens the
home link on a phone, follows "Book office hours" and books a time; both get a calendar
invitation through the outbox; after the time, the mentor turns the booking into a
mentoring session with notes. Once with an English mentor and a Korean participant, once
the other way round.

A program manager then finds the bookings of a run and of a mentor in the admin and
cancels one; both people get the cancellation. Every page is checked in the person's
language, with the words of the catalogues.
"""

from __future__ import annotations

import datetime
import re
import uuid

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation

from core.models import Membership
from mentors.models import Mentor, MentoringSession
from notifications import services as notification_services
from notifications.models import Kind, Notification
from officehours import services as officehours_services
from officehours.models import OfficeHourBooking
from programs import links
from programs import services as program_services
from tests.factories.core import MembershipFactory, OrganizationFactory, UserFactory
from tests.factories.mentors import MentorFactory
from tests.factories.notifications import NotificationSettingsFactory
from tests.factories.programs import EnrollmentFactory, ParticipantFactory, ProgramFactory, RunFactory
from tests.fixtures.browser import DESKTOP, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.postgres]
PASSWORD = "office-hours-journey-pass"


def say(language: str, msgid: str, **values) -> str:
    with translation.override(language):
        text = translation.gettext(msgid)
    return text % values if values else text


def fixed_words(language: str, msgid: str) -> str:
    """The longest run of a translated message's own words between its placeholders."""
    with translation.override(language):
        text = translation.gettext(msgid)
    return max((part.strip() for part in re.split(r"%\(\w+\)s", text)), key=len)


def world(live_server, settings, mentor_language: str, participant_language: str):
    settings.PUBLIC_BASE_URL = live_server.url + "/"
    organization = OrganizationFactory(name="한빛창업학교", slug=f"hanbit-oh-{uuid.uuid4().hex[:6]}")
    NotificationSettingsFactory(
        organization=organization,
        send_hour=0,
        quiet_hours_start=0,
        quiet_hours_end=0,
        working_days=[1, 2, 3, 4, 5, 6, 7],
        skip_public_holidays=False,
        enabled_kinds=[kind.value for kind in Kind],
    )
    mentor_user = UserFactory(
        email=f"mentor-{uuid.uuid4().hex[:6]}@hanbit.test", name="Sam Lee", language=mentor_language
    )
    mentor_user.set_password(PASSWORD)
    mentor_user.save()
    MembershipFactory(organization=organization, user=mentor_user, role=Membership.Role.MENTOR)
    mentor = MentorFactory(organization=organization, user=mentor_user)
    today = timezone.localdate()
    run = RunFactory(
        program=ProgramFactory(organization=organization, name="고객 발견 부트캠프"),
        name="12기",
        starts_on=today - datetime.timedelta(days=10),
        ends_on=today + datetime.timedelta(days=60),
        final_deadline=today + datetime.timedelta(days=50),
    )
    enrollment = EnrollmentFactory(
        run=run,
        participant=ParticipantFactory(
            organization=organization, name="김민지", email="minji@startup.test", language=participant_language
        ),
    )
    program_services.mentor_assign(organization=organization, run=run, mentor=mentor, enrollment=enrollment)
    return organization, mentor_user, enrollment


@pytest.mark.parametrize(("mentor_language", "participant_language"), [("en", "ko"), ("ko", "en")])
def test_a_mentor_publishes_a_mentee_books_on_a_phone_and_it_becomes_a_session(
    transactional_db, live_server, settings, browser_for, mentor_language, participant_language
):
    organization, mentor_user, enrollment = world(live_server, settings, mentor_language, participant_language)
    url = live_server.url
    first_day = timezone.localdate() + datetime.timedelta(days=3)
    journey = f"office-hours-{mentor_language}-{participant_language}"
    with browser_for(journey) as browser:
        # 1. The mentor publishes weekly office hours (three weeks) in the portal.
        mentor_page = browser.page(viewport=DESKTOP, locale=f"{mentor_language}-KR")
        mentor_page.goto(f"{url}/mentor/login/")
        mentor_page.fill("input[name=username]", mentor_user.email)
        mentor_page.fill("input[name=password]", PASSWORD)
        mentor_page.locator("button[type=submit]").last.click()
        mentor_page.locator("nav.portal-nav a[href='/mentor/office-hours/']").click()
        assert mentor_page.get_attribute("html", "lang") == mentor_language
        mentor_page.locator("a[href='/mentor/office-hours/new/']").click()
        mentor_page.fill("input[name=title]", "Pricing")
        mentor_page.fill("input[name=date]", first_day.isoformat())
        mentor_page.fill("input[name=start_time]", "10:00")
        mentor_page.fill("input[name=duration_minutes]", "45")
        mentor_page.check("input[name=repeat][value=weekly]")
        mentor_page.fill("input[name=repeat_until]", (first_day + datetime.timedelta(days=14)).isoformat())
        mentor_page.fill("input[name=location]", "Startup campus, room 3")
        browser.shot(mentor_page, "01-mentor-publishes")
        mentor_page.locator("form.card button[type=submit]").click()
        assert mentor_page.locator(".messages li").is_visible()
        assert mentor_page.locator(".card.slot").count() == 1
        assert (
            say(mentor_language, "Office hours published. Your mentees can book them from their home page.")
            in mentor_page.locator(".messages").inner_text()
        )
        every_week = fixed_words(mentor_language, "Every week from %(start)s until %(until)s")
        assert every_week in mentor_page.locator(".card.slot").inner_text()
        browser.shot(mentor_page, "02-mentor-slots")

        # 2. The mentee opens the home link on a phone and books the first time.
        phone = browser.page(viewport=PHONE, locale=f"{participant_language}-KR")
        phone.goto(links.participant_link(enrollment, base_url=url))
        assert phone.get_attribute("html", "lang") == participant_language
        phone.locator("#office-hours a.button").click()
        free = phone.locator(".card.free-time")
        assert free.count() == 3
        assert "10:00–10:45" in free.first.inner_text() and "Sam Lee" in free.first.inner_text()
        free.first.locator("textarea").fill("가격 페이지 피드백")
        browser.shot(phone, "03-participant-free-times")
        free.first.locator("button.book").click()
        assert phone.locator("p.notice").is_visible()
        assert phone.locator(".card.my-booking").count() == 1
        assert phone.locator(".card.free-time").count() == 2
        assert phone.locator("p.notice").inner_text().strip() == say(
            participant_language, "Booked. You and your mentor will get a calendar invitation by email."
        )
        cancel_until = fixed_words(participant_language, "You can cancel until %(deadline)s.")
        assert cancel_until in phone.locator(".card.my-booking").inner_text()
        browser.shot(phone, "04-participant-booked")
        # The phone page fits the screen (no sideways scrolling).
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

        booking = OfficeHourBooking.objects.for_organization(organization).get()
        assert booking.topic == "가격 페이지 피드백"
        invitations = Notification.objects.for_organization(organization).filter(kind=Kind.OFFICE_HOURS_BOOKED)
        assert sorted(invitations.values_list("recipient", flat=True)) == sorted(
            ["minji@startup.test", mentor_user.email]
        )
        # The relay (eager in tests) sent them after the booking committed; once.
        assert set(invitations.values_list("status", flat=True)) == {Notification.Status.SENT}
        assert notification_services.notification_relay(organization=organization).sent == 0
        assert sorted(sent.to[0] for sent in mail.outbox) == sorted(["minji@startup.test", mentor_user.email])
        assert all("text/calendar; method=REQUEST" in [m for _c, m in sent.alternatives] for sent in mail.outbox)

        # 3. The time has passed (moved back for the test); the mentor adds notes and it becomes a session.
        held = timezone.now() - datetime.timedelta(hours=2)
        OfficeHourBooking.objects.for_organization(organization).filter(pk=booking.pk).update(
            starts_at=held, ends_at=held + datetime.timedelta(minutes=45)
        )
        mentor_page.goto(f"{url}/mentor/office-hours/")
        mentor_page.locator(".card.to-log a.button").click()
        mentor_page.fill("textarea[name=notes]", "Went through the pricing page; test two price points.")
        browser.shot(mentor_page, "05-mentor-notes")
        mentor_page.locator("form.card button[type=submit]").click()
        assert "Went through the pricing page" in mentor_page.locator("main").inner_text()
        browser.shot(mentor_page, "06-session")
    session = MentoringSession.objects.for_organization(organization).get()
    assert session.duration_minutes == 45 and session.topics == "가격 페이지 피드백"
    booking.refresh_from_db()
    assert (booking.status, booking.session_id) == ("held", session.pk)


@pytest.mark.parametrize("language", ["ko", "en"])
def test_a_program_manager_sees_bookings_per_run_and_mentor_and_cancels_one(
    transactional_db, live_server, settings, browser_for, language
):
    organization, mentor_user, enrollment = world(live_server, settings, "en", "ko")
    mentor = Mentor.objects.for_organization(organization).get(user=mentor_user)
    slot = officehours_services.slot_publish(
        organization=organization,
        mentor=mentor,
        title="Pricing",
        starts_at=timezone.now().replace(microsecond=0) + datetime.timedelta(days=4),
        duration_minutes=30,
        location="Startup campus, room 3",
    )
    booking = officehours_services.booking_create(
        organization=organization, enrollment=enrollment, slot_id=slot.pk, starts_at=slot.starts_at, topic="가격"
    )
    # Another organization's booking: never on this organization's pages.
    other_org, other_mentor_user, other_enrollment = world(live_server, settings, "en", "ko")
    other_mentor = Mentor.objects.for_organization(other_org).get(user=other_mentor_user)
    other_slot = officehours_services.slot_publish(
        organization=other_org,
        mentor=other_mentor,
        title="Elsewhere",
        starts_at=slot.starts_at,
        duration_minutes=30,
        location="Another campus",
    )
    officehours_services.booking_create(
        organization=other_org, enrollment=other_enrollment, slot_id=other_slot.pk, starts_at=other_slot.starts_at
    )
    pm = UserFactory(email=f"pm-{uuid.uuid4().hex[:6]}@hanbit.test", name="이서연", language=language)
    pm.set_password(PASSWORD)
    pm.save()
    MembershipFactory(organization=organization, user=pm, role=Membership.Role.PROGRAM_MANAGER)
    mail.outbox.clear()
    url = live_server.url
    changelist = reverse("admin:officehours_officehourbooking_changelist")
    with browser_for(f"office-hours-pm-{language}") as browser:
        page = browser.page(viewport=DESKTOP, locale="ko-KR" if language == "ko" else "en-US")
        page.goto(f"{url}/admin/login/")
        page.fill("input[name=username]", pm.email)
        page.fill("input[name=password]", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url(f"{url}/admin/")
        assert page.get_attribute("html", "lang") == language
        page.goto(f"{url}{changelist}")
        assert page.locator("#result_list tbody tr").count() == 1  # not the other organization's
        page.goto(f"{url}{changelist}?run__id__exact={enrollment.run_id}")
        rows = page.locator("#result_list tbody tr")
        assert rows.count() == 1 and "김민지" in rows.first.inner_text() and "Sam Lee" in rows.first.inner_text()
        page.goto(f"{url}{changelist}?mentor={mentor.pk}")
        assert page.locator("#result_list tbody tr").count() == 1
        browser.shot(page, "01-bookings-of-a-mentor")
        page.locator("#result_list tbody tr input.action-select").check()
        page.select_option("select[name=action]", "cancel_selected")
        page.locator("button[name=index], input[name=index]").first.click()
        page.wait_for_load_state()
        with translation.override(language):
            done = translation.ngettext("%(n)d booking cancelled.", "%(n)d bookings cancelled.", 1) % {"n": 1}
        assert done in page.locator(".messagelist").inner_text()
        browser.shot(page, "02-cancelled")
    booking.refresh_from_db()
    assert (booking.status, booking.cancelled_by) == ("cancelled", "manager")
    cancellations = Notification.objects.for_organization(organization).filter(kind=Kind.OFFICE_HOURS_CANCELLED)
    assert sorted(cancellations.values_list("recipient", flat=True)) == sorted(
        ["minji@startup.test", mentor_user.email]
    )
    assert all("method=CANCEL" in " ".join(m for _c, m in sent.alternatives) for sent in mail.outbox)
