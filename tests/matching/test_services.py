"""Matching services against the real database: proposals, acceptance, changes, swaps, preferences."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from matching import selectors, services
from matching.models import Preference, ProposedPair
from matching.reasons import reasons_text
from mentors.models import DevelopmentGoal, Mentor
from programs.models import MentorAssignment, Run
from tests.factories.matching import ConflictFactory
from tests.factories.mentors import DevelopmentGoalFactory
from tests.factories.programs import EnrollmentFactory, MentorAssignmentFactory, ProgramsMentorFactory, RunFactory

pytestmark = pytest.mark.django_db


def _pairs(proposal):
    return {
        pair.enrollment_id: pair
        for pair in ProposedPair.objects.for_organization(proposal.organization).filter(proposal=proposal)
    }


def test_a_proposal_pairs_needs_with_expertise_and_says_why(organization, run, program_manager):
    founder = EnrollmentFactory(run=run, needs=["pricing", "sales"], industry="b2b_saas", stage="mvp")
    pricing = ProgramsMentorFactory(
        organization=organization, expertise_areas=["sales"], industries=["b2b_saas"], languages=["ko"], capacity=3
    )
    DevelopmentGoalFactory(
        mentor=pricing,
        title="Become a pricing coach",
        visibility=DevelopmentGoal.Visibility.SHARED,
        practice_areas=["pricing"],
    )
    ProgramsMentorFactory(organization=organization, expertise_areas=["legal"], industries=["health"])

    proposal = services.proposal_create(organization=organization, run=run, created_by=program_manager)

    pair = _pairs(proposal)[founder.pk]
    assert pair.mentor == pricing
    assert pair.score == 3 + 2 + 2 + 1
    with translation.override("en"):
        text = reasons_text(pair.reasons)
    assert text == (
        "both: Sales; both: B2B SaaS; mentor wants to practise Pricing (goal: Become a pricing coach); "
        "both speak Korean; 3 of 3 seats free"
    )
    assert not MentorAssignment.objects.for_organization(organization).filter(enrollment=founder).exists()


def test_a_private_goal_stays_out_of_matching(organization, run):
    founder = EnrollmentFactory(run=run, needs=["pricing"])
    mentor = ProgramsMentorFactory(organization=organization)
    DevelopmentGoalFactory(mentor=mentor, title="Secret plan", practice_areas=["pricing"])
    proposal = services.proposal_create(organization=organization, run=run)
    assert "Secret plan" not in reasons_text(_pairs(proposal)[founder.pk].reasons)
    assert _pairs(proposal)[founder.pk].score == 0


def test_capacity_counts_mentees_in_other_active_runs_and_leaves_out_enrollments_with_a_mentor(organization, run):
    busy = ProgramsMentorFactory(organization=organization, capacity=2)
    other_run = RunFactory(program=run.program, status=Run.Status.ACTIVE)
    MentorAssignmentFactory(run=other_run, mentor=busy, enrollment=EnrollmentFactory(run=other_run))
    already = EnrollmentFactory(run=run)
    MentorAssignmentFactory(run=run, mentor=busy, enrollment=already)
    founders = [EnrollmentFactory(run=run) for _ in range(3)]

    proposal = services.proposal_create(organization=organization, run=run)

    pairs = _pairs(proposal)
    assert set(pairs) == {f.pk for f in founders}
    assert [p.mentor_id for p in pairs.values()].count(busy.pk) == 0  # 2 of 2 seats taken
    assert all(p.reasons == [{"code": "no_seat"}] for p in pairs.values())


def test_paused_mentors_and_dropped_enrollments_are_left_out(organization, run):
    ProgramsMentorFactory(organization=organization, status=Mentor.Status.PAUSED)
    EnrollmentFactory(run=run, status="dropped")
    active = EnrollmentFactory(run=run)
    proposal = services.proposal_create(organization=organization, run=run)
    assert list(_pairs(proposal)) == [active.pk]
    assert _pairs(proposal)[active.pk].mentor is None


def test_a_finished_run_is_refused(organization, run):
    run.status = Run.Status.FINISHED
    run.save()
    with pytest.raises(ValidationError) as error:
        services.proposal_create(organization=organization, run=run)
    assert "run" in error.value.message_dict


def test_another_organizations_run_is_refused(organization, other_run):
    with pytest.raises(ValidationError):
        services.proposal_create(organization=organization, run=other_run)


def test_accepting_creates_the_assignments_through_the_assignment_service(organization, run):
    mentor = ProgramsMentorFactory(organization=organization, capacity=2)
    founders = [EnrollmentFactory(run=run) for _ in range(2)]
    proposal = services.proposal_create(organization=organization, run=run)

    accepted = services.proposal_accept_all(organization=organization, proposal=proposal)

    assert len(accepted) == 2
    assignments = MentorAssignment.objects.for_organization(organization).filter(run=run, mentor=mentor)
    assert {a.enrollment_id for a in assignments} == {f.pk for f in founders}
    assert all(p.accepted_at and p.assignment_id for p in _pairs(proposal).values())
    with pytest.raises(ValidationError):
        services.pair_accept(organization=organization, pair=accepted[0])


def test_accept_all_is_all_or_nothing_when_a_seat_went_meanwhile(organization, run):
    mentor = ProgramsMentorFactory(organization=organization, capacity=2)
    EnrollmentFactory(run=run)
    EnrollmentFactory(run=run)
    proposal = services.proposal_create(organization=organization, run=run)
    # Someone assigns the mentor elsewhere by hand after the proposal was made.
    elsewhere = RunFactory(program=run.program)
    MentorAssignmentFactory(run=elsewhere, mentor=mentor, enrollment=EnrollmentFactory(run=elsewhere))

    with pytest.raises(ValidationError) as error:
        services.proposal_accept_all(organization=organization, proposal=proposal)

    assert "capacity" in str(error.value)
    assert not MentorAssignment.objects.for_organization(organization).filter(run=run).exists()
    assert not any(p.accepted_at for p in _pairs(proposal).values())


def test_changing_a_mentor_respects_capacity_and_conflicts(organization, run):
    one = ProgramsMentorFactory(organization=organization, capacity=1)
    two = ProgramsMentorFactory(organization=organization, capacity=1)
    a, b = EnrollmentFactory(run=run), EnrollmentFactory(run=run)
    proposal = services.proposal_create(organization=organization, run=run)
    pairs = _pairs(proposal)
    pair_a = pairs[a.pk]
    full = two if pair_a.mentor == one else one
    with pytest.raises(ValidationError, match="no free seat"):
        services.pair_mentor_change(organization=organization, pair=pair_a, mentor=full)

    spare = ProgramsMentorFactory(organization=organization, capacity=1)
    ConflictFactory(mentor=spare, enrollment=a)
    with pytest.raises(ValidationError, match="conflict"):
        services.pair_mentor_change(organization=organization, pair=pair_a, mentor=spare)

    free = ProgramsMentorFactory(organization=organization, capacity=1)
    changed = services.pair_mentor_change(organization=organization, pair=pair_a, mentor=free)
    assert changed.mentor == free and changed.reasons[-1] == {"code": "changed"}
    assert pairs[b.pk].mentor in (one, two)


def test_swapping_exchanges_mentors_unless_it_crosses_a_conflict(organization, run):
    ProgramsMentorFactory(organization=organization, capacity=1)
    ProgramsMentorFactory(organization=organization, capacity=1)
    a, b = EnrollmentFactory(run=run), EnrollmentFactory(run=run)
    proposal = services.proposal_create(organization=organization, run=run)
    pair_a, pair_b = _pairs(proposal)[a.pk], _pairs(proposal)[b.pk]
    mentor_a, mentor_b = pair_a.mentor, pair_b.mentor

    swapped_a, swapped_b = services.pairs_swap(organization=organization, pair=pair_a, other=pair_b)
    assert (swapped_a.mentor, swapped_b.mentor) == (mentor_b, mentor_a)

    ConflictFactory(mentor=mentor_a, enrollment=a)
    with pytest.raises(ValidationError, match="conflict"):
        services.pairs_swap(organization=organization, pair=swapped_a, other=swapped_b)
    swapped_a.refresh_from_db()
    assert swapped_a.mentor == mentor_b


def test_participant_preferences_replace_earlier_ones_and_refuse_repeats(organization, run, enrollment):
    one, two, three, four = (ProgramsMentorFactory(organization=organization) for _ in range(4))
    services.participant_preferences_set(organization=organization, enrollment=enrollment, mentors=[one, two])
    services.participant_preferences_set(organization=organization, enrollment=enrollment, mentors=[three, one])
    assert selectors.participant_choices(organization=organization, enrollment=enrollment) == [three, one]
    with pytest.raises(ValidationError):
        services.participant_preferences_set(organization=organization, enrollment=enrollment, mentors=[one, one])
    with pytest.raises(ValidationError):
        services.participant_preferences_set(
            organization=organization, enrollment=enrollment, mentors=[one, two, three, four]
        )
    assert selectors.participant_choices(organization=organization, enrollment=enrollment) == [three, one]


def test_preferences_refuse_another_organizations_mentor(organization, enrollment, other_program_mentor):
    with pytest.raises(ValidationError):
        services.participant_preferences_set(
            organization=organization, enrollment=enrollment, mentors=[other_program_mentor]
        )
    assert not Preference.objects.for_organization(organization).exists()


def test_mentor_preferences_are_for_enrollments_of_the_run(organization, run, program_mentor):
    mine = EnrollmentFactory(run=run)
    elsewhere = EnrollmentFactory(run=RunFactory(program=run.program))
    services.mentor_preferences_set(organization=organization, run=run, mentor=program_mentor, enrollments=[mine])
    assert selectors.mentor_choices(organization=organization, run=run, mentor=program_mentor) == [mine]
    with pytest.raises(ValidationError):
        services.mentor_preferences_set(
            organization=organization, run=run, mentor=program_mentor, enrollments=[elsewhere]
        )


def test_a_participants_first_choice_is_honoured(organization, run):
    wanted = ProgramsMentorFactory(organization=organization, capacity=1)
    better_fit = EnrollmentFactory(run=run, needs=["sales"])
    chooser = EnrollmentFactory(run=run)
    wanted.expertise_areas = ["sales"]
    wanted.save()
    ProgramsMentorFactory(organization=organization, capacity=1)
    services.participant_preferences_set(organization=organization, enrollment=chooser, mentors=[wanted])
    proposal = services.proposal_create(organization=organization, run=run)
    assert _pairs(proposal)[chooser.pk].mentor == wanted
    assert _pairs(proposal)[better_fit.pk].mentor != wanted


def test_enrollment_needs_are_checked_against_the_vocabulary(organization, enrollment):
    from programs import services as programs_services

    with pytest.raises(ValidationError) as error:
        programs_services.enrollment_matching_needs_update(
            organization=organization, enrollment=enrollment, needs=["astrology"], industry="b2b_saas"
        )
    assert "needs" in error.value.message_dict
    saved = programs_services.enrollment_matching_needs_update(
        organization=organization,
        enrollment=enrollment,
        needs=["sales", "pricing"],
        industry="b2b_saas",
        stage="mvp",
        mentor_wish="  Someone who sold to banks\r\n",
    )
    saved.refresh_from_db()
    assert saved.needs == ["pricing", "sales"] and saved.mentor_wish == "Someone who sold to banks"


def test_the_mentor_matching_profile_refuses_unknown_codes(organization, program_mentor):
    from mentors import services as mentor_services

    with pytest.raises(ValidationError) as error:
        mentor_services.mentor_matching_profile_update(
            organization=organization,
            mentor=program_mentor,
            expertise_areas=["x"],
            industries=["y"],
            stages=[],
            languages=["ko"],
        )
    assert set(error.value.message_dict) == {"expertise_areas", "industries"}
