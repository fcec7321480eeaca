"""Messages at the moments that matter: welcome, a new help request, each answer.

Each kind: to whom, in which language, exactly once, never to another organization's
people, respecting its on/off setting, unsubscribes and quiet hours.
"""

import datetime

from django.core import mail
from django.utils import timezone

from notifications import services
from notifications.models import Channel, Kind, Notification
from notifications.schedule import zone_of
from programs import services as program_services
from tests.factories.assessments import ValueStatementFactory, ValueSurveyFactory
from tests.factories.core import UserFactory
from tests.factories.notifications import NotificationSettingsFactory, UnsubscribeFactory
from tests.factories.programs import (
    EnrollmentFactory,
    HelpRequestFactory,
    HelpRequestReplyFactory,
    MentorAssignmentFactory,
    ParticipantFactory,
    ProgramsMentorFactory,
    RunFactory,
)

UTC = datetime.UTC


def plan(organization, now=None):
    return services.notifications_plan(organization=organization, now=now or timezone.now())


def rows(organization, **filters):
    return list(
        Notification.objects.for_organization(organization).filter(**filters).order_by("kind", "recipient", "slot")
    )


def started_run(organization, **kwargs):
    today = timezone.now().astimezone(zone_of(organization)).date()
    return RunFactory(
        program__organization=organization,
        starts_on=today - datetime.timedelta(days=2),
        ends_on=today + datetime.timedelta(days=80),
        final_deadline=today + datetime.timedelta(days=75),
        **kwargs,
    )


def founder(run, *, name="김민지", email="minji@startup.test", language="ko"):
    return EnrollmentFactory(
        run=run,
        participant=ParticipantFactory(organization=run.organization, name=name, email=email, language=language),
    )


def mentor_of(enrollment, email="mentor.park@hanbit.test", language="ko"):
    mentor = ProgramsMentorFactory(
        organization=enrollment.organization, user=UserFactory(email=email, name="박서준", language=language)
    )
    MentorAssignmentFactory(run=enrollment.run, mentor=mentor, enrollment=enrollment)
    return mentor


# --- welcome ------------------------------------------------------------------------------------


def test_a_founder_of_a_started_run_is_welcomed_once_with_the_home_link(
    organization, always_open_settings, other_organization, other_always_open_settings
):
    korean = founder(started_run(organization))
    english = founder(korean.run, name="Alex Kim", email="alex@startup.test", language="en")
    stranger = founder(started_run(other_organization), name="Sam", email="sam@other.test", language="en")

    assert plan(organization) == 2
    welcome = rows(organization, kind=Kind.WELCOME)
    assert [n.recipient for n in welcome] == ["alex@startup.test", "minji@startup.test"]
    in_korean = next(n for n in welcome if n.language == "ko")
    assert in_korean.subject_key == f"enrollment:{korean.id}"
    assert in_korean.slot == "welcome"
    assert korean.run.name in in_korean.subject_line
    assert "/p/" in in_korean.body_text  # the signed home link
    in_english = next(n for n in welcome if n.language == "en")
    assert in_english.subject_line == f"Welcome to {english.run.name}"

    assert plan(organization) == 0  # exactly once
    assert len(rows(organization, kind=Kind.WELCOME)) == 2
    # Another organization's founder is never among them, and its own planning sends only its own.
    assert "sam@other.test" not in {n.recipient for n in rows(organization)}
    plan(other_organization)
    assert [n.recipient for n in rows(other_organization, kind=Kind.WELCOME)] == ["sam@other.test"]
    assert rows(other_organization, kind=Kind.WELCOME)[0].subject_key == f"enrollment:{stranger.id}"


def test_the_welcome_waits_for_the_run_to_start(organization, always_open_settings):
    today = timezone.now().astimezone(zone_of(organization)).date()
    run = RunFactory(
        program__organization=organization,
        starts_on=today + datetime.timedelta(days=3),
        ends_on=today + datetime.timedelta(days=90),
        final_deadline=today + datetime.timedelta(days=85),
    )
    founder(run)
    plan(organization)
    assert rows(organization, kind=Kind.WELCOME) == []

    start = datetime.datetime.combine(run.starts_on, datetime.time(9), tzinfo=zone_of(organization))
    plan(organization, now=start)
    welcome = rows(organization, kind=Kind.WELCOME)
    assert len(welcome) == 1
    assert welcome[0].scheduled_for >= datetime.datetime.combine(
        run.starts_on, datetime.time(), tzinfo=zone_of(organization)
    )


def test_welcome_can_be_switched_off_and_respects_unsubscribes(organization):
    NotificationSettingsFactory(
        organization=organization,
        quiet_hours_start=0,
        quiet_hours_end=0,
        send_hour=0,
        working_days=[1, 2, 3, 4, 5, 6, 7],
        skip_public_holidays=False,
        enabled_kinds=[kind.value for kind in Kind if kind != Kind.WELCOME],
    )
    founder(started_run(organization))
    plan(organization)
    assert rows(organization, kind=Kind.WELCOME) == []

    services.notification_settings_update(organization=organization, enabled_kinds=[kind.value for kind in Kind])
    UnsubscribeFactory(organization=organization, email="minji@startup.test", kind=Kind.WELCOME)
    plan(organization)
    (row,) = rows(organization, kind=Kind.WELCOME)
    assert row.status == Notification.Status.CANCELLED


def test_enrolling_in_a_started_run_sends_the_welcome_by_mail_right_after_the_commit(
    organization, always_open_settings, django_capture_on_commit_callbacks
):
    run = started_run(organization)
    participant = ParticipantFactory(organization=organization, email="late@startup.test", language="en")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        program_services.enrollment_create(organization=organization, run=run, participant=participant)
    (row,) = rows(organization, kind=Kind.WELCOME)
    assert row.status == Notification.Status.SENT
    assert [m.to for m in mail.outbox] == [["late@startup.test"]]
    assert mail.outbox[0].subject == f"Welcome to {run.name}"


# --- a new help request ------------------------------------------------------------------------


def test_a_new_help_request_goes_to_its_mentors_and_the_team_chat_at_once(
    organization, always_open_settings, other_organization, other_always_open_settings
):
    always_open_settings.webhook_url = "https://chat.example.com/hooks/abc"
    always_open_settings.save()
    enrollment = founder(started_run(organization))
    mentor = mentor_of(enrollment)
    other_enrollment = founder(started_run(other_organization), email="sam@other.test", language="en")
    mentor_of(other_enrollment, email="mentor@other.test", language="en")
    HelpRequestFactory(enrollment=other_enrollment)
    help_request = HelpRequestFactory(enrollment=enrollment)

    plan(organization)
    new = rows(organization, kind=Kind.HELP_REQUEST_NEW)
    assert [(n.channel, n.recipient) for n in new] == [
        (Channel.EMAIL, mentor.user.email),
        (Channel.WEBHOOK, "webhook"),
    ]
    to_mentor = new[0]
    assert to_mentor.subject_key == f"help_request:{help_request.id}"
    assert to_mentor.language == "ko"
    assert "김민지" in to_mentor.subject_line
    assert help_request.act in to_mentor.body_text
    assert f"/mentor/help-requests/{help_request.id}/" in to_mentor.body_text or "/mentor/" in to_mentor.body_text
    assert plan(organization) == 0
    assert "mentor@other.test" not in {n.recipient for n in rows(organization)}
    assert rows(organization, kind=Kind.HELP_REQUEST_UNANSWERED) == []  # that one waits for the target


def test_after_the_response_target_only_the_unanswered_reminder_remains(organization, always_open_settings):
    enrollment = founder(started_run(organization))
    mentor_of(enrollment)
    HelpRequestFactory(enrollment=enrollment)
    plan(organization, now=timezone.now() + datetime.timedelta(hours=25))
    assert rows(organization, kind=Kind.HELP_REQUEST_NEW) == []
    assert len(rows(organization, kind=Kind.HELP_REQUEST_UNANSWERED)) == 1


def test_a_help_request_at_night_reaches_the_mentor_when_quiet_hours_end(organization):
    NotificationSettingsFactory(
        organization=organization, working_days=[1, 2, 3, 4, 5, 6, 7], skip_public_holidays=False
    )  # quiet 21:00-08:00
    enrollment = founder(started_run(organization))
    mentor_of(enrollment)
    help_request = HelpRequestFactory(enrollment=enrollment)
    zone = zone_of(organization)
    late = timezone.now().astimezone(zone).replace(hour=23, minute=0, second=0, microsecond=0)
    if late < timezone.now():
        late += datetime.timedelta(days=1)
    type(help_request).objects.for_organization(organization).filter(pk=help_request.pk).update(created_at=late)
    plan(organization, now=late + datetime.timedelta(minutes=5))
    (row,) = rows(organization, kind=Kind.HELP_REQUEST_NEW)
    assert row.scheduled_for.astimezone(zone).hour == 8
    assert row.scheduled_for.astimezone(zone).date() == (late + datetime.timedelta(days=1)).date()


def test_asking_for_help_mails_the_mentor_right_after_the_commit(
    organization, always_open_settings, django_capture_on_commit_callbacks
):
    enrollment = founder(started_run(organization))
    mentor = mentor_of(enrollment)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        program_services.help_request_create(
            organization=organization,
            enrollment=enrollment,
            act="고객 인터뷰 5건",
            impact="가격 반응을 모르겠습니다",
            desired_outcome="가격 테스트 방법",
        )
    sent_to = [m.to for m in mail.outbox]
    assert [mentor.user.email] in sent_to
    new = rows(organization, kind=Kind.HELP_REQUEST_NEW)
    assert [n.status for n in new] == [Notification.Status.SENT]


# --- each answer ---------------------------------------------------------------------------


def test_each_answer_reaches_the_founder_with_its_text_and_home_link(
    organization, always_open_settings, other_organization, other_always_open_settings
):
    enrollment = founder(started_run(organization), name="Alex Kim", email="alex@startup.test", language="en")
    mentor = mentor_of(enrollment)
    help_request = HelpRequestFactory(enrollment=enrollment)
    first = HelpRequestReplyFactory(help_request=help_request, mentor=mentor, body="Try two landing pages.")
    second = HelpRequestReplyFactory(help_request=help_request, mentor=mentor, body="And call three of them.")
    other = founder(started_run(other_organization), email="sam@other.test", language="en")
    HelpRequestReplyFactory(help_request=HelpRequestFactory(enrollment=other), body="Elsewhere")

    plan(organization)
    answers = rows(organization, kind=Kind.HELP_REQUEST_REPLY)
    assert sorted(n.subject_key for n in answers) == sorted([f"help_reply:{first.id}", f"help_reply:{second.id}"])
    assert {n.recipient for n in answers} == {"alex@startup.test"}
    one = next(n for n in answers if n.subject_key == f"help_reply:{first.id}")
    assert one.subject_line == "박서준 answered your help request"
    assert "Try two landing pages." in one.body_text
    assert "/p/" in one.body_text
    assert plan(organization) == 0
    assert "sam@other.test" not in {n.recipient for n in rows(organization)}


def test_a_mentor_reply_through_the_service_is_mailed_to_the_founder(
    organization, always_open_settings, django_capture_on_commit_callbacks
):
    enrollment = founder(started_run(organization))
    mentor = mentor_of(enrollment)
    help_request = HelpRequestFactory(enrollment=enrollment)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        program_services.help_request_reply(
            organization=organization,
            help_request=help_request,
            mentor=mentor,
            author=mentor.user,
            body="두 가지 랜딩 페이지를 비교해 보세요.",
        )
    to_founder = [m for m in mail.outbox if m.to == ["minji@startup.test"] and "답했습니다" in m.subject]
    assert len(to_founder) == 1  # in the founder's language (Korean)
    assert to_founder[0].subject == "박서준 님이 도움 요청에 답했습니다"
    assert "두 가지 랜딩 페이지를 비교해 보세요." in to_founder[0].body
    # The answered request does not also produce a "new help request" to the mentor now.
    assert [n.status for n in rows(organization, kind=Kind.HELP_REQUEST_NEW)] in ([], [Notification.Status.CANCELLED])


def test_old_answers_are_not_mailed_when_the_rule_arrives(organization, always_open_settings):
    enrollment = founder(started_run(organization))
    reply = HelpRequestReplyFactory(help_request=HelpRequestFactory(enrollment=enrollment))
    type(reply).objects.for_organization(organization).filter(pk=reply.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=30)
    )
    plan(organization)
    assert rows(organization, kind=Kind.HELP_REQUEST_REPLY) == []


def test_planning_the_new_kinds_keeps_a_constant_number_of_queries(
    organization, always_open_settings, django_assert_max_num_queries
):
    run = started_run(organization)

    def grow(n):
        for i in range(n):
            enrollment = founder(run, name=f"F{i}", email=f"f{i}-{n}@startup.test")
            mentor = mentor_of(enrollment, email=f"m{i}-{n}@hanbit.test")
            HelpRequestReplyFactory(help_request=HelpRequestFactory(enrollment=enrollment), mentor=mentor)
            survey = ValueSurveyFactory(program=run.program, run=run, is_anonymous=bool(i % 2))
            ValueStatementFactory(survey=survey)

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    grow(2)
    with CaptureQueriesContext(connection) as small:
        plan(organization)
    grow(6)
    with django_assert_max_num_queries(len(small.captured_queries)):
        created = plan(organization)
    # Welcomes, new help requests, answers and survey invitations of the 6 new founders were planned.
    assert created >= 6 * 4
    assert {n.kind for n in rows(organization)} >= {
        Kind.WELCOME,
        Kind.HELP_REQUEST_REPLY,
        Kind.SURVEY_INVITATION,
    }


def test_a_new_help_request_message_still_waiting_is_not_sent_once_the_request_is_answered(
    organization, always_open_settings, monkeypatch
):
    enrollment = founder(started_run(organization))
    mentor = mentor_of(enrollment)
    help_request = HelpRequestFactory(enrollment=enrollment)
    monkeypatch.setattr(services, "enqueue_relay", lambda **kwargs: None)
    plan(organization)
    program_services.help_request_reply(
        organization=organization, help_request=help_request, mentor=mentor, author=mentor.user, body="On it."
    )
    services.notification_relay(organization=organization)
    (row,) = rows(organization, kind=Kind.HELP_REQUEST_NEW)
    assert row.status == Notification.Status.CANCELLED
    assert "answered" in row.last_error
