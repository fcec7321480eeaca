"""The matching itself: a maximum-weight assignment of enrollments to mentor seats.

Pure Python over plain values (no database), so that it can be tested and timed alone.

Each mentor's free seats become columns of a matrix (a mentor with two free seats is two
columns); each enrollment is a row; every row also gets a "no mentor" column of its own,
so that a solution always exists. SciPy's ``linear_sum_assignment`` (a shortest augmenting
path solver, exact) picks the assignment of greatest total value. The value of a pair is
built in tiers, each larger than anything the tiers below can add up to:

1. a stated first choice (the participant's first choice of mentor, or the mentor's first
   choice of mentee) honoured: ``FIRST_CHOICE``;
2. the enrollment gets a mentor at all: ``ASSIGNED``;
3. the fit: shared areas, industry, stage, language, the mentor's practice goals, lower
   ranked choices (``pair_fit``), minus a growing cost per seat already taken
   (``BALANCE`` × the seat's place), which spreads mentees across mentors.

So the solution honours as many first choices as any assignment within capacity and
conflicts can; then gives as many enrollments a mentor as it can; then fits best.
Conflicts are not columns a row may take (their cost is prohibitive).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

# Points of the fit, as shown to program managers (the score of a pair).
POINTS_PER_SHARED_AREA = 3
MAX_SHARED_AREAS = 3
POINTS_INDUSTRY = 2
POINTS_STAGE = 2
POINTS_PER_PRACTICE_AREA = 2
MAX_PRACTICE_AREAS = 2
POINTS_LANGUAGE = 1
PENALTY_NO_COMMON_LANGUAGE = 3
POINTS_BY_RANK = {1: 6, 2: 4, 3: 2}

# Solver tiers (see the module docstring). Fits stay below 100 points.
BALANCE = 2.0
ASSIGNED = 1_000.0
_FORBIDDEN = 1e12


@dataclass(frozen=True)
class Mentee:
    """An enrollment as matching sees it."""

    id: int
    needs: frozenset[str] = frozenset()
    industry: str = ""
    stage: str = ""
    language: str = ""


@dataclass(frozen=True)
class MentorSide:
    """A mentor as matching sees it. ``practice`` maps an area to the title of the (shared) goal that names it."""

    id: int
    capacity: int
    load: int
    areas: frozenset[str] = frozenset()
    industries: frozenset[str] = frozenset()
    stages: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    practice: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.load)


@dataclass
class Problem:
    mentees: list[Mentee]
    mentors: list[MentorSide]
    participant_ranks: dict[tuple[int, int], int] = field(default_factory=dict)  # (mentee, mentor) → rank
    mentor_ranks: dict[tuple[int, int], int] = field(default_factory=dict)  # (mentee, mentor) → rank
    conflicts: set[tuple[int, int]] = field(default_factory=set)  # (mentee, mentor)


@dataclass
class Pair:
    mentee_id: int
    mentor_id: int | None
    score: int = 0
    reasons: list[dict] = field(default_factory=list)
    first_choice: bool = False


def pair_fit(problem: Problem, mentee: Mentee, mentor: MentorSide) -> tuple[int, list[dict]]:
    """The score of one pair and its reasons (codes with values; ``matching.reasons`` words them)."""
    points, reasons = 0, []
    shared = sorted(mentee.needs & mentor.areas)
    if shared:
        points += POINTS_PER_SHARED_AREA * min(len(shared), MAX_SHARED_AREAS)
        reasons.append({"code": "areas", "values": shared})
    if mentee.industry and mentee.industry in mentor.industries:
        points += POINTS_INDUSTRY
        reasons.append({"code": "industry", "value": mentee.industry})
    if mentee.stage and mentee.stage in mentor.stages:
        points += POINTS_STAGE
        reasons.append({"code": "stage", "value": mentee.stage})
    practised = sorted(area for area in mentee.needs if area in mentor.practice)
    for area in practised[:MAX_PRACTICE_AREAS]:
        points += POINTS_PER_PRACTICE_AREA
        reasons.append({"code": "goal", "value": area, "goal": mentor.practice[area]})
    if mentor.languages and mentee.language:
        if mentee.language in mentor.languages:
            points += POINTS_LANGUAGE
            reasons.append({"code": "language", "value": mentee.language})
        else:
            points -= PENALTY_NO_COMMON_LANGUAGE
            reasons.append({"code": "no_common_language", "value": mentee.language})
    rank = problem.participant_ranks.get((mentee.id, mentor.id))
    if rank:
        points += POINTS_BY_RANK.get(rank, 0)
        reasons.append({"code": "participant_choice", "rank": rank})
    rank = problem.mentor_ranks.get((mentee.id, mentor.id))
    if rank:
        points += POINTS_BY_RANK.get(rank, 0)
        reasons.append({"code": "mentor_choice", "rank": rank})
    return max(points, 0), reasons


def is_first_choice(problem: Problem, mentee_id: int, mentor_id: int) -> bool:
    key = (mentee_id, mentor_id)
    return problem.participant_ranks.get(key) == 1 or problem.mentor_ranks.get(key) == 1


def solve(problem: Problem) -> list[Pair]:
    """One pair per mentee (``mentor_id`` None when no seat fits), in the mentees' order."""
    mentees, n = problem.mentees, len(problem.mentees)
    seats = [(mentor, place) for mentor in problem.mentors for place in range(mentor.free)]
    if n == 0:
        return []
    first_choice_value = ASSIGNED * (n + 1)
    fits: dict[tuple[int, int], tuple[int, list[dict]]] = {}
    cost = np.zeros((n, len(seats) + n))
    for row, mentee in enumerate(mentees):
        for mentor in problem.mentors:
            if (mentee.id, mentor.id) not in problem.conflicts:
                fits[(mentee.id, mentor.id)] = pair_fit(problem, mentee, mentor)
        for column, (mentor, place) in enumerate(seats):
            fit = fits.get((mentee.id, mentor.id))
            if fit is None:
                cost[row, column] = _FORBIDDEN
                continue
            value = ASSIGNED + fit[0] - BALANCE * (mentor.load + place)
            if is_first_choice(problem, mentee.id, mentor.id):
                value += first_choice_value
            cost[row, column] = -value
        # Columns len(seats)... are "no mentor": cost 0, one per row.
    rows, columns = linear_sum_assignment(cost)
    chosen = dict(zip(rows.tolist(), columns.tolist(), strict=True))
    pairs = []
    for row, mentee in enumerate(mentees):
        column = chosen[row]
        if column >= len(seats) or cost[row, column] >= _FORBIDDEN:
            pairs.append(Pair(mentee_id=mentee.id, mentor_id=None, reasons=[{"code": "no_seat"}]))
            continue
        mentor = seats[column][0]
        score, reasons = fits[(mentee.id, mentor.id)]
        pairs.append(
            Pair(
                mentee_id=mentee.id,
                mentor_id=mentor.id,
                score=score,
                reasons=[*reasons, {"code": "seats", "free": mentor.free, "capacity": mentor.capacity}],
                first_choice=is_first_choice(problem, mentee.id, mentor.id),
            )
        )
    return pairs
