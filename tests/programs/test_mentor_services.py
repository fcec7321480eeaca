"""The services the mentor portal calls: assignment with capacity, replies, mentee reads."""

import pytest
from django.core.exceptions import ValidationError

from mentors.models import Mentor
from programs import selectors, services
from programs.models import HelpRequest, MentorAssignment, Run
from tests.factories.programs import (
    CheckInFactory,
    EnrollmentFactory,
    HelpRequestFactory,
    MentorAssignmentFactory,
    MilestoneFactory,
    MilestoneProgressFactory,
    ProgramsMentorFactory,
    RunFactory,
)


@pytest.fixture
def events(monkeypatch):
    """Every event the programs services emit, in order."""
    emitted = []
    for module in (services.activity, services.enrollments):  # the sub-domains that emit events
        monkeypatch.setattr(module, "event_emit", lambda **kw: emitted.append(kw))
    return emitted


def test_mentor_assign_to_an_enrollment(organization, run, enrollment, program_mentor):
    assignment = services.mentor_assign(
        organization=organization, run=run, mentor=program_mentor, enrollment=enrollment
    )
    assert assignment.enrollment == enrollment
    again = services.mentor_assign(organization=organization, run=run, mentor=program_mentor, enrollment=enrollment)
    assert again == assignment
    run_wide = services.mentor_assign(organization=organization, run=run, mentor=program_mentor)
    assert run_wide.enrollment is None
    assert services.mentor_assign(organization=organization, run=run, mentor=program_mentor) == run_wide
    assert MentorAssignment.objects.for_organization(organization).count() == 2


def test_mentor_assign_refuses_beyond_capacity(organization, run, program_mentor):
    program_mentor.capacity = 2
    program_mentor.save()
    first, second, third = EnrollmentFactory.create_batch(3, run=run)
    services.mentor_assign(organization=organization, run=run, mentor=program_mentor, enrollment=first)
    services.mentor_assign(organization=organization, run=run, mentor=program_mentor, enrollment=second)
    with pytest.raises(ValidationError) as error:
        services.mentor_assign(organization=organization, run=run, mentor=program_mentor, enrollment=third)
    assert "capacity is 2" in error.value.message_dict["mentor"][0]
    assert MentorAssignment.objects.for_organization(organization).filter(enrollment=third).count() == 0


def test_capacity_counts_only_current_enrollments_of_active_runs(organization, run, program_mentor):
    program_mentor.capacity = 1
    program_mentor.save()
    finished = RunFactory(program=run.program, status=Run.Status.FINISHED)
    MentorAssignmentFactory(run=finished, mentor=program_mentor, enrollment=EnrollmentFactory(run=finished))
    dropped = EnrollmentFactory(run=run, status="dropped")
    MentorAssignmentFactory(run=run, mentor=program_mentor, enrollment=dropped)
    assert selectors.mentor_load(organization=organization, mentor=program_mentor) == 0
    services.mentor_assign(
        organization=organization, run=run, mentor=program_mentor, enrollment=EnrollmentFactory(run=run)
    )
    assert selectors.mentor_load(organization=organization, mentor=program_mentor) == 1


def test_mentor_assign_refuses_other_organizations_rows(
    organization, run, enrollment, program_mentor, other_program_mentor, other_run, other_enrollment
):
    with pytest.raises(ValidationError) as error:
        services.mentor_assign(organization=organization, run=run, mentor=other_program_mentor)
    assert "mentor" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.mentor_assign(organization=organization, run=other_run, mentor=program_mentor)
    assert "run" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.mentor_assign(organization=organization, run=run, mentor=program_mentor, enrollment=other_enrollment)
    assert "enrollment" in error.value.message_dict


def test_mentor_assign_refuses_an_enrollment_of_another_run(organization, run, program_mentor):
    elsewhere = EnrollmentFactory(run=RunFactory(program=run.program))
    with pytest.raises(ValidationError) as error:
        services.mentor_assign(organization=organization, run=run, mentor=program_mentor, enrollment=elsewhere)
    assert "not part of the run" in error.value.message_dict["enrollment"][0]


def test_mentor_assign_refuses_a_paused_mentor(organization, run, program_mentor):
    program_mentor.status = Mentor.Status.PAUSED
    program_mentor.save()
    with pytest.raises(ValidationError):
        services.mentor_assign(organization=organization, run=run, mentor=program_mentor)


def test_help_request_reply_records_first_response_once(organization, run, enrollment, program_mentor, events):
    MentorAssignmentFactory(run=run, mentor=program_mentor, enrollment=enrollment)
    help_request = HelpRequestFactory(enrollment=enrollment)
    first = services.help_request_reply(
        organization=organization,
        help_request=help_request,
        mentor=program_mentor,
        author=program_mentor.user,
        body="Try this.",
    )
    help_request.refresh_from_db()
    enrollment.refresh_from_db()
    assert help_request.status == HelpRequest.Status.ANSWERED
    assert help_request.first_response_at == first.created_at
    assert help_request.time_to_first_response.total_seconds() >= 0
    assert enrollment.last_contact_at is not None
    services.help_request_reply(
        organization=organization,
        help_request=help_request,
        mentor=program_mentor,
        author=program_mentor.user,
        body="And this.",
    )
    help_request.refresh_from_db()
    assert help_request.first_response_at == first.created_at
    assert [e["event"] for e in events] == ["help_request.answered", "help_request.answered"]
    assert events[0]["payload"]["help_request_id"] == help_request.id


def test_help_request_reply_refuses_a_mentor_it_is_not_routed_to(organization, run, enrollment, program_mentor):
    help_request = HelpRequestFactory(enrollment=enrollment)
    with pytest.raises(ValidationError):
        services.help_request_reply(
            organization=organization, help_request=help_request, mentor=program_mentor, author=None, body="Hi"
        )
    help_request.refresh_from_db()
    assert help_request.status == HelpRequest.Status.OPEN
    assert help_request.replies.count() == 0


def test_help_request_reply_refuses_an_empty_body_and_other_organizations(
    organization, enrollment, other_program_mentor
):
    help_request = HelpRequestFactory(enrollment=enrollment)
    with pytest.raises(ValidationError) as error:
        services.help_request_reply(
            organization=organization, help_request=help_request, mentor=None, author=None, body="  "
        )
    assert "body" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.help_request_reply(
            organization=organization, help_request=help_request, mentor=other_program_mentor, author=None, body="Hi"
        )


def test_enrollments_for_mentor_are_direct_assignments_only(organization, run, program_mentor, other_organization):
    mine, not_mine = EnrollmentFactory.create_batch(2, run=run)
    MentorAssignmentFactory(run=run, mentor=program_mentor, enrollment=mine)
    MentorAssignmentFactory(run=run, mentor=program_mentor)  # run-wide: not a mentee
    assert list(selectors.enrollments_for_mentor(organization=organization, mentor=program_mentor)) == [mine]


def test_open_help_requests_are_routed_to_direct_mentors_else_run_mentors(organization, run, program_mentor):
    run_mentor = ProgramsMentorFactory(organization=organization)
    MentorAssignmentFactory(run=run, mentor=run_mentor)
    with_mentor, without_mentor = EnrollmentFactory.create_batch(2, run=run)
    MentorAssignmentFactory(run=run, mentor=program_mentor, enrollment=with_mentor)
    to_direct = HelpRequestFactory(enrollment=with_mentor)
    to_run = HelpRequestFactory(enrollment=without_mentor)
    HelpRequestFactory(enrollment=with_mentor, status=HelpRequest.Status.RESOLVED)
    assert list(selectors.open_help_requests_for_mentor(organization=organization, mentor=program_mentor)) == [
        to_direct
    ]
    assert list(selectors.open_help_requests_for_mentor(organization=organization, mentor=run_mentor)) == [to_run]


def test_milestone_progress_and_latest_check_ins_for_enrollment(organization, run, enrollment):
    early = MilestoneFactory(run=run, days_before_deadline=30)
    late = MilestoneFactory(run=run, days_before_deadline=10)
    MilestoneProgressFactory(milestone=late, enrollment=enrollment, status="done")
    rows = selectors.milestone_progress_for_enrollment(organization=organization, enrollment=enrollment)
    assert [(r.milestone, r.status) for r in rows] == [(early, "not_started"), (late, "done")]
    check_ins = CheckInFactory.create_batch(7, enrollment=enrollment)
    latest = list(selectors.latest_check_ins(organization=organization, enrollment=enrollment, limit=5))
    assert len(latest) == 5
    assert latest[0] == check_ins[-1]
