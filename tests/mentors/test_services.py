"""Services of the mentors app: invitations, goals, check-ins, approaches, sessions, ratings."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.models import Membership
from mentors import selectors, services
from mentors.models import (
    DevelopmentGoal,
    GoalCheckIn,
    KeyResult,
    KeyResultReading,
    Mentor,
    MentoringApproach,
    MentoringSession,
    MentorInvitation,
    SessionRating,
)
from programs import services as program_services
from programs.models import MentorAssignment
from tests.factories.core import MembershipFactory, UserFactory
from tests.factories.mentors import DevelopmentGoalFactory, KeyResultFactory, MentorFactory
from tests.factories.programs import EnrollmentFactory, ParticipantFactory, TeamFactory, TeamMembershipFactory

# --- invitations -------------------------------------------------------------------------------


def _invite(organization, email="new.mentor@example.com", **kwargs):
    return services.invitation_create(
        organization=organization, email=email, base_url="https://cohort.example/", **kwargs
    )


def test_invitation_sends_a_text_and_html_email_in_the_invitees_language(
    organization, program_manager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation, token = _invite(organization, name="Jane", language="en", invited_by=program_manager)

    assert invitation.token_hash == selectors.invitation_token_hash(token)
    assert token not in invitation.token_hash
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.mentor@example.com"]
    assert "invites you to mentor" in message.subject
    link = f"https://cohort.example/mentor/join/{organization.slug}/{token}/"
    assert link in message.body
    html, mime = message.alternatives[0]
    assert mime == "text/html" and link in html


def test_invitation_email_is_korean_for_a_korean_invitee(organization, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _invite(organization, language="ko")
    assert "멘토" in mail.outbox[0].subject


def test_no_email_leaves_when_the_invitation_is_rolled_back(organization, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _invite(organization)
    assert len(callbacks) == 1 and mail.outbox == []


def test_accepting_creates_the_account_membership_and_an_active_mentor(organization):
    invitation, token = _invite(organization, name="새 멘토")

    mentor = services.invitation_accept(
        organization=organization, token=token, name="정하늘", password="a-long-unusual-pass-42"
    )

    assert mentor.status == Mentor.Status.ACTIVE
    assert mentor.user.email == "new.mentor@example.com"
    assert mentor.user.name == "정하늘"
    assert mentor.user.check_password("a-long-unusual-pass-42")
    membership = Membership.objects.for_organization(organization).get(user=mentor.user)
    assert membership.role == Membership.Role.MENTOR
    invitation.refresh_from_db()
    assert invitation.is_used and invitation.mentor == mentor and invitation.accepted_by == mentor.user


def test_a_used_invitation_cannot_be_used_again(organization):
    _invitation, token = _invite(organization)
    services.invitation_accept(organization=organization, token=token, password="a-long-unusual-pass-42")
    someone = UserFactory(email="someone@example.com")

    with pytest.raises(services.InvitationError) as error:
        services.invitation_accept(organization=organization, token=token, user=someone)

    assert error.value.code == "used"
    assert "already been used" in error.value.messages[0]
    assert not Mentor.objects.for_organization(organization).filter(user=someone).exists()


def test_an_expired_invitation_is_refused_and_saves_nothing(organization):
    invitation, token = _invite(organization)
    MentorInvitation.objects.for_organization(organization).filter(pk=invitation.pk).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )

    with pytest.raises(services.InvitationError) as error:
        services.invitation_accept(organization=organization, token=token, password="a-long-unusual-pass-42")

    assert error.value.code == "expired"
    assert not Mentor.objects.for_organization(organization).exists()
    assert not Membership.objects.for_organization(organization).filter(user__email=invitation.email).exists()


def test_a_token_of_another_organization_is_not_valid_here(organization, other_organization):
    _invitation, token = _invite(other_organization)
    with pytest.raises(services.InvitationError) as error:
        services.invitation_accept(organization=organization, token=token, password="a-long-unusual-pass-42")
    assert error.value.code == "invalid"


def test_an_invitation_never_sets_the_password_of_an_existing_account(organization):
    existing = UserFactory(email="new.mentor@example.com")
    _invitation, token = _invite(organization)

    with pytest.raises(services.InvitationError) as error:
        services.invitation_accept(organization=organization, token=token, password="attacker-chosen-pass-1")

    assert error.value.code == "account_exists"
    existing.refresh_from_db()
    assert existing.check_password("pass-for-tests")


def test_a_weak_password_is_a_field_error_and_creates_no_account(organization):
    _invitation, token = _invite(organization)
    with pytest.raises(ValidationError) as error:
        services.invitation_accept(organization=organization, token=token, password="1234")
    assert "password" in error.value.message_dict
    assert not selectors.user_exists(email="new.mentor@example.com")


def test_a_program_manager_who_accepts_keeps_their_role(organization, program_manager):
    _invitation, token = _invite(organization, email=program_manager.email)
    services.invitation_accept(organization=organization, token=token, user=program_manager)
    membership = Membership.objects.for_organization(organization).get(user=program_manager)
    assert membership.role == Membership.Role.PROGRAM_MANAGER
    assert selectors.mentor_for_user(organization=organization, user=program_manager) is not None


def test_a_mentor_of_another_organization_joins_with_the_same_account(organization, foreign_mentor):
    _invitation, token = _invite(organization, email=foreign_mentor.user.email)
    mentor = services.invitation_accept(organization=organization, token=token, user=foreign_mentor.user)
    assert mentor.organization == organization and mentor.user == foreign_mentor.user
    organizations = {m.organization_id for m in selectors.mentor_engagements_for_user(user=foreign_mentor.user)}
    assert organizations == {organization.pk, foreign_mentor.organization_id}


def test_inviting_again_retires_the_earlier_link(organization):
    _first, first_token = _invite(organization)
    _second, second_token = _invite(organization)
    with pytest.raises(services.InvitationError):
        services.invitation_accept(organization=organization, token=first_token, password="a-long-unusual-pass-42")
    assert services.invitation_accept(organization=organization, token=second_token, password="a-long-unusual-pass-42")


def test_an_active_mentor_is_not_invited_again(organization, portal_mentor):
    with pytest.raises(ValidationError) as error:
        _invite(organization, email=portal_mentor.user.email)
    assert "email" in error.value.message_dict
    assert not MentorInvitation.objects.for_organization(organization).exists()


def test_an_alumni_mentor_becomes_active_again_on_accepting(organization, portal_mentor):
    portal_mentor.status = Mentor.Status.ALUMNI
    portal_mentor.save()
    _invitation, token = _invite(organization, email=portal_mentor.user.email)
    services.invitation_accept(organization=organization, token=token, user=portal_mentor.user)
    portal_mentor.refresh_from_db()
    assert portal_mentor.status == Mentor.Status.ACTIVE


# --- goals and key results ------------------------------------------------------------------------


def test_goal_progress_is_derived_from_the_key_results(organization, goal):
    first, second = goal.key_results.order_by("id")
    assert selectors.goal_progress(goal) == 0

    services.goal_check_in(
        organization=organization, goal=goal, confidence=4, values={first.pk: 1, second.pk: Decimal("3.75")}
    )

    goal = selectors.goal_for_mentor(organization=organization, mentor=goal.mentor, goal_id=goal.pk)
    # 1 of 2 workshops = 50 %; 3 → 3.75 of 3 → 4.5 = 50 %.
    assert selectors.goal_progress(goal) == 50


def test_key_result_progress_works_for_targets_below_the_start(organization, goal):
    key_result = services.key_result_add(
        organization=organization, goal=goal, title="Hours on admin per week", start_value=10, target_value=4
    )
    key_result.current_value = Decimal("7")
    assert key_result.progress == 50
    key_result.current_value = Decimal("12")
    assert key_result.progress == 0


def test_a_key_result_whose_target_equals_its_start_is_refused(organization, goal):
    with pytest.raises(ValidationError) as error:
        services.key_result_add(organization=organization, goal=goal, title="Nothing", start_value=5, target_value=5)
    assert "target_value" in error.value.message_dict
    assert goal.key_results.count() == 2


def test_a_goal_with_a_bad_key_result_is_not_created_at_all(organization, portal_mentor):
    with pytest.raises(ValidationError):
        services.goal_create(
            organization=organization,
            mentor=portal_mentor,
            title="Half a goal",
            key_results=[
                {"title": "Fine", "target_value": 3},
                {"title": "Flat", "start_value": 1, "target_value": 1},
            ],
        )
    assert not DevelopmentGoal.objects.for_organization(organization).filter(title="Half a goal").exists()
    assert not KeyResult.objects.for_organization(organization).exists()


def test_check_in_records_values_progress_snapshot_and_status(organization, goal):
    first, second = goal.key_results.order_by("id")

    check_in = services.goal_check_in(
        organization=organization,
        goal=goal,
        confidence=2,
        note="Venue booked, agenda not yet.",
        values={first.pk: 2},
        status=DevelopmentGoal.Status.BEHIND,
    )

    assert check_in.progress == 50  # first done (100 %), second untouched (0 %)
    assert check_in.status == DevelopmentGoal.Status.BEHIND
    goal.refresh_from_db()
    assert goal.status == DevelopmentGoal.Status.BEHIND
    readings = {r.key_result_id: r.value for r in KeyResultReading.objects.for_organization(organization)}
    assert readings == {first.pk: Decimal("2"), second.pk: Decimal("3")}


def test_check_in_on_an_archived_goal_is_refused_and_saves_nothing(organization, goal):
    services.goal_archive(organization=organization, goal=goal)
    first = goal.key_results.order_by("id").first()

    with pytest.raises(ValidationError) as error:
        services.goal_check_in(organization=organization, goal=goal, confidence=3, values={first.pk: 1})

    assert "archived" in error.value.messages[0]
    first.refresh_from_db()
    assert first.current_value == 0
    assert not GoalCheckIn.objects.for_organization(organization).exists()


def test_check_in_with_a_key_result_of_another_goal_is_refused(organization, goal, shared_goal):
    stranger = shared_goal.key_results.get()
    with pytest.raises(ValidationError):
        services.goal_check_in(organization=organization, goal=goal, confidence=3, values={stranger.pk: 1})
    stranger.refresh_from_db()
    assert stranger.current_value == 0
    assert not GoalCheckIn.objects.for_organization(organization).exists()


def test_check_in_with_a_bad_confidence_saves_no_key_result_value(organization, goal):
    first = goal.key_results.order_by("id").first()
    with pytest.raises(ValidationError):
        services.goal_check_in(organization=organization, goal=goal, confidence=9, values={first.pk: 2})
    first.refresh_from_db()
    assert first.current_value == 0


def test_restored_goal_takes_check_ins_again(organization, goal):
    services.goal_archive(organization=organization, goal=goal)
    services.goal_restore(organization=organization, goal=goal)
    assert services.goal_check_in(organization=organization, goal=goal, confidence=3)


def test_services_refuse_rows_of_another_organization(organization, other_organization, goal):
    with pytest.raises(ValidationError):
        services.goal_update(organization=other_organization, goal=goal, title="Hijacked")
    with pytest.raises(ValidationError):
        services.goal_check_in(organization=other_organization, goal=goal, confidence=3)
    goal.refresh_from_db()
    assert goal.title == "Run my first workshop"


def test_key_result_update_changes_the_definition_not_the_current_value(organization, goal):
    first = goal.key_results.order_by("id").first()
    with pytest.raises(TypeError):
        services.key_result_update(organization=organization, key_result=first, current_value=5)
    services.key_result_update(organization=organization, key_result=first, target_value=4)
    first.refresh_from_db()
    assert first.target_value == 4 and first.current_value == 0


def test_goal_events_are_sent_for_shared_goals_only(
    organization, portal_mentor, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(services, "event_emit", lambda **kwargs: sent.append(kwargs))

    with django_capture_on_commit_callbacks(execute=True):
        private = services.goal_create(organization=organization, mentor=portal_mentor, title="Private goal")
        services.goal_check_in(organization=organization, goal=private, confidence=3)
    assert sent == []

    with django_capture_on_commit_callbacks(execute=True):
        services.goal_update(organization=organization, goal=private, visibility=DevelopmentGoal.Visibility.SHARED)
        services.goal_check_in(organization=organization, goal=private, confidence=4)
    assert [e["event"] for e in sent] == ["mentor_goal.updated", "mentor_goal.updated"]
    assert sent[0]["payload"]["title"] == "Private goal"

    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.goal_update(organization=organization, goal=private, visibility=DevelopmentGoal.Visibility.PRIVATE)
    assert len(sent) == 1 and "title" not in sent[0]["payload"]


# --- approach ----------------------------------------------------------------------------------


def test_a_mentor_describes_their_approach_for_a_run_they_serve(organization, run, mentee, portal_mentor):
    approach = services.approach_save(
        organization=organization, mentor=portal_mentor, run=run, format="1:1 walks", cadence="every two weeks"
    )
    again = services.approach_save(
        organization=organization, mentor=portal_mentor, run=run, format="1:1 calls", focus="pricing"
    )
    assert approach.pk == again.pk
    assert MentoringApproach.objects.for_organization(organization).get().format == "1:1 calls"


def test_no_approach_for_a_run_the_mentor_does_not_serve(organization, run, portal_mentor):
    with pytest.raises(ValidationError) as error:
        services.approach_save(organization=organization, mentor=portal_mentor, run=run, format="1:1")
    assert "run" in error.value.message_dict


# --- capacity on assignment ----------------------------------------------------------------------


def test_assigning_beyond_capacity_gives_a_clear_message_and_saves_nothing(organization, run, portal_mentor):
    portal_mentor.capacity = 1
    portal_mentor.save()
    first, second = EnrollmentFactory(run=run), EnrollmentFactory(run=run)
    program_services.mentor_assign(organization=organization, run=run, mentor=portal_mentor, enrollment=first)

    with pytest.raises(ValidationError) as error:
        program_services.mentor_assign(organization=organization, run=run, mentor=portal_mentor, enrollment=second)

    assert "capacity" in " ".join(error.value.messages)
    assert MentorAssignment.objects.for_organization(organization).filter(mentor=portal_mentor).count() == 1


# --- sessions and ratings ------------------------------------------------------------------------


def test_logging_a_session_asks_the_mentees_present_to_rate_it(
    organization, portal_mentor, mentee, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        session = services.session_log(
            organization=organization,
            mentor=portal_mentor,
            held_on=datetime.date(2026, 4, 7),
            duration_minutes=45,
            topics="Pricing",
            attendees=[mentee],
            base_url="https://cohort.example/",
        )

    assert list(session.attendees.all()) == [mentee]
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["minji@startup.test"]
    assert "https://cohort.example/mentor/rate/" in message.body
    assert "멘토" in message.subject or "세션" in message.subject  # the participant's language (ko)


def test_a_session_with_someone_elses_mentee_is_refused(organization, portal_mentor, run):
    stranger = EnrollmentFactory(run=run)
    with pytest.raises(ValidationError) as error:
        services.session_log(
            organization=organization, mentor=portal_mentor, held_on=datetime.date(2026, 4, 7), attendees=[stranger]
        )
    assert "attendees" in error.value.message_dict
    assert not MentoringSession.objects.for_organization(organization).exists()


def test_a_session_in_the_future_is_refused(organization, portal_mentor):
    with pytest.raises(ValidationError) as error:
        services.session_log(
            organization=organization,
            mentor=portal_mentor,
            held_on=timezone.localdate() + datetime.timedelta(days=10),
        )
    assert "held_on" in error.value.message_dict


def test_session_update_replaces_the_mentees_present(organization, portal_mentor, mentee, run):
    other = EnrollmentFactory(run=run)
    program_services.mentor_assign(organization=organization, run=run, mentor=portal_mentor, enrollment=other)
    session = services.session_log(
        organization=organization, mentor=portal_mentor, held_on=datetime.date(2026, 4, 7), attendees=[mentee]
    )
    services.session_update(organization=organization, session=session, attendees=[other], topics="Hiring")
    session.refresh_from_db()
    assert list(session.attendees.all()) == [other] and session.topics == "Hiring"


def test_a_participant_present_rates_once_and_can_change_the_rating(organization, portal_mentor, mentee):
    session = services.session_log(
        organization=organization, mentor=portal_mentor, held_on=datetime.date(2026, 4, 7), attendees=[mentee]
    )
    services.session_rate(organization=organization, session=session, participant=mentee.participant, score=3)
    services.session_rate(
        organization=organization, session=session, participant=mentee.participant, score=5, comment="Great"
    )
    rating = SessionRating.objects.for_organization(organization).get()
    assert (rating.score, rating.comment) == (5, "Great")


def test_members_of_a_team_present_may_rate(organization, portal_mentor, run):
    team = TeamFactory(organization=organization)
    member = TeamMembershipFactory(team=team).participant
    enrollment = EnrollmentFactory(run=run, participant=None, team=team)
    program_services.mentor_assign(organization=organization, run=run, mentor=portal_mentor, enrollment=enrollment)
    session = services.session_log(
        organization=organization, mentor=portal_mentor, held_on=datetime.date(2026, 4, 7), attendees=[enrollment]
    )
    assert services.session_rate(organization=organization, session=session, participant=member, score=4)


def test_someone_not_present_cannot_rate(organization, portal_mentor, mentee):
    session = services.session_log(
        organization=organization, mentor=portal_mentor, held_on=datetime.date(2026, 4, 7), attendees=[mentee]
    )
    outsider = ParticipantFactory(organization=organization)
    with pytest.raises(ValidationError):
        services.session_rate(organization=organization, session=session, participant=outsider, score=1)
    with pytest.raises(ValidationError):
        services.session_rate(organization=organization, session=session, participant=mentee.participant, score=6)
    assert not SessionRating.objects.for_organization(organization).exists()


def test_profile_update_splits_expertise_and_validates(organization, portal_mentor):
    services.mentor_profile_update(
        organization=organization, mentor=portal_mentor, expertise="pricing, hiring , ", capacity=4
    )
    portal_mentor.refresh_from_db()
    assert portal_mentor.expertise == ["pricing", "hiring"] and portal_mentor.capacity == 4


def test_factories_build_consistent_rows(organization):
    goal = DevelopmentGoalFactory(mentor=MentorFactory(organization=organization))
    key_result = KeyResultFactory(goal=goal)
    assert key_result.organization_id == goal.organization_id == organization.pk
    assert MembershipFactory._meta.model.objects.for_organization(organization).filter(user=goal.mentor.user).exists()
