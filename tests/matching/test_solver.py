"""The solver alone (no database): tiers, capacity, conflicts, balance, first choices."""

import random
import time

from matching import solver
from matching.solver import Mentee, MentorSide, Problem


def _mentor(id, capacity=2, load=0, **kwargs):
    return MentorSide(id=id, capacity=capacity, load=load, **kwargs)


def test_a_mentor_never_gets_more_than_the_free_seats():
    problem = Problem(mentees=[Mentee(id=i) for i in range(1, 6)], mentors=[_mentor(100, capacity=3, load=1)])
    pairs = solver.solve(problem)
    assert sum(1 for p in pairs if p.mentor_id == 100) == 2
    assert [p.reasons for p in pairs if p.mentor_id is None] == [[{"code": "no_seat"}]] * 3


def test_a_conflict_is_never_proposed_even_when_it_leaves_someone_without_a_mentor():
    problem = Problem(
        mentees=[Mentee(id=1, needs=frozenset({"pricing"}))],
        mentors=[_mentor(100, areas=frozenset({"pricing"}))],
        participant_ranks={(1, 100): 1},
        conflicts={(1, 100)},
    )
    assert solver.solve(problem)[0].mentor_id is None


def test_first_choice_wins_over_a_better_fit():
    problem = Problem(
        mentees=[Mentee(id=1, needs=frozenset({"pricing"}), industry="b2b_saas"), Mentee(id=2)],
        mentors=[
            _mentor(100, capacity=1, areas=frozenset({"pricing"}), industries=frozenset({"b2b_saas"})),
            _mentor(200, capacity=1),
        ],
        participant_ranks={(2, 100): 1},
    )
    pairs = {p.mentee_id: p for p in solver.solve(problem)}
    assert pairs[2].mentor_id == 100 and pairs[2].first_choice
    assert pairs[1].mentor_id == 200


def test_balance_spreads_mentees_when_fits_are_equal():
    problem = Problem(mentees=[Mentee(id=i) for i in range(1, 5)], mentors=[_mentor(100, 4), _mentor(200, 4)])
    counts = {}
    for pair in solver.solve(problem):
        counts[pair.mentor_id] = counts.get(pair.mentor_id, 0) + 1
    assert counts == {100: 2, 200: 2}


def test_balance_counts_mentees_a_mentor_already_has():
    problem = Problem(mentees=[Mentee(id=1), Mentee(id=2)], mentors=[_mentor(100, 4, load=3), _mentor(200, 4)])
    assert {p.mentor_id for p in solver.solve(problem)} == {200}


def test_reasons_name_the_overlaps_the_goal_the_language_and_the_seats():
    problem = Problem(
        mentees=[Mentee(id=1, needs=frozenset({"pricing", "sales"}), industry="b2b_saas", stage="mvp", language="ko")],
        mentors=[
            _mentor(
                100,
                capacity=3,
                load=1,
                areas=frozenset({"sales"}),
                industries=frozenset({"b2b_saas"}),
                stages=frozenset({"mvp"}),
                languages=frozenset({"ko", "en"}),
                practice={"pricing": "Become a pricing coach"},
            )
        ],
        participant_ranks={(1, 100): 2},
    )
    pair = solver.solve(problem)[0]
    assert pair.reasons == [
        {"code": "areas", "values": ["sales"]},
        {"code": "industry", "value": "b2b_saas"},
        {"code": "stage", "value": "mvp"},
        {"code": "goal", "value": "pricing", "goal": "Become a pricing coach"},
        {"code": "language", "value": "ko"},
        {"code": "participant_choice", "rank": 2},
        {"code": "seats", "free": 2, "capacity": 3},
    ]
    assert pair.score == 3 + 2 + 2 + 2 + 1 + 4


def test_a_mentor_who_lists_other_languages_scores_lower():
    mentee = Mentee(id=1, needs=frozenset({"sales"}), language="ko")
    speaks = _mentor(100, areas=frozenset({"sales"}), languages=frozenset({"ko"}))
    does_not = _mentor(200, areas=frozenset({"sales"}), languages=frozenset({"en"}))
    problem = Problem(mentees=[mentee], mentors=[does_not, speaks])
    assert solver.solve(problem)[0].mentor_id == 100
    assert solver.pair_fit(problem, mentee, does_not) == (
        0,
        [{"code": "areas", "values": ["sales"]}, {"code": "no_common_language", "value": "ko"}],
    )


def test_mentor_first_choices_count_too():
    problem = Problem(
        mentees=[Mentee(id=1, needs=frozenset({"sales"})), Mentee(id=2)],
        mentors=[_mentor(100, capacity=1, areas=frozenset({"sales"})), _mentor(200, capacity=1)],
        mentor_ranks={(2, 100): 1},
    )
    assert {p.mentee_id: p.mentor_id for p in solver.solve(problem)} == {1: 200, 2: 100}


def test_no_mentees_no_pairs():
    assert solver.solve(Problem(mentees=[], mentors=[_mentor(1)])) == []


def test_a_large_cohort_is_solved_fast():
    rng = random.Random(7)
    mentees = [Mentee(id=i, needs=frozenset(rng.sample(["a", "b", "c", "d", "e"], 2))) for i in range(400)]
    mentors = [
        _mentor(1000 + j, capacity=rng.randint(1, 4), areas=frozenset(rng.sample(["a", "b", "c", "d", "e"], 2)))
        for j in range(300)
    ]
    started = time.perf_counter()
    pairs = solver.solve(Problem(mentees=mentees, mentors=mentors))
    assert time.perf_counter() - started < 10  # ten times the cohort, generously
    assert len(pairs) == 400
