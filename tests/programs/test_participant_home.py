"""The participant's home (their signed home link): everything that is theirs, and their commitments to edit."""

from __future__ import annotations

import datetime
import re

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from assessments import links as assessment_links
from assessments import services as assessment_services
from assessments.models import Assessment
from core.models import AuditEvent
from mentors import services as mentor_services
from mentors.models import SessionAttendance
from programs import links, selectors, services
from programs.models import Enrollment, HelpRequest
from tests.factories.assessments import AssessmentWindowFactory, ValueStatementFactory, ValueSurveyFactory
from tests.factories.core import UserFactory
from tests.factories.mentors import MentoringSessionFactory
from tests.factories.programs import (
    CheckInFactory,
    EnrollmentFactory,
    MentorAssignmentFactory,
    MilestoneFactory,
    MilestoneProgressFactory,
    ParticipantFactory,
    ProgramsMentorFactory,
    RunFactory,
    TeamFactory,
    TeamMembershipFactory,
)

pytestmark = pytest.mark.postgres


def _home(client, enrollment, lang="en"):
    response = client.get(links.participant_link(enrollment, lang=lang))
    assert response.status_code == 200
    return response.content.decode()


def _help_request(enrollment, act="Pricing test", replies=(), mentor=None):
    organization = enrollment.organization
    help_request = services.help_request_create(
        organization=organization, enrollment=enrollment, act=act, impact="No sales", desired_outcome="Advice"
    )
    for body in replies:
        services.help_request_reply(
            organization=organization, help_request=help_request, mentor=mentor, author=None, body=body
        )
    return help_request


def _attended(session, enrollment):
    return SessionAttendance.objects.create(organization=session.organization, session=session, enrollment=enrollment)


# --- what the home shows -------------------------------------------------------------------------


def test_the_home_shows_milestones_with_status_and_due_dates(client, enrollment):
    today = selectors.today_for(enrollment.organization)
    done = MilestoneFactory(run=enrollment.run, name="Ten interviews", due_on=today - datetime.timedelta(days=3))
    late = MilestoneFactory(run=enrollment.run, name="Landing page", due_on=today - datetime.timedelta(days=2))
    soon = MilestoneFactory(run=enrollment.run, name="First sale", due_on=today + datetime.timedelta(days=5))
    MilestoneProgressFactory(milestone=done, enrollment=enrollment, status="done")
    body = _home(client, enrollment)
    assert "1 of 3 done" in body
    for milestone in (done, late, soon):
        assert f"{milestone.name}" in body and milestone.due_on.strftime("%Y-%m-%d") in body
    assert "2 days late" in body and "in 5 days" in body
    assert body.count('class="badge overdue"') == 1  # the late one only


def test_every_help_request_is_listed_with_every_reply(client, enrollment, program_mentor):
    MentorAssignmentFactory(run=enrollment.run, mentor=program_mentor, enrollment=enrollment)
    program_mentor.user.name = "박서준"
    program_mentor.user.save()
    requests = [_help_request(enrollment, act=f"Question number {n}") for n in range(7)]
    _help_request(
        enrollment, act="The one with answers", mentor=program_mentor, replies=["First answer", "Second answer"]
    )
    archived = requests.pop()
    HelpRequest.objects.for_organization(enrollment.organization).filter(pk=archived.pk).update(
        archived_at=timezone.now()
    )
    body = _home(client, enrollment)
    for help_request in requests:  # more than the five the page used to show
        assert help_request.act in body
    assert archived.act not in body
    answered = body[body.index("The one with answers") :]
    assert "First answer" in answered and "Second answer" in answered and "박서준" in answered
    assert answered.index("First answer") < answered.index("Second answer")  # oldest reply first
    assert "No sales" in body and "Advice" in body  # impact and desired outcome too
    assert body.count("No reply yet.") == 6


def test_a_staff_reply_is_signed_by_the_program_team(client, enrollment):
    _help_request(enrollment, replies=["We booked you a session."])
    body = _home(client, enrollment)
    assert "We booked you a session." in body and "Program team" in body


def test_the_latest_check_ins_are_shown(client, enrollment):
    CheckInFactory(enrollment=enrollment, done="Interviewed five shop owners", next="Call them back", confidence=4)
    body = _home(client, enrollment)
    assert "Interviewed five shop owners" in body and "Call them back" in body and "confidence 4/5" in body


def test_open_self_assessments_link_to_the_page_and_say_when_done(client, enrollment, framework, levels):
    open_window = AssessmentWindowFactory(run=enrollment.run, framework=framework, kind="pre")
    now = timezone.now()
    AssessmentWindowFactory(  # closed: not listed
        run=enrollment.run,
        framework=framework,
        kind="mid",
        opens_at=now - datetime.timedelta(days=30),
        closes_at=now - datetime.timedelta(days=20),
    )
    AssessmentWindowFactory(  # another run's window: not listed
        run=RunFactory(program=enrollment.run.program), framework=framework, kind="pre"
    )
    body = _home(client, enrollment)
    link = assessment_links.self_assessment_link(window=open_window, enrollment=enrollment)
    hrefs = re.findall(r'href="(/a/self/[^"]+)"', body)
    assert len(hrefs) == 1 and body.count("/a/self/") == 1
    # The signed token carries the second it was signed: compare what it says (window, enrollment).
    assert hrefs[0].split(":")[0] == link.split(":")[0] and hrefs[0].endswith("/?lang=en")
    assert "Assess myself" in body and "Self-assessment: Pre (start of the run)" in body

    assessment_services.assessment_submit(
        organization=enrollment.organization,
        window=open_window,
        level=levels[2],
        assessor_role=Assessment.Role.SELF,
        subject_enrollment=enrollment,
        assessor_enrollment=enrollment,
    )
    body = _home(client, enrollment)
    assert "Review my self-assessment" in body and "Done; you can still change it" in body


def test_open_surveys_for_the_run_or_the_program_are_linked(client, enrollment, survey):
    program_wide = ValueSurveyFactory(program=enrollment.run.program, run=None, title="Program-wide survey")
    now = timezone.now()
    hidden = [
        ValueSurveyFactory(program=enrollment.run.program, run=RunFactory(program=enrollment.run.program)),
        ValueSurveyFactory(program=enrollment.run.program, run=enrollment.run, ask_participants=False),
        ValueSurveyFactory(
            program=enrollment.run.program,
            run=enrollment.run,
            opens_at=now + datetime.timedelta(days=1),
            closes_at=now + datetime.timedelta(days=9),
        ),
        ValueSurveyFactory(
            program=enrollment.run.program,
            run=enrollment.run,
            opens_at=now - datetime.timedelta(days=9),
            closes_at=now - datetime.timedelta(days=1),
        ),
    ]
    body = _home(client, enrollment)
    for shown in (survey, program_wide):
        assert shown.title in body
        assert assessment_links.survey_link(survey=shown, enrollment=enrollment) in body
    for other in hidden:
        assert other.title not in body
    assert body.count("/a/survey/") == 2 and body.count("Answer the survey") == 2


def test_an_answered_survey_says_so_anonymous_ones_too(client, enrollment, survey):
    anonymous = ValueSurveyFactory(program=enrollment.run.program, run=enrollment.run, is_anonymous=True)
    statement = ValueStatementFactory(survey=anonymous)
    for answered, ratings in ((survey, {s.pk: (4, 3) for s in survey.statements.all()}), (anonymous, {})):
        assessment_services.survey_response_submit(
            organization=enrollment.organization,
            survey=answered,
            enrollment=enrollment,
            ratings=ratings or {statement.pk: (5, 5)},
        )
    body = _home(client, enrollment)
    assert body.count("Answered; you can still change it") == 2 and "Answer the survey" not in body


def test_sessions_attended_and_not_rated_ask_for_a_rating(client, enrollment, program_mentor):
    MentorAssignmentFactory(run=enrollment.run, mentor=program_mentor, enrollment=enrollment)
    attended = MentoringSessionFactory(mentor=program_mentor, topics="Pricing page review")
    rated = MentoringSessionFactory(mentor=program_mentor, topics="Already rated")
    not_there = MentoringSessionFactory(mentor=program_mentor, topics="Someone else's session")
    for session in (attended, rated):
        _attended(session, enrollment)
    _attended(not_there, EnrollmentFactory(run=enrollment.run))
    mentor_services.session_rate(
        organization=enrollment.organization, session=rated, participant=enrollment.participant, score=5
    )
    body = _home(client, enrollment)
    assert "Pricing page review" in body
    assert "Already rated" not in body and "Someone else's session" not in body
    link = re.search(r'href="([^"]*/rate/[^"]+/)"', body)
    assert link, "no rating link"
    # The link is the one the mentors app mails: it opens the rating form of that session.
    page = client.get(link.group(1))
    assert page.status_code == 200 and 'name="score"' in page.content.decode()
    assert attended.held_on.strftime("%Y-%m-%d") in page.content.decode()


def test_a_team_home_asks_no_member_to_rate_for_the_others(client, run, program_mentor):
    team = TeamFactory(organization=run.organization)
    TeamMembershipFactory(team=team, participant=ParticipantFactory(organization=run.organization))
    enrollment = EnrollmentFactory(run=run, participant=None, team=team)
    session = MentoringSessionFactory(mentor=program_mentor, topics="Team session")
    _attended(session, enrollment)
    body = _home(client, enrollment)
    assert "Team session" not in body and team.name in body


def test_the_run_calendar_link_is_offered(client, enrollment):
    body = _home(client, enrollment)
    path = reverse("programs:run_calendar", args=[enrollment.organization.slug, enrollment.run.calendar_token])
    assert f'value="http://testserver{path}"' in body
    assert f'href="webcal://testserver{path}"' in body
    assert client.get(path).status_code == 200


def test_times_are_in_the_organizations_time_zone(client, other_enrollment):
    help_request = _help_request(other_enrollment, act="London question")
    moment = datetime.datetime(2026, 7, 1, 23, 30, tzinfo=datetime.UTC)  # 00:30 in London (BST)
    HelpRequest.objects.for_organization(other_enrollment.organization).filter(pk=help_request.pk).update(
        created_at=moment
    )
    body = _home(client, other_enrollment)
    assert "2026-07-02 00:30" in body


def test_the_home_speaks_the_participants_language(client, enrollment):
    body = _home(client, enrollment, lang=None)
    assert '<html lang="ko">' in body and "체크인" in body and "내 도움 요청" in body


# --- commitments -------------------------------------------------------------------------------


def test_every_commitment_is_shown_as_its_own_item(client, enrollment):
    enrollment.commitments = "- Five interviews a week\n2) Check in every Friday\n\n• Send questions in AID form"
    enrollment.save()
    body = _home(client, enrollment)
    items = re.findall(r"<li>(.*?)</li>", body[body.index("commitment-list") :])
    assert items[:3] == ["Five interviews a week", "Check in every Friday", "Send questions in AID form"]


def test_commitment_items_split_lines_and_drop_markers():
    assert selectors.commitment_items("") == []
    assert selectors.commitment_items("매주 인터뷰 5회, 금요일 체크인") == ["매주 인터뷰 5회, 금요일 체크인"]
    assert selectors.commitment_items("1. a\r\n * b \n\n①c\n-3% churn") == ["a", "b", "c", "3% churn"]


def test_the_participant_edits_their_success_definition_and_commitments(client, enrollment):
    url = links.participant_link(enrollment, lang="en")
    response = client.post(
        url, {"success_definition": "  Three paying shops  \r\n", "commitments": "Ten calls a week\r\nDemo on Friday"}
    )
    assert response.status_code == 302
    assert "saved=commitments" in response["Location"] and response["Location"].endswith("#my-commitments")
    enrollment.refresh_from_db()
    assert enrollment.success_definition == "Three paying shops"
    assert enrollment.commitments == "Ten calls a week\nDemo on Friday"
    assert enrollment.last_contact_at is not None
    event = AuditEvent.objects.for_organization(enrollment.organization).get(
        content_type=ContentType.objects.get_for_model(Enrollment), object_id=str(enrollment.pk), action="update"
    )
    assert event.actor_id is None  # the holder of the link, not a user
    assert event.changes["success_definition"] == ["Ten paying customers before demo day.", "Three paying shops"]
    assert event.changes["commitments"] == ["", "Ten calls a week\nDemo on Friday"]
    body = client.get(response["Location"]).content.decode()
    assert "Your definition of success and commitments were saved." in body
    assert "<li>Ten calls a week</li>" in body and "<li>Demo on Friday</li>" in body


def test_saving_unchanged_text_records_nothing(client, enrollment):
    url = links.participant_link(enrollment, lang="en")
    before = AuditEvent.objects.for_organization(enrollment.organization).count()
    response = client.post(url, {"success_definition": enrollment.success_definition, "commitments": ""})
    assert response.status_code == 302
    assert AuditEvent.objects.for_organization(enrollment.organization).count() == before


def test_too_long_text_gets_a_form_error_and_saves_nothing(client, enrollment):
    url = links.participant_link(enrollment, lang="en")
    before = AuditEvent.objects.for_organization(enrollment.organization).count()
    response = client.post(url, {"success_definition": "ok", "commitments": "x" * 4001})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Ensure this value has at most 4000 characters" in body
    assert '<details class="edit" open>' in body  # the form stays open with its error
    enrollment.refresh_from_db()
    assert enrollment.success_definition == "Ten paying customers before demo day." and enrollment.commitments == ""
    assert AuditEvent.objects.for_organization(enrollment.organization).count() == before


def test_a_null_character_is_a_form_error_not_a_server_error(client, enrollment):
    response = client.post(links.participant_link(enrollment, lang="en"), {"success_definition": "a\x00b"})
    assert response.status_code == 200 and "Null characters are not allowed" in response.content.decode()


def test_the_service_refuses_too_long_text_before_saving_anything(enrollment):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        services.enrollment_commitments_update(
            organization=enrollment.organization,
            enrollment=enrollment,
            success_definition="fine",
            commitments="x" * 4001,
        )
    assert set(error.value.message_dict) == {"commitments"}
    enrollment.refresh_from_db()
    assert enrollment.success_definition == "Ten paying customers before demo day."


def test_the_service_refuses_another_organizations_enrollment(organization, other_enrollment):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.enrollment_commitments_update(
            organization=organization, enrollment=other_enrollment, success_definition="x", commitments="y"
        )


def test_a_purpose_link_cannot_edit_commitments(client, enrollment):
    token = links.participant_token(enrollment, links.PURPOSE_CHECK_IN)
    data = {"success_definition": "Hijacked", "commitments": "Hijacked"}
    # The token's own page answers (a check-in form, here refused as empty) ...
    assert client.post(reverse("programs:participant", args=[token]), data).status_code == 200
    # ... and no page of that link reads or writes the commitments.
    for name in ("participant_progress", "participant_help"):
        assert client.post(reverse(f"programs:{name}", args=[token]), data).status_code == 403
    enrollment.refresh_from_db()
    assert enrollment.success_definition == "Ten paying customers before demo day."


# --- the wrong organization ----------------------------------------------------------------------


def test_another_organizations_link_neither_reads_nor_changes_this_home(client, enrollment, other_enrollment):
    _help_request(enrollment, act="Our secret question", replies=["Our secret answer"])
    ValueSurveyFactory(program=enrollment.run.program, run=enrollment.run, title="Our survey")
    other_body = _home(client, other_enrollment)
    assert "Our secret question" not in other_body and "Our secret answer" not in other_body
    assert "Our survey" not in other_body

    # A correctly signed token that names the other organization with this enrollment's id
    # (as if the secret leaked): the other organization's scope finds nothing.
    forged = signing.dumps(
        {"o": other_enrollment.organization_id, "e": enrollment.pk, "p": "home", "x": 2**40},
        salt=links.SALT,
        compress=True,
    )
    url = reverse("programs:participant", args=[forged])
    response = client.get(url)
    assert response.status_code == 410
    assert "Our secret question" not in response.content.decode()
    response = client.post(url, {"success_definition": "Hijacked", "commitments": "Hijacked"})
    assert response.status_code == 410
    enrollment.refresh_from_db()
    assert enrollment.success_definition == "Ten paying customers before demo day." and enrollment.commitments == ""


# --- speed ---------------------------------------------------------------------------------------


def _grow(enrollment, mentor, framework, n: int):
    run = enrollment.run
    for i in range(n):
        milestone = MilestoneFactory(run=run, name=f"Milestone {n}-{i}")
        MilestoneProgressFactory(milestone=milestone, enrollment=enrollment, status="in_progress")
        CheckInFactory(enrollment=enrollment, done=f"Check-in {n}-{i}")
        _help_request(
            enrollment, act=f"Request {n}-{i}", mentor=mentor, replies=[f"Reply {n}-{i}-a", f"Reply {n}-{i}-b"]
        )
        session = MentoringSessionFactory(mentor=mentor, topics=f"Session {n}-{i}")
        _attended(session, enrollment)
        ValueSurveyFactory(program=run.program, run=run, title=f"Survey {n}-{i}")
        AssessmentWindowFactory(run=run, framework=framework, kind="custom", name=f"Window {n}-{i}")


def test_the_home_takes_the_same_queries_whatever_its_size(client, enrollment, framework):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    mentor = ProgramsMentorFactory(organization=enrollment.organization, user=UserFactory(name="Mentor"))
    MentorAssignmentFactory(run=enrollment.run, mentor=mentor, enrollment=enrollment)
    url = links.participant_link(enrollment, lang="en")
    counts = {}
    for size, total in ((2, 2), (10, 12)):
        _grow(enrollment, mentor, framework, size)
        with CaptureQueriesContext(connection) as captured:
            body = client.get(url).content.decode()
        counts[total] = len(captured)
        assert body.count('class="card help-request"') == total
        assert body.count("/rate/") == total and body.count("/a/survey/") == total and body.count("/a/self/") == total
        assert body.count('class="card milestone"') == total and f"Reply {size}-{size - 1}-b" in body
    assert counts[2] == counts[12], counts


@pytest.mark.parametrize("size", [3, 15])
def test_the_home_stays_within_its_query_budget(client, enrollment, framework, size, django_assert_max_num_queries):
    mentor = ProgramsMentorFactory(organization=enrollment.organization, user=UserFactory(name="Mentor"))
    MentorAssignmentFactory(run=enrollment.run, mentor=mentor, enrollment=enrollment)
    _grow(enrollment, mentor, framework, size)
    with django_assert_max_num_queries(19):  # 18, and one for the upcoming office hours (officehours)
        response = client.get(links.participant_link(enrollment, lang="en"))
    assert response.content.decode().count('class="card help-request"') == size
