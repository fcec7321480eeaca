"""Quality measured (#18): a generated cohort of 40 participants and 30 mentors.

Capacity is never exceeded, conflicts are never proposed, every stated first choice that
can be honoured is (checked against an independent maximum matching of first choices),
and the proposal comes in well under a second with a query count that does not grow
with the cohort.
"""

import random
import time

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from scipy.optimize import linear_sum_assignment

from matching import services
from matching.models import Conflict, Preference, ProposedPair
from programs.models import Run
from programs.vocabulary import Area, Industry, Stage
from tests.factories.matching import ConflictFactory, PreferenceFactory
from tests.factories.programs import (
    EnrollmentFactory,
    MentorAssignmentFactory,
    ParticipantFactory,
    ProgramFactory,
    ProgramsMentorFactory,
    RunFactory,
)

pytestmark = pytest.mark.django_db

AREAS, INDUSTRIES, STAGES = list(Area.values), list(Industry.values), list(Stage.values)


def generate_cohort(organization, *, participants: int, mentors: int, seed: int = 18):
    """A run with participants stating ranked choices (a few popular mentors), conflicts, busy mentors."""
    rng = random.Random(seed)
    run = RunFactory(program=ProgramFactory(organization=organization), status=Run.Status.ACTIVE)
    other_run = RunFactory(program=run.program, status=Run.Status.ACTIVE)
    mentor_rows = []
    for _ in range(mentors):
        mentor = ProgramsMentorFactory(
            organization=organization,
            capacity=rng.choice([1, 2, 2, 3]),
            expertise_areas=sorted(rng.sample(AREAS, 3)),
            industries=sorted(rng.sample(INDUSTRIES, 2)),
            stages=sorted(rng.sample(STAGES, 2)),
            languages=rng.choice([["ko"], ["ko", "en"], ["en"]]),
        )
        mentor_rows.append(mentor)
    for mentor in rng.sample(mentor_rows, 5):  # already mentoring someone in another active run
        MentorAssignmentFactory(run=other_run, mentor=mentor, enrollment=EnrollmentFactory(run=other_run))
    popular = mentor_rows[:4]
    enrollments = []
    for _ in range(participants):
        enrollment = EnrollmentFactory(
            run=run,
            participant=ParticipantFactory(organization=organization, language=rng.choice(["ko", "ko", "en"])),
            needs=sorted(rng.sample(AREAS, 2)),
            industry=rng.choice(INDUSTRIES),
            stage=rng.choice(STAGES),
        )
        enrollments.append(enrollment)
        if rng.random() < 0.8:
            first = rng.choice(popular) if rng.random() < 0.5 else rng.choice(mentor_rows)
            others = rng.sample([m for m in mentor_rows if m != first], 2)
            for rank, mentor in enumerate([first, *others], start=1):
                PreferenceFactory(enrollment=enrollment, mentor=mentor, rank=rank)
    for enrollment in rng.sample(enrollments, 6):
        ConflictFactory(enrollment=enrollment, mentor=rng.choice(mentor_rows))
    return run


def _free_seats(organization, run) -> dict[int, int]:
    from matching.selectors import matchable_mentors, mentor_loads

    loads = mentor_loads(organization=organization, run=run)
    return {m.pk: max(0, m.capacity - loads.get(m.pk, 0)) for m in matchable_mentors(organization=organization)}


def _most_first_choices_possible(first_choices: list[tuple[int, int]], free: dict[int, int]) -> int:
    """An independent maximum bipartite matching of (enrollment, first-choice mentor) over free seats."""
    enrollments = sorted({e for e, _ in first_choices})
    seats = [(m, k) for m, n in free.items() for k in range(n)]
    if not enrollments or not seats:
        return 0
    weight = np.zeros((len(enrollments), len(seats)))
    wanted = set(first_choices)
    for i, e in enumerate(enrollments):
        for j, (m, _k) in enumerate(seats):
            weight[i, j] = 1.0 if (e, m) in wanted else 0.0
    rows, columns = linear_sum_assignment(weight, maximize=True)
    return int(weight[rows, columns].sum())


def test_a_generated_cohort_of_40_and_30(organization):
    run = generate_cohort(organization, participants=40, mentors=30)
    free = _free_seats(organization, run)
    conflicts = set(Conflict.objects.for_organization(organization).values_list("enrollment_id", "mentor_id"))
    first_choices = [
        (e, m)
        for e, m in Preference.objects.for_organization(organization)
        .filter(run=run, side=Preference.Side.PARTICIPANT, rank=1)
        .values_list("enrollment_id", "mentor_id")
        if (e, m) not in conflicts
    ]

    started = time.perf_counter()
    proposal = services.proposal_create(organization=organization, run=run)
    elapsed = time.perf_counter() - started

    pairs = list(ProposedPair.objects.for_organization(organization).filter(proposal=proposal))
    assert len(pairs) == 40
    given: dict[int, int] = {}
    for pair in pairs:
        if pair.mentor_id:
            given[pair.mentor_id] = given.get(pair.mentor_id, 0) + 1
    # Capacity is never exceeded (seats in other active runs count).
    assert all(given[m] <= free[m] for m in given)
    # Conflicts are never proposed.
    assert not {(p.enrollment_id, p.mentor_id) for p in pairs} & conflicts
    # Every first choice that can be honoured is: as many as any assignment could honour ...
    proposed = {(p.enrollment_id, p.mentor_id) for p in pairs}
    honoured = [choice for choice in first_choices if choice in proposed]
    assert len(honoured) == _most_first_choices_possible(first_choices, free)
    assert 0 < len(honoured) < len(first_choices)  # the popular mentors make it a real test
    # ... and one that is not has its mentor full of other first-choosers.
    first_choosers = {}
    for e, m in first_choices:
        first_choosers.setdefault(m, set()).add(e)
    for e, m in first_choices:
        if (e, m) not in proposed:
            holders = {p.enrollment_id for p in pairs if p.mentor_id == m}
            assert len(holders) == free[m] and holders <= first_choosers[m]
    # Seats enough for everyone: everyone gets a mentor.
    assert sum(free.values()) >= 40 and all(p.mentor_id for p in pairs)
    assert elapsed < 1.0, f"the proposal took {elapsed:.2f}s"


def test_the_proposal_makes_the_same_number_of_queries_for_any_cohort_size(organization, other_organization):
    small = generate_cohort(organization, participants=8, mentors=6, seed=1)
    large = generate_cohort(other_organization, participants=40, mentors=30, seed=2)
    with CaptureQueriesContext(connection) as few:
        services.proposal_create(organization=organization, run=small)
    with CaptureQueriesContext(connection) as many:
        services.proposal_create(organization=other_organization, run=large)
    assert len(many.captured_queries) == len(few.captured_queries)
