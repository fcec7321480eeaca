"""Survey invitations and reminders through the outbox, stage surveys, response rates in the admin."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from assessments import services as assessment_services
from assessments.models import ValueSurvey
from notifications import services
from notifications.models import Kind, Notification
from notifications.schedule import zone_of
from tests.factories.assessments import ValueStatementFactory, ValueSurveyFactory
from tests.factories.core import UserFactory
from tests.factories.notifications import UnsubscribeFactory
from tests.factories.programs import (
    EnrollmentFactory,
    MentorAssignmentFactory,
    MilestoneFactory,
    ParticipantFactory,
    ProgramsMentorFactory,
    RunFactory,
)


def plan(organization, now=None):
    return services.notifications_plan(organization=organization, now=now or timezone.now())


def rows(organization, **filters):
    return list(
        Notification.objects.for_organization(organization).filter(**filters).order_by("kind", "recipient", "slot")
    )


def today_of(organization):
    return timezone.now().astimezone(zone_of(organization)).date()


@pytest.fixture
def cohort(organization):
    today = today_of(organization)
    run = RunFactory(
        program__organization=organization,
        starts_on=today - datetime.timedelta(days=30),
        ends_on=today + datetime.timedelta(days=60),
        final_deadline=today + datetime.timedelta(days=55),
    )
    korean = EnrollmentFactory(
        run=run,
        participant=ParticipantFactory(organization=organization, name="김민지", email="minji@startup.test"),
    )
    english = EnrollmentFactory(
        run=run,
        participant=ParticipantFactory(
            organization=organization, name="Alex Kim", email="alex@startup.test", language="en"
        ),
    )
    mentor = ProgramsMentorFactory(
        organization=organization, user=UserFactory(email="mentor.park@hanbit.test", name="박서준", language="ko")
    )
    MentorAssignmentFactory(run=run, mentor=mentor, enrollment=None)
    return {"run": run, "korean": korean, "english": english, "mentor": mentor}


def survey_of(run, **kwargs):
    survey = ValueSurveyFactory(program=run.program, run=run, title="중간 가치 설문", **kwargs)
    ValueStatementFactory(survey=survey)
    return survey


def answer(survey, *, enrollment=None, mentor=None):
    statement = survey.statements.get()
    return assessment_services.survey_response_submit(
        organization=survey.organization,
        survey=survey,
        ratings={statement.id: (4, 3)},
        enrollment=enrollment,
        mentor=mentor,
    )


def test_an_open_survey_invites_its_participants_and_mentors_once_each(
    organization, always_open_settings, cohort, other_organization, other_always_open_settings
):
    survey = survey_of(cohort["run"])
    other_run = RunFactory(program__organization=other_organization)
    EnrollmentFactory(
        run=other_run, participant=ParticipantFactory(organization=other_organization, email="sam@other.test")
    )
    survey_of(other_run)

    plan(organization)
    invitations = rows(organization, kind=Kind.SURVEY_INVITATION)
    assert [n.recipient for n in invitations] == ["alex@startup.test", "mentor.park@hanbit.test", "minji@startup.test"]
    to_alex = invitations[0]
    assert to_alex.subject_key == f"survey:{survey.id}:enrollment:{cohort['english'].id}"
    assert to_alex.subject_line == "Your opinion, please: 중간 가치 설문"
    assert "/a/" in to_alex.body_text or "survey" in to_alex.body_text
    to_mentor = invitations[1]
    assert to_mentor.subject_key == f"survey:{survey.id}:mentor:{cohort['mentor'].id}"
    assert to_mentor.language == "ko"
    assert plan(organization) == 0
    assert "sam@other.test" not in {n.recipient for n in rows(organization)}


def test_those_who_answered_are_neither_invited_nor_reminded(organization, always_open_settings, cohort):
    survey = survey_of(cohort["run"], is_anonymous=True)
    answer(survey, enrollment=cohort["korean"])
    plan(organization)
    assert "minji@startup.test" not in {n.recipient for n in rows(organization, kind=Kind.SURVEY_INVITATION)}

    # A few days before it closes, only those still missing are reminded.
    answer(survey, mentor=cohort["mentor"])
    reminder_time = survey.closes_at - datetime.timedelta(days=2)
    plan(organization, now=reminder_time)
    reminders = rows(organization, kind=Kind.SURVEY_REMINDER)
    assert [n.recipient for n in reminders] == ["alex@startup.test"]
    assert reminders[0].slot.startswith("closes:")
    assert reminders[0].subject_line == "Closing soon: 중간 가치 설문"
    assert plan(organization, now=reminder_time) == 0


def test_an_invitation_still_waiting_is_not_sent_to_someone_who_answered_meanwhile(
    organization, always_open_settings, cohort
):
    survey = survey_of(cohort["run"])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(services, "enqueue_relay", lambda **kwargs: None)
        plan(organization)
    answer(survey, enrollment=cohort["english"])
    services.notification_relay(organization=organization)
    to_alex = rows(organization, kind=Kind.SURVEY_INVITATION, recipient="alex@startup.test")[0]
    assert to_alex.status == Notification.Status.CANCELLED
    assert "answered" in to_alex.last_error
    to_minji = rows(organization, kind=Kind.SURVEY_INVITATION, recipient="minji@startup.test")[0]
    assert to_minji.status == Notification.Status.SENT


def test_survey_invitations_respect_unsubscribes_and_their_switch(organization, always_open_settings, cohort):
    survey_of(cohort["run"])
    UnsubscribeFactory(organization=organization, email="alex@startup.test", kind=Kind.SURVEY_INVITATION)
    services.notification_settings_update(
        organization=organization,
        enabled_kinds=[kind.value for kind in Kind if kind != Kind.SURVEY_INVITATION],
    )
    plan(organization)
    assert rows(organization, kind=Kind.SURVEY_INVITATION) == []
    services.notification_settings_update(organization=organization, enabled_kinds=[kind.value for kind in Kind])
    plan(organization)
    cancelled = rows(organization, kind=Kind.SURVEY_INVITATION, status=Notification.Status.CANCELLED)
    assert [n.recipient for n in cancelled] == ["alex@startup.test"]


def test_a_survey_that_is_not_open_yet_invites_nobody(organization, always_open_settings, cohort):
    now = timezone.now()
    survey_of(cohort["run"], opens_at=now + datetime.timedelta(days=2), closes_at=now + datetime.timedelta(days=9))
    plan(organization)
    assert rows(organization, kind=Kind.SURVEY_INVITATION) == []
    plan(organization, now=now + datetime.timedelta(days=2, minutes=1))
    assert len(rows(organization, kind=Kind.SURVEY_INVITATION)) == 3


# --- stage surveys ---------------------------------------------------------------------------


def test_a_stage_survey_opens_and_invites_on_its_milestones_due_date(organization, always_open_settings, cohort):
    run = cohort["run"]
    due = today_of(organization) + datetime.timedelta(days=3)
    milestone = MilestoneFactory(run=run, name="MVP 데모", due_on=due)
    closes = datetime.datetime.combine(due + datetime.timedelta(days=7), datetime.time(), tzinfo=zone_of(organization))
    survey = assessment_services.value_survey_create(
        organization=organization,
        program=run.program,
        run=run,
        milestone=milestone,
        title="MVP 단계 피드백",
        opens_at=None,
        closes_at=closes,
        statements=[{"text": "멘토 피드백", "predicted_importance": 4}],
    )
    zone = zone_of(organization)
    assert survey.opens_at == datetime.datetime.combine(due, datetime.time(), tzinfo=zone)
    assert not survey.is_open()

    plan(organization)
    assert rows(organization, kind=Kind.SURVEY_INVITATION) == []
    plan(organization, now=datetime.datetime.combine(due, datetime.time(10), tzinfo=zone))
    invitations = rows(organization, kind=Kind.SURVEY_INVITATION)
    assert len(invitations) == 3
    assert {n.slot for n in invitations} == {f"opens:{due.isoformat()}"}


def test_a_stage_must_be_a_milestone_of_the_surveys_run(organization, cohort):
    run = cohort["run"]
    elsewhere = MilestoneFactory(run=RunFactory(program=run.program), due_on=today_of(organization))
    survey = ValueSurvey(
        organization=organization,
        program=run.program,
        run=run,
        milestone=elsewhere,
        title="x",
        opens_at=timezone.now(),
        closes_at=timezone.now() + datetime.timedelta(days=3),
    )
    with pytest.raises(ValidationError) as error:
        survey.full_clean()
    assert "milestone" in error.value.message_dict

    survey.run = None
    with pytest.raises(ValidationError) as error:
        survey.full_clean()
    assert "run" in error.value.message_dict


def test_another_organizations_milestone_cannot_be_a_stage(organization, other_organization, cohort):
    foreign = MilestoneFactory(run=RunFactory(program__organization=other_organization))
    survey = ValueSurvey(
        organization=organization,
        program=cohort["run"].program,
        run=cohort["run"],
        milestone=foreign,
        title="x",
        opens_at=timezone.now(),
        closes_at=timezone.now() + datetime.timedelta(days=3),
    )
    with pytest.raises(ValidationError) as error:
        survey.full_clean()
    assert "milestone" in error.value.message_dict


# --- response rates in the admin -------------------------------------------------------------


def _send_all(organization):
    plan(organization)
    services.notification_relay(organization=organization)


def test_the_survey_admin_shows_answered_over_invited_for_participants_and_mentors(
    organization, always_open_settings, cohort, program_manager, admin_client_for
):
    survey = survey_of(cohort["run"])
    _send_all(organization)
    answer(survey, enrollment=cohort["korean"])
    client = admin_client_for(program_manager)

    page = client.get(reverse("admin:assessments_valuesurvey_changelist")).content.decode()
    assert "1 / 2 (50%)" in page  # participants
    assert "0 / 1 (0%)" in page  # the mentor

    change = client.get(reverse("admin:assessments_valuesurvey_change", args=[survey.pk])).content.decode()
    assert "1 / 2 (50%)" in change and "0 / 1 (0%)" in change


def test_answers_without_an_invitation_never_make_the_rate_pass_100_percent(
    organization, always_open_settings, cohort, program_manager, admin_client_for
):
    """The demo's case: people answered from their home page before any invitation went out."""
    survey = survey_of(cohort["run"])
    answer(survey, enrollment=cohort["korean"])
    answer(survey, enrollment=cohort["english"])
    _send_all(organization)  # they answered already: no invitation goes to them
    client = admin_client_for(program_manager)
    page = client.get(reverse("admin:assessments_valuesurvey_changelist")).content.decode()
    assert "2 / 2 (100%)" in page
    assert "(200%)" not in page


def test_the_survey_list_keeps_its_query_count_as_surveys_grow(
    organization, always_open_settings, cohort, program_manager, admin_client_for, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = admin_client_for(program_manager)
    url = reverse("admin:assessments_valuesurvey_changelist")
    survey_of(cohort["run"])
    _send_all(organization)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for index in range(5):
        survey = ValueSurveyFactory(program=cohort["run"].program, run=cohort["run"], title=f"Survey {index}")
        ValueStatementFactory(survey=survey)
    _send_all(organization)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200


def test_another_organizations_survey_is_not_in_the_admin(
    organization, other_organization, program_manager, admin_client_for
):
    foreign = ValueSurveyFactory(program__organization=other_organization)
    client = admin_client_for(program_manager)
    assert client.get(reverse("admin:assessments_valuesurvey_change", args=[foreign.pk])).status_code == 404


def test_the_14_day_preview_shows_the_invitations_of_a_survey_that_opens_next_week(
    organization, always_open_settings, cohort
):
    now = timezone.now()
    survey_of(cohort["run"], opens_at=now + datetime.timedelta(days=5), closes_at=now + datetime.timedelta(days=20))
    preview = services.notifications_preview(organization=organization, run=cohort["run"], now=now)
    invitations = [row for row in preview if row["kind"] == Kind.SURVEY_INVITATION]
    assert sorted(row["recipient"] for row in invitations) == [
        "alex@startup.test",
        "mentor.park@hanbit.test",
        "minji@startup.test",
    ]
    assert all(row["when"] >= now + datetime.timedelta(days=5) for row in invitations)
    assert rows(organization, kind=Kind.SURVEY_INVITATION) == []  # the preview writes nothing


def test_a_survey_saved_open_in_the_admin_sends_its_invitations_right_away(
    organization, always_open_settings, cohort, program_manager, admin_client_for, django_capture_on_commit_callbacks
):
    from django.core import mail

    run = cohort["run"]
    now = timezone.now().astimezone(zone_of(organization))
    closes = now + datetime.timedelta(days=7)
    data = {
        "program": run.program.pk,
        "run": run.pk,
        "milestone": "",
        "title": "관리자 설문",
        "introduction": "",
        "opens_at_0": (now - datetime.timedelta(hours=1)).strftime("%Y-%m-%d"),
        "opens_at_1": (now - datetime.timedelta(hours=1)).strftime("%H:%M:%S"),
        "closes_at_0": closes.strftime("%Y-%m-%d"),
        "closes_at_1": closes.strftime("%H:%M:%S"),
        "ask_participants": "on",
        "ask_mentors": "on",
        "statements-TOTAL_FORMS": "1",
        "statements-INITIAL_FORMS": "0",
        "statements-MIN_NUM_FORMS": "0",
        "statements-MAX_NUM_FORMS": "1000",
        "statements-0-position": "1",
        "statements-0-text": "멘토 피드백",
        "statements-0-tier": "essential",
        "statements-0-predicted_importance": "4",
    }
    mail.outbox.clear()
    client = admin_client_for(program_manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:assessments_valuesurvey_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    survey = ValueSurvey.objects.for_organization(organization).get(title="관리자 설문")
    invitations = rows(organization, kind=Kind.SURVEY_INVITATION)
    assert {n.subject_key.split(":")[1] for n in invitations} == {str(survey.pk)}
    assert {n.status for n in invitations} == {Notification.Status.SENT}
    assert sorted(m.to[0] for m in mail.outbox if "관리자 설문" in m.subject) == [
        "alex@startup.test",
        "mentor.park@hanbit.test",
        "minji@startup.test",
    ]
