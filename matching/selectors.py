"""Reads of mentor matching. Every function takes ``organization=``."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from matching import solver
from matching.models import Conflict, Preference, Proposal, ProposedPair
from mentors.models import DevelopmentGoal, Mentor
from programs.models import Enrollment, MentorAssignment, Run
from programs.selectors import CURRENT_ENROLLMENT_STATUSES

#: Mentors who may be given mentees (``programs.services.mentor_assign`` refuses the others).
MATCHABLE_MENTOR_STATUSES = (Mentor.Status.ACTIVE, Mentor.Status.INVITED)


def matchable_mentors(*, organization) -> QuerySet[Mentor]:
    return (
        Mentor.objects.for_organization(organization)
        .filter(status__in=MATCHABLE_MENTOR_STATUSES)
        .select_related("user")
        .order_by("user__name", "id")
    )


def mentor_loads(*, organization, run: Run) -> dict[int, int]:
    """Mentees each mentor has at once: in active runs, and in ``run`` itself (a draft run will start).

    The same counting as ``programs.selectors.mentor_load``, for every mentor in one query.
    """
    rows = (
        MentorAssignment.objects.for_organization(organization)
        .filter(
            Q(run__status=Run.Status.ACTIVE) | Q(run=run),
            enrollment__isnull=False,
            enrollment__status__in=CURRENT_ENROLLMENT_STATUSES,
            enrollment__archived_at__isnull=True,
        )
        .values("mentor_id")
        .annotate(load=Count("enrollment_id", distinct=True))
    )
    return {row["mentor_id"]: row["load"] for row in rows}


def enrollments_to_match(*, organization, run: Run) -> QuerySet[Enrollment]:
    """Current enrollments of the run that have no mentor of their own yet."""
    assigned = MentorAssignment.objects.for_organization(organization).filter(run=run, enrollment=OuterRef("pk"))
    return (
        Enrollment.objects.for_organization(organization)
        .filter(run=run, archived_at__isnull=True, status__in=CURRENT_ENROLLMENT_STATUSES)
        .exclude(Exists(assigned))
        .select_related("participant", "team", "organization")
        .order_by("id")
    )


def practice_areas_by_mentor(*, organization) -> dict[int, dict[str, str]]:
    """Area → goal title, from the goals mentors *shared* with the program team (private ones stay private)."""
    goals = (
        DevelopmentGoal.objects.for_organization(organization)
        .filter(visibility=DevelopmentGoal.Visibility.SHARED, archived_at__isnull=True)
        .exclude(status=DevelopmentGoal.Status.DONE)
        .order_by("id")
        .values_list("mentor_id", "title", "practice_areas")
    )
    practice: dict[int, dict[str, str]] = {}
    for mentor_id, title, areas in goals:
        for area in areas or ():
            practice.setdefault(mentor_id, {}).setdefault(area, title)
    return practice


@dataclass
class MatchingInput:
    problem: solver.Problem
    enrollments: dict[int, Enrollment]
    mentors: dict[int, Mentor]


def mentee_of(enrollment: Enrollment) -> solver.Mentee:
    return solver.Mentee(
        id=enrollment.pk,
        needs=frozenset(enrollment.needs or ()),
        industry=enrollment.industry,
        stage=enrollment.stage,
        language=enrollment.language,
    )


def mentor_side_of(mentor: Mentor, *, load: int, practice: dict[str, str]) -> solver.MentorSide:
    return solver.MentorSide(
        id=mentor.pk,
        capacity=mentor.capacity,
        load=load,
        areas=frozenset(mentor.expertise_areas or ()),
        industries=frozenset(mentor.industries or ()),
        stages=frozenset(mentor.stages or ()),
        languages=frozenset(mentor.languages or ()),
        practice=practice,
    )


def matching_input(*, organization, run: Run) -> MatchingInput:
    """Everything the solver needs for one run, in a constant number of queries."""
    enrollments = {e.pk: e for e in enrollments_to_match(organization=organization, run=run)}
    mentors = {m.pk: m for m in matchable_mentors(organization=organization)}
    loads = mentor_loads(organization=organization, run=run)
    practice = practice_areas_by_mentor(organization=organization)
    problem = solver.Problem(
        mentees=[mentee_of(e) for e in enrollments.values()],
        mentors=[mentor_side_of(m, load=loads.get(m.pk, 0), practice=practice.get(m.pk, {})) for m in mentors.values()],
    )
    for side, enrollment_id, mentor_id, rank in (
        Preference.objects.for_organization(organization)
        .filter(run=run)
        .values_list("side", "enrollment_id", "mentor_id", "rank")
    ):
        ranks = problem.participant_ranks if side == Preference.Side.PARTICIPANT else problem.mentor_ranks
        ranks[(enrollment_id, mentor_id)] = rank
    problem.conflicts = set(
        Conflict.objects.for_organization(organization)
        .filter(enrollment__run=run)
        .values_list("enrollment_id", "mentor_id")
    )
    return MatchingInput(problem=problem, enrollments=enrollments, mentors=mentors)


def proposals_for_run(*, organization, run: Run) -> QuerySet[Proposal]:
    return Proposal.objects.for_organization(organization).filter(run=run).order_by("-created_at", "-id")


def proposal_get(*, organization, proposal_id: int) -> Proposal:
    """The proposal, or ``Proposal.DoesNotExist`` (another organization's too)."""
    return Proposal.objects.for_organization(organization).select_related("run", "run__program").get(pk=proposal_id)


def pairs_of_proposal(*, organization, proposal: Proposal) -> QuerySet[ProposedPair]:
    return (
        ProposedPair.objects.for_organization(organization)
        .filter(proposal=proposal)
        .select_related("enrollment", "enrollment__participant", "enrollment__team", "mentor", "mentor__user")
        .order_by("id")
    )


def pair_get(*, organization, proposal: Proposal, pair_id: int) -> ProposedPair:
    return pairs_of_proposal(organization=organization, proposal=proposal).get(pk=pair_id)


def pending_pairs_per_mentor(*, organization, proposal: Proposal) -> dict[int, int]:
    """Seats a proposal already gives each mentor, not yet accepted (accepted ones count in the load)."""
    rows = (
        ProposedPair.objects.for_organization(organization)
        .filter(proposal=proposal, mentor__isnull=False, accepted_at__isnull=True)
        .values("mentor_id")
        .annotate(seats=Count("id"))
    )
    return {row["mentor_id"]: row["seats"] for row in rows}


def participant_choices(*, organization, enrollment: Enrollment) -> list[Mentor]:
    """The mentors this participant ranked for the run, first choice first."""
    preferences = (
        Preference.objects.for_organization(organization)
        .filter(enrollment=enrollment, side=Preference.Side.PARTICIPANT)
        .select_related("mentor", "mentor__user")
        .order_by("rank")
    )
    return [preference.mentor for preference in preferences]


def mentor_choices(*, organization, run: Run, mentor: Mentor) -> list[Enrollment]:
    preferences = (
        Preference.objects.for_organization(organization)
        .filter(run=run, mentor=mentor, side=Preference.Side.MENTOR)
        .select_related("enrollment", "enrollment__participant", "enrollment__team")
        .order_by("rank")
    )
    return [preference.enrollment for preference in preferences]


def runs_open_for_matching(*, organization) -> QuerySet[Run]:
    """Runs that can still be matched (``services.proposal_create`` refuses finished ones) and have someone in them."""
    current = Enrollment.objects.for_organization(organization).filter(
        run=OuterRef("pk"), archived_at__isnull=True, status__in=CURRENT_ENROLLMENT_STATUSES
    )
    return (
        Run.objects.for_organization(organization)
        .exclude(status=Run.Status.FINISHED)
        .filter(Exists(current))
        .select_related("program")
        .order_by("starts_on", "name", "id")
    )


def mentor_choice_counts(*, organization, mentor: Mentor) -> dict[int, int]:
    """How many mentees the mentor ranked in each run (run id → count), in one query."""
    rows = (
        Preference.objects.for_organization(organization)
        .filter(mentor=mentor, side=Preference.Side.MENTOR)
        .values("run_id")
        .annotate(chosen=Count("id"))
    )
    return {row["run_id"]: row["chosen"] for row in rows}


def preferences_for_run(*, organization, run: Run) -> QuerySet[Preference]:
    return Preference.objects.for_organization(organization).filter(run=run).order_by("side", "enrollment_id", "rank")


def is_conflicted(*, organization, mentor: Mentor, enrollment: Enrollment) -> bool:
    return Conflict.objects.for_organization(organization).filter(mentor=mentor, enrollment=enrollment).exists()
