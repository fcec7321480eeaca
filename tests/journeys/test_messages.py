"""Messages at the moments that matter, in headless Chromium against a live server (application role).

* A founder whose link expired follows "send me a new link" on a phone, asks with their
  email, and opens their home page from the email that the outbox sent.
* A program manager sees, in the survey admin, how many participants and mentors
  answered out of those invited.
"""

from __future__ import annotations

import datetime
import re
import uuid

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from core.models import Membership
from notifications import services as notification_services
from notifications.models import Kind, Notification
from programs import links
from tests.factories.assessments import ValueStatementFactory, ValueSurveyFactory
from tests.factories.core import MembershipFactory, OrganizationFactory, UserFactory
from tests.factories.notifications import NotificationSettingsFactory
from tests.factories.programs import (
    EnrollmentFactory,
    MentorAssignmentFactory,
    ParticipantFactory,
    ProgramFactory,
    ProgramsMentorFactory,
    RunFactory,
)
from tests.fixtures.browser import DESKTOP

pytestmark = [pytest.mark.browser, pytest.mark.postgres]
PASSWORD = "pm-pass-for-message-journey"


def _always_open(organization):
    return NotificationSettingsFactory(
        organization=organization,
        send_hour=0,
        quiet_hours_start=0,
        quiet_hours_end=0,
        working_days=[1, 2, 3, 4, 5, 6, 7],
        skip_public_holidays=False,
        enabled_kinds=[kind.value for kind in Kind],
    )


@pytest.fixture
def cohort(transactional_db, live_server, settings):
    settings.PUBLIC_BASE_URL = live_server.url + "/"
    organization = OrganizationFactory(name="한빛창업학교", slug=f"hanbit-msg-{uuid.uuid4().hex[:6]}")
    _always_open(organization)
    today = timezone.localdate()
    run = RunFactory(
        program=ProgramFactory(organization=organization, name="고객 발견 부트캠프"),
        name="12기",
        starts_on=today - datetime.timedelta(days=30),
        ends_on=today + datetime.timedelta(days=45),
        final_deadline=today + datetime.timedelta(days=40),
    )
    email = f"minji-{uuid.uuid4().hex[:8]}@startup.test"  # the throttle counts in Redis across runs
    participant = ParticipantFactory(organization=organization, name="김민지", email=email, language="ko")
    return EnrollmentFactory(run=run, participant=participant)


def test_a_founder_with_an_expired_link_gets_a_new_one_by_email_on_a_phone(cohort, browser_for):
    organization = cohort.organization
    expired = links.participant_link(cohort, valid_days=-1, base_url=cohort_base())
    mail.outbox.clear()
    with browser_for("messages-lost-link") as browser:
        page = browser.page()
        page.goto(expired)
        browser.shot(page, "01-expired-link")
        assert page.locator("h1").first.is_visible()
        page.locator("#lost-link").click()
        page.wait_for_url(f"**/p/{organization.slug}/lost-link/**")
        browser.shot(page, "02-lost-link-form")
        assert page.locator("input[type=email]").is_visible()

        # A typo first: the form says so, nothing is sent.
        page.fill("input[type=email]", "minji@")
        page.locator("form button[type=submit]").click()
        assert page.locator(".errorlist").first.is_visible()
        browser.shot(page, "03-bad-address")
        assert not Notification.objects.for_organization(organization).filter(kind=Kind.LOST_LINK).exists()

        page.fill("input[type=email]", cohort.participant.email)
        page.locator("form button[type=submit]").click()
        page.wait_for_selector("#lost-link-sent")
        browser.shot(page, "04-sent")
        assert page.locator("input[type=email]").count() == 0

        row = Notification.objects.for_organization(organization).get(kind=Kind.LOST_LINK)
        assert row.status == Notification.Status.SENT
        (message,) = [m for m in mail.outbox if m.to == [cohort.participant.email]]
        fresh = re.search(r"https?://\S+/p/[^\s/]+/", message.body).group(0)
        page.goto(fresh)
        browser.shot(page, "05-home-from-the-new-link")
        assert "김민지" in page.inner_text("h1")


def cohort_base() -> str:
    from django.conf import settings

    return settings.PUBLIC_BASE_URL.rstrip("/")


def test_a_program_manager_reads_survey_response_rates(transactional_db, live_server, browser_for):
    organization = OrganizationFactory(name="한빛창업학교", slug=f"hanbit-rates-{uuid.uuid4().hex[:6]}")
    _always_open(organization)
    user = UserFactory(email=f"pm-{uuid.uuid4().hex[:6]}@hanbit.test", name="이서연", language="ko")
    user.set_password(PASSWORD)
    user.save()
    MembershipFactory(organization=organization, user=user, role=Membership.Role.PROGRAM_MANAGER)
    today = timezone.localdate()
    run = RunFactory(
        program__organization=organization,
        starts_on=today - datetime.timedelta(days=10),
        ends_on=today + datetime.timedelta(days=60),
        final_deadline=today + datetime.timedelta(days=55),
    )
    founders = [
        EnrollmentFactory(run=run, participant=ParticipantFactory(organization=organization, email=f"f{i}@s.test"))
        for i in range(4)
    ]
    mentor = ProgramsMentorFactory(
        organization=organization, user=UserFactory(email=f"m-{uuid.uuid4().hex[:6]}@h.test")
    )
    MentorAssignmentFactory(run=run, mentor=mentor)
    survey = ValueSurveyFactory(program=run.program, run=run, title="중간 가치 설문")
    statement = ValueStatementFactory(survey=survey)
    notification_services.notifications_plan(organization=organization)
    notification_services.notification_relay(organization=organization)
    from assessments import services as assessment_services

    assessment_services.survey_response_submit(
        organization=organization, survey=survey, ratings={statement.id: (5, 4)}, enrollment=founders[0]
    )

    url = live_server.url
    with browser_for("messages-survey-rates") as browser:
        page = browser.page(viewport=DESKTOP)
        page.goto(f"{url}/admin/login/")
        page.fill("input[name=username]", user.email)
        page.fill("input[name=password]", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url(f"{url}/admin/")
        page.goto(f"{url}{reverse('admin:assessments_valuesurvey_changelist')}")
        browser.shot(page, "01-survey-list")
        row = page.locator("#result_list tbody tr").first
        assert "중간 가치 설문" in row.inner_text()
        assert "1 / 4 (25%)" in row.inner_text()
        assert "0 / 1 (0%)" in row.inner_text()
        page.goto(f"{url}{reverse('admin:assessments_valuesurvey_change', args=[survey.pk])}")
        browser.shot(page, "02-survey-page")
        assert "1 / 4 (25%)" in page.inner_text("body")
