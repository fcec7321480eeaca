"""The mentors demo data: realistic, in both organizations, idempotent."""

import importlib
import importlib.util

from core import demo
from mentors import demo as mentors_demo
from mentors.models import DevelopmentGoal, GoalCheckIn, Mentor, MentoringSession, MentorInvitation


def _seed():
    ctx = demo.seed(lambda message: None)
    # seed_demo runs the programs demo first (mentees, runs); use it when it exists.
    if importlib.util.find_spec("programs.demo") is not None:
        importlib.import_module("programs.demo").seed(ctx, lambda message: None)
    mentors_demo.seed(ctx, lambda message: None)
    return ctx


def _counts(ctx):
    return {
        model.__name__: sum(model.objects.for_organization(org).count() for org in ctx.organizations)
        for model in (Mentor, DevelopmentGoal, GoalCheckIn, MentoringSession, MentorInvitation)
    }


def test_demo_seeds_mentors_goals_and_check_ins_over_weeks_and_is_idempotent(db):
    ctx = _seed()
    first = _counts(ctx)
    assert first["DevelopmentGoal"] == 8 and first["GoalCheckIn"] >= 20

    for organization in ctx.organizations:
        shared = Mentor.objects.for_organization(organization).get(user=ctx.shared_mentor)
        goals = DevelopmentGoal.objects.for_organization(organization).filter(mentor=shared)
        assert {g.visibility for g in goals} == {"private", "shared"}
        check_ins = GoalCheckIn.objects.for_organization(organization).filter(goal__in=goals).order_by("created_at")
        span = check_ins.last().created_at - check_ins.first().created_at
        assert span.days >= 14

    assert _seed() and _counts(ctx) == first
