"""The programs API: every endpoint scoped, filtered, ordered, paginated; bad input is a 400."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from programs.models import CheckIn, Enrollment, HelpRequest, MentorAssignment, Milestone, Run
from tests.factories.programs import (
    CheckInFactory,
    EnrollmentFactory,
    HelpRequestFactory,
    HelpRequestReplyFactory,
    MentorAssignmentFactory,
    MilestoneFactory,
    MilestoneProgressFactory,
    MilestoneTemplateFactory,
    ParticipantFactory,
    ProgramFactory,
    RunFactory,
    TeamFactory,
    TeamMembershipFactory,
)


def make_row(kind, run):
    """One row of each endpoint's model, inside the run's organization."""
    enrollment = EnrollmentFactory(run=run)
    return {
        "programs": lambda: ProgramFactory(organization=run.organization),
        "milestone-templates": lambda: MilestoneTemplateFactory(program=run.program),
        "runs": lambda: RunFactory(program=run.program),
        "participants": lambda: ParticipantFactory(organization=run.organization),
        "teams": lambda: TeamMembershipFactory(team=TeamFactory(organization=run.organization)).team,
        "team-memberships": lambda: TeamMembershipFactory(team=TeamFactory(organization=run.organization)),
        "enrollments": lambda: enrollment,
        "mentor-assignments": lambda: MentorAssignmentFactory(run=run, enrollment=enrollment),
        "milestones": lambda: MilestoneFactory(run=run),
        "milestone-progress": lambda: MilestoneProgressFactory(
            milestone=MilestoneFactory(run=run), enrollment=enrollment
        ),
        "check-ins": lambda: CheckInFactory(enrollment=enrollment),
        "help-requests": lambda: HelpRequestFactory(enrollment=enrollment),
        "help-request-replies": lambda: HelpRequestReplyFactory(help_request=HelpRequestFactory(enrollment=enrollment)),
    }[kind]()


ENDPOINTS = [
    "programs",
    "milestone-templates",
    "runs",
    "participants",
    "teams",
    "team-memberships",
    "enrollments",
    "mentor-assignments",
    "milestones",
    "milestone-progress",
    "check-ins",
    "help-requests",
    "help-request-replies",
]


def url(organization, endpoint, pk=None, action=None):
    base = f"/api/v1/orgs/{organization.slug}/{endpoint}/"
    if pk is not None:
        base += f"{pk}/"
    if action:
        base += f"{action}/"
    return base


@pytest.fixture
def pm_api(program_manager, api_client_for):
    return api_client_for(program_manager)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_lists_show_only_the_organizations_rows(pm_api, organization, run, other_run, endpoint):
    mine = make_row(endpoint, run)
    foreign = make_row(endpoint, other_run)
    response = pm_api.get(url(organization, endpoint))
    assert response.status_code == 200
    ids = {row["id"] for row in response.json()["results"]}
    assert mine.pk in ids and foreign.pk not in ids


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_another_organizations_object_answers_404(pm_api, organization, other_run, endpoint):
    foreign = make_row(endpoint, other_run)
    assert pm_api.get(url(organization, endpoint, foreign.pk)).status_code == 404
    assert pm_api.delete(url(organization, endpoint, foreign.pk)).status_code in (404, 405)
    assert type(foreign).objects.dangerously_all_organizations().filter(pk=foreign.pk).exists()


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_lists_make_a_constant_number_of_queries(pm_api, organization, run, endpoint):
    make_row(endpoint, run)
    pm_api.get(url(organization, endpoint))
    with CaptureQueriesContext(connection) as few:
        pm_api.get(url(organization, endpoint))
    for _ in range(6):
        make_row(endpoint, run)
    with CaptureQueriesContext(connection) as many:
        response = pm_api.get(url(organization, endpoint))
    assert response.status_code == 200
    assert len(many) == len(few)


def test_a_member_of_another_organization_gets_404(other_program_manager, api_client_for, organization, run):
    assert api_client_for(other_program_manager).get(url(organization, "runs")).status_code == 404


def test_viewers_read_but_do_not_write(viewer, api_client_for, organization, program):
    client = api_client_for(viewer)
    assert client.get(url(organization, "programs")).status_code == 200
    assert client.post(url(organization, "programs"), {"name": "x"}).status_code == 403


def test_filters_and_ordering(pm_api, organization, run):
    EnrollmentFactory(run=run, status="dropped")
    active = EnrollmentFactory(run=run, status="active")
    EnrollmentFactory(run=RunFactory(program=run.program), status="active")
    response = pm_api.get(url(organization, "enrollments"), {"run": run.pk, "status": "active"})
    assert [row["id"] for row in response.json()["results"]] == [active.pk]
    MilestoneFactory(run=run, name="late", days_before_deadline=5)
    MilestoneFactory(run=run, name="early", days_before_deadline=40)
    names = [m["name"] for m in pm_api.get(url(organization, "milestones"), {"ordering": "due_on"}).json()["results"]]
    assert names == ["early", "late"]


def test_filtering_by_another_organizations_run_is_a_400(pm_api, organization, other_run):
    response = pm_api.get(url(organization, "enrollments"), {"run": other_run.pk})
    assert response.status_code == 400


def test_pagination(pm_api, organization, run):
    for _ in range(3):
        ParticipantFactory(organization=organization)
    first = pm_api.get(url(organization, "participants"), {"page_size": 2}).json()
    assert len(first["results"]) == 2 and first["next"]


def test_run_with_bad_dates_is_a_400_and_saves_nothing(pm_api, organization, program):
    response = pm_api.post(
        url(organization, "runs"),
        {
            "program": program.pk,
            "name": "거꾸로",
            "starts_on": "2026-05-01",
            "ends_on": "2026-04-01",
            "final_deadline": "2026-03-01",
        },
        format="json",
    )
    assert response.status_code == 400
    body = str(response.json())
    assert "end before it starts" in body
    assert not Run.objects.for_organization(organization).filter(name="거꾸로").exists()


def test_a_run_for_another_organizations_program_is_a_400(pm_api, organization, other_run):
    response = pm_api.post(
        url(organization, "runs"),
        {
            "program": other_run.program.pk,
            "name": "x",
            "starts_on": "2026-01-01",
            "ends_on": "2026-02-01",
            "final_deadline": "2026-01-30",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "program" in str(response.json())


def test_a_duplicate_enrollment_is_a_400(pm_api, organization, enrollment):
    response = pm_api.post(
        url(organization, "enrollments"),
        {"run": enrollment.run_id, "participant": enrollment.participant_id},
        format="json",
    )
    assert response.status_code == 400
    assert "already enrolled" in str(response.json())
    assert Enrollment.objects.for_organization(organization).count() == 1


def test_creating_an_enrollment_emits_an_event(pm_api, organization, run, monkeypatch):
    from programs import services

    emitted = []
    monkeypatch.setattr(services.enrollments, "event_emit", lambda **kw: emitted.append(kw["event"]))
    participant = ParticipantFactory(organization=organization)
    response = pm_api.post(
        url(organization, "enrollments"), {"run": run.pk, "participant": participant.pk}, format="json"
    )
    assert response.status_code == 201
    pm_api.patch(url(organization, "enrollments", response.json()["id"]), {"status": "completed"}, format="json")
    assert emitted == ["enrollment.created", "enrollment.updated"]


def test_a_malformed_email_is_a_400(pm_api, organization):
    response = pm_api.post(url(organization, "participants"), {"name": "X", "email": "not-an-email"}, format="json")
    assert response.status_code == 400
    assert "email" in response.json().get("errors", response.json()) or "email" in str(response.json())


def test_an_unknown_mentor_is_a_400(pm_api, organization, run):
    response = pm_api.post(url(organization, "mentor-assignments"), {"run": run.pk, "mentor": 999999}, format="json")
    assert response.status_code == 400
    assert "mentor" in str(response.json())


def test_mentor_capacity_is_a_400(pm_api, organization, run, program_mentor):
    program_mentor.capacity = 0
    program_mentor.save()
    enrollment = EnrollmentFactory(run=run)
    response = pm_api.post(
        url(organization, "mentor-assignments"),
        {"run": run.pk, "mentor": program_mentor.pk, "enrollment": enrollment.pk},
        format="json",
    )
    assert response.status_code == 400
    assert "capacity" in str(response.json())
    assert not MentorAssignment.objects.for_organization(organization).exists()


def test_a_milestone_for_another_organizations_run_is_a_400(pm_api, organization, other_run):
    response = pm_api.post(
        url(organization, "milestones"),
        {"run": other_run.pk, "name": "x", "days_before_deadline": 3, "due_on": "2026-06-01"},
        format="json",
    )
    assert response.status_code == 400
    assert not Milestone.objects.dangerously_all_organizations().filter(name="x").exists()


def test_plan_and_move_deadline_through_the_api(pm_api, organization, run):
    MilestoneTemplateFactory(program=run.program, name="피치덱", days_before_deadline=14)
    response = pm_api.post(url(organization, "runs", run.pk, "plan"), {}, format="json")
    assert response.status_code == 200
    assert response.json()[0]["due_on"] == "2026-06-12"
    patch = pm_api.patch(url(organization, "runs", run.pk), {"final_deadline": "2026-06-19"}, format="json")
    assert patch.status_code == 400
    preview = pm_api.post(
        url(organization, "runs", run.pk, "move-deadline"), {"final_deadline": "2026-06-19"}, format="json"
    )
    assert preview.status_code == 200
    row = preview.json()["rows"][0]
    assert (row["old_due_on"], row["new_due_on"], preview.json()["applied"]) == ("2026-06-12", "2026-06-05", False)
    run.refresh_from_db()
    assert run.final_deadline == datetime.date(2026, 6, 26)
    applied = pm_api.post(
        url(organization, "runs", run.pk, "move-deadline"),
        {"final_deadline": "2026-06-19", "confirm": True},
        format="json",
    )
    assert applied.json()["applied"] is True
    assert Milestone.objects.for_organization(organization).get().due_on == datetime.date(2026, 6, 5)


def test_moving_the_deadline_before_the_start_is_a_400(pm_api, organization, run):
    response = pm_api.post(
        url(organization, "runs", run.pk, "move-deadline"),
        {"final_deadline": "2020-01-01", "confirm": True},
        format="json",
    )
    assert response.status_code == 400
    run.refresh_from_db()
    assert run.final_deadline == datetime.date(2026, 6, 26)


def test_check_ins_and_help_requests_go_through_the_services(pm_api, organization, enrollment, program_manager):
    response = pm_api.post(
        url(organization, "check-ins"), {"enrollment": enrollment.pk, "done": "인터뷰 3건"}, format="json"
    )
    assert response.status_code == 201
    enrollment.refresh_from_db()
    assert enrollment.last_contact_at is not None
    help_request = pm_api.post(
        url(organization, "help-requests"),
        {"enrollment": enrollment.pk, "act": "a", "impact": "b", "desired_outcome": "c"},
        format="json",
    ).json()
    reply = pm_api.post(
        url(organization, "help-requests", help_request["id"], "reply"), {"body": "도와줄게요"}, format="json"
    )
    assert reply.status_code == 201
    answered = pm_api.get(url(organization, "help-requests", help_request["id"])).json()
    assert answered["status"] == "answered" and answered["time_to_first_response_seconds"] is not None
    pm_api.post(url(organization, "help-requests", help_request["id"], "resolve"))
    assert HelpRequest.objects.for_organization(organization).get().status == "resolved"
    assert CheckIn.objects.for_organization(organization).count() == 1


def test_milestone_progress_posting_twice_updates(pm_api, organization, enrollment):
    milestone = MilestoneFactory(run=enrollment.run)
    data = {"enrollment": enrollment.pk, "milestone": milestone.pk, "status": "in_progress"}
    first = pm_api.post(url(organization, "milestone-progress"), data, format="json")
    second = pm_api.post(url(organization, "milestone-progress"), {**data, "status": "done"}, format="json")
    assert first.json()["id"] == second.json()["id"]
    assert second.json()["status"] == "done"


def test_milestone_progress_for_a_milestone_of_another_run_is_a_400(pm_api, organization, enrollment, run):
    elsewhere = MilestoneFactory(run=RunFactory(program=run.program))
    response = pm_api.post(
        url(organization, "milestone-progress"),
        {"enrollment": enrollment.pk, "milestone": elsewhere.pk, "status": "done"},
        format="json",
    )
    assert response.status_code == 400


def test_the_schema_documents_the_programs_endpoints(pm_api):
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("spectacular", stdout=out)
    schema = out.getvalue()
    for endpoint in ENDPOINTS:
        assert f"/api/v1/orgs/{{org_slug}}/{endpoint}/" in schema
    assert "move-deadline" in schema


def test_deleting_a_mentor_assignment_unassigns_through_the_service(pm_api, organization, run, program_mentor):
    from core.models import AuditEvent
    from programs.models import MentorAssignment
    from tests.factories.programs import EnrollmentFactory, MentorAssignmentFactory

    assignment = MentorAssignmentFactory(run=run, mentor=program_mentor, enrollment=EnrollmentFactory(run=run))
    response = pm_api.delete(url(organization, "mentor-assignments", assignment.pk))
    assert response.status_code == 204
    assert not MentorAssignment.objects.filter(pk=assignment.pk).exists()
    assert AuditEvent.objects.filter(organization=organization, object_id=str(assignment.pk), action="delete").exists()
