"""The audit trail of service writes that bypass signals, and of deleting a whole organization.

``bulk_create`` and ``QuerySet.update()`` send no ``post_save``: the services that use
them write the trail themselves (:func:`core.audit.audit_record_bulk`). Each test acts
as a request would, in one organization's row-level-security context with the acting
user, and then reads the ``AuditEvent`` rows that were written.
"""

from __future__ import annotations

import datetime
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone

from assessments.models import Assessment, EvidenceReference, Indicator, Observation, StatementRating
from assessments.services import (
    ObservationInput,
    assessment_revise,
    assessment_submit,
    framework_create_default,
    survey_response_submit,
)
from core import audit, rls
from core.models import AuditEvent, Membership, Organization
from mentors import services as mentor_services
from mentors.models import KeyResultReading, MentorInvitation, SessionAttendance
from programs import services as program_services
from programs.models import Program
from tests.factories.core import MembershipFactory
from tests.factories.mentors import DevelopmentGoalFactory, KeyResultFactory, MentorFactory
from tests.factories.programs import CheckInFactory, EnrollmentFactory, HelpRequestFactory, ProgramFactory


@contextmanager
def acting_in(organization, user=None):
    """What a request of ``user`` in ``organization`` runs in: that organization's rows only."""
    previous = rls.current()
    rls.activate(organization.pk, user=user)
    try:
        yield
    finally:
        rls._apply(previous)


def trail(model, organization=None, **filters):
    """The audit events of ``model``'s rows, oldest first (read as the observer: every organization)."""
    events = AuditEvent.objects.dangerously_all_organizations().filter(
        content_type=ContentType.objects.get_for_model(model), **filters
    )
    if organization is not None:
        events = events.filter(organization=organization)
    return list(events.select_related("actor").order_by("id"))


def new_values(event) -> dict:
    return {name: new for name, (_old, new) in event.changes.items()}


# --- assessments -----------------------------------------------------------------------------


def test_the_default_frameworks_indicators_are_recorded(organization, program_manager):
    with acting_in(organization, program_manager):
        framework = framework_create_default(organization=organization)
    indicators = list(Indicator.objects.for_organization(organization).filter(level__framework=framework))
    events = trail(Indicator)
    assert len(indicators) > 0
    assert sorted(int(e.object_id) for e in events) == sorted(i.pk for i in indicators)
    by_id = {int(e.object_id): e for e in events}
    for indicator in indicators:
        event = by_id[indicator.pk]
        assert event.action == AuditEvent.Action.CREATE
        assert event.actor == program_manager
        assert event.organization_id == organization.pk
        assert event.object_repr == str(indicator)
        assert new_values(event)["level_id"] == indicator.level_id
        assert new_values(event)["text_ko"] == indicator.text_ko
        assert new_values(event)["position"] == indicator.position


def test_an_assessments_observations_and_evidence_are_recorded_when_written_and_replaced(
    open_window, enrollment, levels, program_manager
):
    organization = open_window.organization
    first, second = list(levels[2].indicators.order_by("position")[:2])
    check_in = CheckInFactory(enrollment=enrollment)
    help_request = HelpRequestFactory(enrollment=enrollment)

    with acting_in(organization, program_manager):
        assessment = assessment_submit(
            organization=organization,
            window=open_window,
            subject_enrollment=enrollment,
            assessor_role=Assessment.Role.SELF,
            level=levels[2],
            observations=[ObservationInput(indicator=first, note="Week 2 test")],
            check_ins=[check_in],
        )
    old_observation = assessment.observations.get()
    old_reference = assessment.references.get()
    [created] = trail(Observation)
    assert (created.action, created.object_id, created.actor) == ("create", str(old_observation.pk), program_manager)
    assert created.organization_id == organization.pk
    assert created.changes == {
        "organization_id": [None, organization.pk],
        "assessment_id": [None, assessment.pk],
        "indicator_id": [None, first.pk],
        "note": [None, "Week 2 test"],
    }
    [reference] = trail(EvidenceReference)
    assert (reference.action, reference.object_id) == ("create", str(old_reference.pk))
    assert new_values(reference)["check_in_id"] == check_in.pk
    assert "help_request_id" not in reference.changes

    with acting_in(organization, program_manager):
        assessment_revise(
            organization=organization,
            assessment=assessment,
            level=levels[2],
            observations=[ObservationInput(indicator=second, note="Week 4 interviews")],
            help_requests=[help_request],
        )
    new_observation = assessment.observations.get()
    new_reference = assessment.references.get()
    events = trail(Observation)
    assert [(e.action, e.object_id) for e in events] == [
        ("create", str(old_observation.pk)),
        ("delete", str(old_observation.pk)),
        ("create", str(new_observation.pk)),
    ]
    assert events[1].changes["indicator_id"] == [first.pk, None]
    assert new_values(events[2])["indicator_id"] == second.pk
    assert new_values(events[2])["note"] == "Week 4 interviews"
    assert all(e.actor == program_manager for e in events)
    references = trail(EvidenceReference)
    assert [(e.action, e.object_id) for e in references] == [
        ("create", str(old_reference.pk)),
        ("delete", str(old_reference.pk)),
        ("create", str(new_reference.pk)),
    ]
    assert new_values(references[2])["help_request_id"] == help_request.pk


def test_statement_ratings_are_recorded_when_given_and_when_replaced(survey, enrollment, program_manager):
    organization = survey.organization
    statements = list(survey.statements.order_by("position"))
    with acting_in(organization, program_manager):
        response = survey_response_submit(
            organization=organization, survey=survey, enrollment=enrollment, ratings={s.pk: (4, 2) for s in statements}
        )
    first_ratings = {r.statement_id: r.pk for r in response.ratings.all()}
    events = trail(StatementRating)
    assert {e.action for e in events} == {"create"}
    assert {int(e.object_id) for e in events} == set(first_ratings.values())
    assert sorted(
        (new_values(e)["statement_id"], new_values(e)["importance"], new_values(e)["satisfaction"]) for e in events
    ) == [(s.pk, 4, 2) for s in statements]
    assert all(new_values(e)["response_id"] == response.pk and e.actor == program_manager for e in events)

    with acting_in(organization, program_manager):
        survey_response_submit(
            organization=organization, survey=survey, enrollment=enrollment, ratings={s.pk: (5, 1) for s in statements}
        )
    second_ratings = {r.statement_id: r.pk for r in response.ratings.all()}
    later = trail(StatementRating)[len(events) :]
    deleted = [e for e in later if e.action == "delete"]
    created = [e for e in later if e.action == "create"]
    assert len(later) == 2 * len(statements)
    assert {int(e.object_id) for e in deleted} == set(first_ratings.values())
    assert all(e.changes["importance"] == [4, None] for e in deleted)
    assert {int(e.object_id) for e in created} == set(second_ratings.values())
    assert all(new_values(e)["importance"] == 5 and new_values(e)["satisfaction"] == 1 for e in created)


# --- mentors ---------------------------------------------------------------------------------


def test_a_goal_check_ins_key_result_readings_are_recorded(organization, goal, mentor_user):
    first, second = goal.key_results.order_by("id")
    with acting_in(organization, mentor_user):
        check_in = mentor_services.goal_check_in(
            organization=organization, goal=goal, confidence=4, values={first.pk: "1"}, note="One workshop given"
        )
    readings = {r.key_result_id: r for r in KeyResultReading.objects.for_organization(organization)}
    events = trail(KeyResultReading)
    assert sorted(int(e.object_id) for e in events) == sorted(r.pk for r in readings.values())
    for event in events:
        values = new_values(event)
        assert event.action == AuditEvent.Action.CREATE
        assert event.actor == mentor_user
        assert event.organization_id == organization.pk
        assert values["check_in_id"] == check_in.pk
        assert Decimal(values["value"]) == readings[values["key_result_id"]].value
    assert {new_values(e)["key_result_id"]: Decimal(new_values(e)["value"]) for e in events} == {
        first.pk: Decimal(1),
        second.pk: Decimal(3),
    }


@pytest.fixture
def second_mentee(run, portal_mentor):
    enrollment = EnrollmentFactory(run=run)
    program_services.mentor_assign(organization=run.organization, run=run, mentor=portal_mentor, enrollment=enrollment)
    return enrollment


def test_session_attendance_is_recorded_when_logged_and_when_changed(
    organization, portal_mentor, mentor_user, mentee, second_mentee
):
    with acting_in(organization, mentor_user):
        session = mentor_services.session_log(
            organization=organization,
            mentor=portal_mentor,
            held_on=timezone.localdate() - datetime.timedelta(days=1),
            attendees=[mentee],
            request_ratings=False,
        )
    present = session.attendance.get()
    [logged] = trail(SessionAttendance)
    assert (logged.action, logged.object_id, logged.actor) == ("create", str(present.pk), mentor_user)
    assert logged.organization_id == organization.pk
    assert logged.changes == {
        "organization_id": [None, organization.pk],
        "session_id": [None, session.pk],
        "enrollment_id": [None, mentee.pk],
    }

    with acting_in(organization, mentor_user):
        mentor_services.session_update(organization=organization, session=session, attendees=[second_mentee])
    replacement = session.attendance.get()
    events = trail(SessionAttendance)
    assert [(e.action, e.object_id) for e in events] == [
        ("create", str(present.pk)),
        ("delete", str(present.pk)),
        ("create", str(replacement.pk)),
    ]
    assert events[1].changes["enrollment_id"] == [mentee.pk, None]
    assert new_values(events[2])["enrollment_id"] == second_mentee.pk
    assert all(e.actor == mentor_user for e in events)


def test_an_invitation_that_a_new_one_replaces_records_its_expiry(organization, program_manager):
    def invite():
        invitation, _token = mentor_services.invitation_create(
            organization=organization, email="new.mentor@example.com", invited_by=program_manager, send_email=False
        )
        return invitation

    with acting_in(organization, program_manager):
        first = invite()
        valid_until = first.expires_at
        second = invite()
    first.refresh_from_db()
    assert first.expires_at < valid_until
    events = trail(MentorInvitation, object_id=str(first.pk))
    assert [e.action for e in events] == ["create", "update"]
    expired = events[1]
    assert expired.actor == program_manager
    assert expired.organization_id == organization.pk
    assert expired.changes == {"expires_at": audit._jsonable([valid_until, first.expires_at])}
    assert [e.action for e in trail(MentorInvitation, object_id=str(second.pk))] == ["create"]


def test_an_invitation_that_had_expired_already_is_left_alone(organization, program_manager):
    with acting_in(organization, program_manager):
        first, _token = mentor_services.invitation_create(
            organization=organization, email="late@example.com", send_email=False
        )
    MentorInvitation.objects.for_organization(organization).filter(pk=first.pk).update(expires_at=first.created_at)
    with acting_in(organization, program_manager):
        mentor_services.invitation_create(organization=organization, email="late@example.com", send_email=False)
    assert [e.action for e in trail(MentorInvitation, object_id=str(first.pk))] == ["create"]


# --- another organization ----------------------------------------------------------------------


def test_another_organization_sees_none_of_the_bulk_written_trail(
    organization, other_organization, program_manager, other_program_manager
):
    with acting_in(organization, program_manager):
        framework_create_default(organization=organization)
    with acting_in(other_organization, other_program_manager):
        framework_create_default(organization=other_organization)
    ours = trail(Indicator, organization)
    theirs = trail(Indicator, other_organization)
    assert ours and theirs
    assert all(e.actor == program_manager for e in ours)
    assert all(e.actor == other_program_manager for e in theirs)
    indicator_type = ContentType.objects.get_for_model(Indicator)
    some_indicator = Indicator.objects.for_organization(organization).first()

    with acting_in(other_organization, other_program_manager):
        # The application wall: asking for A's trail by name, or through A's row.
        assert not AuditEvent.objects.for_organization(organization).filter(content_type=indicator_type).exists()
        assert not audit.events_for(some_indicator).exists()
        # The database wall: even an unscoped read returns only B's events.
        visible = set(AuditEvent._base_manager.filter(content_type=indicator_type).values_list("id", flat=True))
        assert visible == {e.pk for e in theirs}

    with acting_in(organization, program_manager):
        assert set(audit.events_for(some_indicator).values_list("action", flat=True)) == {"create"}


# --- deleting an organization ----------------------------------------------------------------


@pytest.fixture
def doomed(organization, other_organization):
    """Organization A with rows whose deletion sends ``post_delete``; B's trail must survive."""
    ProgramFactory(organization=organization, name="Doomed program")
    MembershipFactory(organization=organization, role=Membership.Role.VIEWER)
    framework_create_default(organization=organization)
    goal = DevelopmentGoalFactory(mentor=MentorFactory(organization=organization))
    KeyResultFactory(goal=goal)
    mentor_services.invitation_create(organization=organization, email="doomed@example.com", send_email=False)
    ProgramFactory(organization=other_organization, name="Survivor")
    assert AuditEvent.objects.for_organization(organization).exists()
    return organization


def trails_by_organization() -> dict[int, int]:
    counts: dict[int, int] = {}
    for organization_id in AuditEvent.objects.dangerously_all_organizations().values_list("organization_id", flat=True):
        counts[organization_id] = counts.get(organization_id, 0) + 1
    return counts


def assert_gone_with_its_trail(organization, other_organization, others_before: int) -> None:
    connection.check_constraints()  # what COMMIT checks: no event may point at the deleted organization
    assert not Organization.objects.filter(pk=organization.pk).exists()
    counts = trails_by_organization()
    assert organization.pk not in counts
    assert counts[other_organization.pk] == others_before


def test_a_queryset_delete_of_an_organization_takes_its_trail_and_records_nothing(doomed, other_organization):
    before = trails_by_organization()[other_organization.pk]
    Organization.objects.filter(pk=doomed.pk).delete()
    assert_gone_with_its_trail(doomed, other_organization, before)


def test_a_queryset_delete_of_an_organization_in_its_own_context(doomed, other_organization, owner):
    before = trails_by_organization()[other_organization.pk]
    with acting_in(doomed, owner):
        Organization.objects.filter(pk=doomed.pk).delete()
    assert_gone_with_its_trail(doomed, other_organization, before)


def test_deleting_an_organization_object_in_its_own_context(doomed, other_organization, owner):
    before = trails_by_organization()[other_organization.pk]
    with acting_in(doomed, owner):
        Organization.objects.get(pk=doomed.pk).delete()
    assert_gone_with_its_trail(doomed, other_organization, before)


def test_deleting_rows_of_an_organization_that_stays_is_still_recorded(organization, program_manager):
    program = ProgramFactory(organization=organization, name="Short-lived")
    with acting_in(organization, program_manager):
        Program.objects.for_organization(organization).filter(pk=program.pk).delete()
    [deleted] = [e for e in trail(Program, organization) if e.action == "delete"]
    assert (deleted.object_id, deleted.actor) == (str(program.pk), program_manager)
    assert deleted.changes["name"] == ["Short-lived", None]
