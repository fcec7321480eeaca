"""Reminders speak their reader's language down to the choice labels; the preview shows local times."""

import datetime
import re

from django.urls import reverse
from django.utils import timezone, translation

from notifications import services
from notifications.models import Kind, Notification
from notifications.schedule import zone_of
from tests.factories.assessments import AssessmentWindowFactory
from tests.factories.notifications import NotificationSettingsFactory
from tests.factories.programs import EnrollmentFactory, MilestoneFactory, ParticipantFactory, RunFactory

UTC = datetime.UTC
# Tuesday 10 March 2026, 10:00 in Seoul (01:00 UTC): a send day, after the 09:00 send hour.
TUESDAY_10AM_SEOUL = datetime.datetime(2026, 3, 10, 1, 0, tzinfo=UTC)


def _post_window(run):
    # A "post" window without a name: its label is the translated kind, "사후 (기수 종료)" in Korean.
    return AssessmentWindowFactory(
        run=run,
        kind="post",
        name="",
        opens_at=datetime.datetime(2026, 3, 9, 0, 0, tzinfo=UTC),
        closes_at=datetime.datetime(2026, 3, 27, 0, 0, tzinfo=UTC),
    )


def _opened(organization, email):
    return Notification.objects.for_organization(organization).get(kind=Kind.ASSESSMENT_OPENED, recipient=email)


def test_an_english_founder_of_a_korean_organization_reads_the_window_label_in_english(
    organization, reminder_settings, cohort
):
    _post_window(cohort["run"])
    with translation.override("ko"):  # planning runs in the organization's language (Korean)
        services.notifications_plan(organization=organization, now=TUESDAY_10AM_SEOUL)

    english = _opened(organization, "alex@startup.test")
    assert english.subject_line == "Self-assessment open: Post (end of the run)"
    assert "The Post (end of the run) assessment of" in english.body_text
    assert "사후" not in english.subject_line + english.body_text + english.body_html

    korean = _opened(organization, "minji@startup.test")
    assert "사후 (기수 종료)" in korean.subject_line
    assert "Post (end" not in korean.subject_line + korean.body_text
    # The reason is written for the organization's program managers, in Korean.
    assert "사후 (기수 종료)" in english.reason


def test_a_korean_founder_of_an_english_organization_reads_the_window_label_in_korean(other_organization):
    NotificationSettingsFactory(organization=other_organization)
    run = RunFactory(
        program__organization=other_organization,
        starts_on=datetime.date(2026, 3, 2),
        ends_on=datetime.date(2026, 6, 30),
        final_deadline=datetime.date(2026, 6, 30),
    )
    EnrollmentFactory(
        run=run,
        participant=ParticipantFactory(organization=other_organization, email="jiwoo@startup.test", language="ko"),
    )
    EnrollmentFactory(
        run=run,
        participant=ParticipantFactory(organization=other_organization, email="sam@startup.test", language="en"),
    )
    _post_window(run)
    # Tuesday 10 March 2026, 10:00 in London.
    with translation.override("en"):
        services.notifications_plan(
            organization=other_organization, now=datetime.datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
        )

    korean = _opened(other_organization, "jiwoo@startup.test")
    assert "사후 (기수 종료)" in korean.subject_line
    assert "Post (end" not in korean.subject_line + korean.body_text + korean.body_html
    english = _opened(other_organization, "sam@startup.test")
    assert english.subject_line == "Self-assessment open: Post (end of the run)"
    assert "Post (end of the run)" in english.reason


def test_the_preview_subjects_use_each_readers_language(organization, reminder_settings, cohort):
    _post_window(cohort["run"])
    with translation.override("ko"):
        preview = services.notifications_preview(organization=organization, now=TUESDAY_10AM_SEOUL)
    subjects = {row["recipient"]: row["subject"] for row in preview if row["kind"] == Kind.ASSESSMENT_OPENED}
    assert subjects["alex@startup.test"] == "Self-assessment open: Post (end of the run)"
    assert "사후 (기수 종료)" in subjects["minji@startup.test"]


def test_the_preview_of_a_london_organization_shows_london_times(
    other_organization, other_program_manager, admin_client_for
):
    NotificationSettingsFactory(
        organization=other_organization,
        send_hour=9,
        enabled_kinds=[Kind.MILESTONE_UPCOMING, Kind.MILESTONE_DUE_TODAY],
        milestone_lead_days=3,
    )
    today = timezone.now().astimezone(zone_of(other_organization)).date()
    run = RunFactory(
        program__organization=other_organization,
        starts_on=today - datetime.timedelta(days=5),
        ends_on=today + datetime.timedelta(days=40),
        final_deadline=today + datetime.timedelta(days=40),
    )
    EnrollmentFactory(run=run, last_contact_at=timezone.now())
    MilestoneFactory(run=run, name="Pitch deck draft", due_on=today + datetime.timedelta(days=10))

    client = admin_client_for(other_program_manager)
    client.cookies["django_language"] = "en"
    body = client.get(reverse("admin:notifications_notification_preview")).content.decode()

    assert "Times are local (Europe/London)" in body
    times = re.findall(r'<td style="white-space:nowrap;">\d{4}-\d\d-\d\d \(\w+\) (\d\d:\d\d)', body)
    assert times, body
    # The send hour is 09:00 in London: 17:00 or 18:00 in Seoul, which the page used to show.
    assert set(times) == {"09:00"}
