"""Selectors of the mentors app: privacy, derived progress, charts, reminders, activity, rating links."""

import datetime
from decimal import Decimal

from django.core import signing
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mentors import links, selectors, services
from mentors.models import DevelopmentGoal, GoalCheckIn
from tests.factories.mentors import DevelopmentGoalFactory, KeyResultFactory, MentorFactory, MentoringSessionFactory


def test_goals_for_mentor_are_the_mentors_own_and_in_one_organization(
    organization, portal_mentor, goal, shared_goal, second_mentor, foreign_mentor
):
    DevelopmentGoalFactory(mentor=second_mentor)
    DevelopmentGoalFactory(mentor=foreign_mentor)
    own = selectors.goals_for_mentor(organization=organization, mentor=portal_mentor)
    assert set(own) == {goal, shared_goal}


def test_archived_goals_are_left_out_unless_asked_for(organization, portal_mentor, goal):
    services.goal_archive(organization=organization, goal=goal)
    assert list(selectors.goals_for_mentor(organization=organization, mentor=portal_mentor)) == []
    assert list(selectors.goals_for_mentor(organization=organization, mentor=portal_mentor, include_archived=True)) == [
        goal
    ]


def test_the_program_team_sees_shared_goals_only(organization, goal, shared_goal, foreign_mentor):
    DevelopmentGoalFactory(mentor=foreign_mentor, visibility=DevelopmentGoal.Visibility.SHARED)
    assert list(selectors.goals_visible_to_program_team(organization=organization)) == [shared_goal]


def test_goal_progress_is_the_mean_of_key_results_and_zero_without_any(organization, portal_mentor):
    empty = DevelopmentGoalFactory(mentor=portal_mentor)
    assert selectors.goal_progress(empty) == 0
    KeyResultFactory(goal=empty, start_value=0, current_value=10, target_value=10)
    KeyResultFactory(goal=empty, start_value=0, current_value=Decimal("2.5"), target_value=10)
    KeyResultFactory(goal=empty, start_value=0, current_value=15, target_value=10)  # capped at 100 %
    assert selectors.goal_progress(empty) == 75


def test_progress_of_listed_goals_needs_no_query_per_goal(organization, portal_mentor):
    for _ in range(4):
        KeyResultFactory(goal=DevelopmentGoalFactory(mentor=portal_mentor))
    with CaptureQueriesContext(connection) as queries:
        goals = list(selectors.goals_for_mentor(organization=organization, mentor=portal_mentor))
        [selectors.goal_progress(goal) for goal in goals]
    assert len(queries) == 2


def test_the_progress_chart_starts_at_zero_and_follows_check_ins(organization, goal):
    first, second = goal.key_results.order_by("id")
    services.goal_check_in(organization=organization, goal=goal, confidence=3, values={first.pk: 1})
    services.goal_check_in(organization=organization, goal=goal, confidence=4, values={first.pk: 2, second.pk: 4.5})
    chart = selectors.goal_progress_chart(organization=organization, goal=goal, width=300, height=120)
    assert [p.progress for p in chart.points] == [0, 25, 100]
    xs = [p.x for p in chart.points]
    assert xs == sorted(xs) and xs[0] == 20 and xs[-1] == 280
    assert chart.points[-1].y == 20 and chart.points[0].y == 100  # 100 % at the top, 0 % at the bottom
    assert chart.polyline.count(",") == 3


def test_goals_due_for_check_in_follow_each_goals_cadence(organization, portal_mentor):
    weekly = DevelopmentGoalFactory(mentor=portal_mentor, checkin_cadence_days=7)
    monthly = DevelopmentGoalFactory(mentor=portal_mentor, checkin_cadence_days=30)
    done = DevelopmentGoalFactory(mentor=portal_mentor, checkin_cadence_days=7, status=DevelopmentGoal.Status.DONE)
    ten_days_ago = timezone.now() - datetime.timedelta(days=10)
    DevelopmentGoal.objects.for_organization(organization).filter(pk__in=[weekly.pk, monthly.pk, done.pk]).update(
        created_at=ten_days_ago
    )
    today = timezone.localdate()
    assert selectors.goals_due_for_check_in(organization=organization, today=today) == [weekly]

    check_in = services.goal_check_in(organization=organization, goal=weekly, confidence=3)
    assert selectors.goals_due_for_check_in(organization=organization, today=today) == []
    GoalCheckIn.objects.for_organization(organization).filter(pk=check_in.pk).update(created_at=ten_days_ago)
    assert selectors.goals_due_for_check_in(organization=organization, today=today) == [weekly]


def _three_mentees(run, mentor, mentee):
    """``mentee`` and two more: a session's ratings count from three raters on (anonymity)."""
    from programs import services as program_services
    from tests.factories.programs import EnrollmentFactory

    more = [EnrollmentFactory(run=run) for _ in range(2)]
    for enrollment in more:
        program_services.mentor_assign(organization=run.organization, run=run, mentor=mentor, enrollment=enrollment)
    return [mentee, *more]


def test_activity_by_month_counts_sessions_and_averages_ratings(
    organization, run, portal_mentor, mentee, foreign_mentor
):
    april = datetime.date(2026, 4, 7)
    present = _three_mentees(run, portal_mentor, mentee)
    rated = services.session_log(organization=organization, mentor=portal_mentor, held_on=april, attendees=present)
    for enrollment, score in zip(present, (3, 4, 5), strict=True):
        services.session_rate(organization=organization, session=rated, participant=enrollment.participant, score=score)
    MentoringSessionFactory(mentor=portal_mentor, held_on=datetime.date(2026, 4, 20), duration_minutes=30)
    MentoringSessionFactory(mentor=portal_mentor, held_on=datetime.date(2026, 5, 2))
    MentoringSessionFactory(mentor=foreign_mentor, held_on=april)

    rows = selectors.mentor_activity_by_month(organization=organization, since=datetime.date(2026, 1, 1))

    assert rows == [
        {
            "mentor_id": portal_mentor.pk,
            "month": datetime.date(2026, 4, 1),
            "sessions": 2,
            "minutes": 90,
            "rating_average": 4.0,
            "rating_count": 3,
        },
        {
            "mentor_id": portal_mentor.pk,
            "month": datetime.date(2026, 5, 1),
            "sessions": 1,
            "minutes": 60,
            "rating_average": None,
            "rating_count": 0,
        },
    ]


def test_ratings_for_the_mentor_carry_no_rater(organization, run, portal_mentor, mentee):
    present = _three_mentees(run, portal_mentor, mentee)
    session = services.session_log(
        organization=organization, mentor=portal_mentor, held_on=datetime.date(2026, 4, 7), attendees=present
    )
    for enrollment in present:
        services.session_rate(organization=organization, session=session, participant=enrollment.participant, score=5)
    rows = selectors.session_ratings_for_mentor(organization=organization, mentor=portal_mentor)
    assert rows == [{"score": 5, "comment": "", "held_on": datetime.date(2026, 4, 7), "topics": ""}] * 3
    assert selectors.mentor_rating_summary(organization=organization, mentor=portal_mentor) == {
        "average": 5.0,
        "count": 3,
    }


def test_rating_tokens_resolve_and_reject_forgeries(organization, portal_mentor, mentee):
    session = services.session_log(
        organization=organization, mentor=portal_mentor, held_on=datetime.date(2026, 4, 7), attendees=[mentee]
    )
    token = links.session_rating_token(session=session, participant=mentee.participant)
    assert selectors.session_and_participant_for_rating_token(token=token) == (session, mentee.participant)
    forged = signing.dumps({"o": organization.pk, "s": session.pk, "p": mentee.participant.pk}, salt="other-salt")
    assert selectors.session_and_participant_for_rating_token(token=forged) is None
    session.archived_at = timezone.now()
    session.save()
    assert selectors.session_and_participant_for_rating_token(token=token) is None


def test_mentor_engagements_span_organizations(organization, other_organization, mentor_user, portal_mentor):
    MentorFactory(organization=other_organization, user=mentor_user)
    engagements = selectors.mentor_engagements_for_user(user=mentor_user)
    assert {m.organization_id for m in engagements} == {organization.pk, other_organization.pk}
