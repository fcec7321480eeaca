"""Reads of the mentors app. Every read takes the organization explicitly.

Privacy rule: a development goal marked private is seen by its mentor only. Reads for
the program team go through :func:`goals_visible_to_program_team`, never through
:func:`goals_for_mentor`.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Avg, Case, Count, FloatField, Max, Prefetch, Q, QuerySet, Sum, Value, When
from django.db.models.functions import TruncMonth

from core.models import Organization, User
from mentors import links
from mentors.models import (
    DevelopmentGoal,
    GoalCheckIn,
    KeyResult,
    Mentor,
    MentoringApproach,
    MentoringSession,
    MentorInvitation,
    RunMentoringEssentials,
    SessionRating,
)
from programs import selectors as program_selectors
from programs.models import MentorAssignment, Participant, Run

# --- Mentors ---------------------------------------------------------------------------


def mentor_for_user(*, organization: Organization | None, user: User) -> Mentor | None:
    """The user's mentor engagement in this organization, if any."""
    if organization is None or not user.is_authenticated:
        return None
    return Mentor.objects.for_organization(organization).filter(user=user).select_related("user").first()


def mentor_engagements_for_user(*, user: User) -> QuerySet[Mentor]:
    """Every organization the user mentors for (the user's own rows; for the switcher)."""
    return (
        Mentor.objects.dangerously_all_organizations()
        .filter(user=user)
        .select_related("organization")
        .order_by("organization__name")
    )


def mentors_list(*, organization: Organization) -> QuerySet[Mentor]:
    return Mentor.objects.for_organization(organization).select_related("user").order_by("user__name", "id")


# --- Invitations -----------------------------------------------------------------------


def invitation_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_for_token(
    *, organization: Organization, token: str, for_update: bool = False
) -> MentorInvitation | None:
    queryset = MentorInvitation.objects.for_organization(organization).filter(token_hash=invitation_token_hash(token))
    if for_update:
        queryset = queryset.select_for_update()
    return queryset.first()


# --- Goals -----------------------------------------------------------------------------


def _with_goal_details(queryset: QuerySet[DevelopmentGoal]) -> QuerySet[DevelopmentGoal]:
    return queryset.select_related("mentor__user").prefetch_related(
        Prefetch("key_results", queryset=KeyResult.objects.order_by("id"))
    )


def goals_for_mentor(
    *, organization: Organization, mentor: Mentor, include_archived: bool = False
) -> QuerySet[DevelopmentGoal]:
    """A mentor's own goals, private and shared, with their key results."""
    queryset = DevelopmentGoal.objects.for_organization(organization).filter(mentor=mentor)
    if not include_archived:
        queryset = queryset.filter(archived_at__isnull=True)
    return _with_goal_details(queryset).order_by("archived_at", "target_date", "id")


def goal_for_mentor(*, organization: Organization, mentor: Mentor, goal_id: int) -> DevelopmentGoal:
    """One of the mentor's own goals; anyone else's raises ``DoesNotExist``."""
    return goals_for_mentor(organization=organization, mentor=mentor, include_archived=True).get(pk=goal_id)


def goals_visible_to_program_team(*, organization: Organization) -> QuerySet[DevelopmentGoal]:
    """Goals the mentors chose to share. Private goals never appear here."""
    queryset = DevelopmentGoal.objects.for_organization(organization).filter(
        visibility=DevelopmentGoal.Visibility.SHARED
    )
    return _with_goal_details(queryset).order_by("mentor_id", "target_date", "id")


def goal_progress(goal: DevelopmentGoal) -> Decimal:
    """Progress 0-100 derived from the goal's key results (their mean progress).

    Uses the prefetched key results when they are there (no extra query per goal).
    """
    key_results = list(goal.key_results.all())
    if not key_results:
        return Decimal("0")
    total = sum((kr.progress for kr in key_results), Decimal("0"))
    return (total / len(key_results)).quantize(Decimal("1"))


def goal_check_ins(*, organization: Organization, goal: DevelopmentGoal) -> QuerySet[GoalCheckIn]:
    return (
        GoalCheckIn.objects.for_organization(organization)
        .filter(goal=goal)
        .prefetch_related("readings__key_result")
        .order_by("created_at", "id")
    )


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    label: str
    progress: int


@dataclass(frozen=True)
class ProgressChart:
    """An inline-SVG line chart of a goal's progress over time (no JavaScript, no CDN)."""

    width: int
    height: int
    points: list[ChartPoint]

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)

    @property
    def gridlines(self) -> list[tuple[int, float]]:
        plot = self.height - 2 * CHART_PADDING
        return [(value, CHART_PADDING + plot * (1 - value / 100)) for value in (0, 50, 100)]


CHART_PADDING = 20


def goal_progress_chart(
    *, organization: Organization, goal: DevelopmentGoal, width: int = 320, height: int = 140
) -> ProgressChart:
    """Points of the goal's progress: at creation (0 %), then at each check-in."""
    check_ins = list(GoalCheckIn.objects.for_organization(organization).filter(goal=goal).order_by("created_at", "id"))
    series: list[tuple[datetime.datetime, Decimal]] = [(goal.created_at, Decimal("0"))]
    series += [(check_in.created_at, check_in.progress) for check_in in check_ins]
    start = series[0][0]
    span = (series[-1][0] - start).total_seconds()
    plot_width = width - 2 * CHART_PADDING
    plot_height = height - 2 * CHART_PADDING
    points = []
    for when, progress in series:
        share = (when - start).total_seconds() / span if span > 0 else 0.0
        points.append(
            ChartPoint(
                x=CHART_PADDING + plot_width * share,
                y=CHART_PADDING + plot_height * (1 - float(progress) / 100),
                label=f"{when:%m-%d}",
                progress=int(progress),
            )
        )
    return ProgressChart(width=width, height=height, points=points)


def goals_due_for_check_in(*, organization: Organization, today: datetime.date) -> list[DevelopmentGoal]:
    """Open goals whose last check-in (or creation) is ``checkin_cadence_days`` or more ago.

    For reminders: the mentor is reminded about their own goal, whatever its visibility.
    """
    goals = (
        DevelopmentGoal.objects.for_organization(organization)
        .filter(archived_at__isnull=True)
        .exclude(status=DevelopmentGoal.Status.DONE)
        .select_related("mentor__user")
        .annotate(last_check_in_at=Max("check_ins__created_at"))
        .order_by("id")
    )
    due = []
    for goal in goals:
        last = goal.last_check_in_at or goal.created_at
        if (today - last.date()).days >= goal.checkin_cadence_days:
            due.append(goal)
    return due


# --- Runs, mentees, approaches -------------------------------------------------------------


def runs_for_mentor(*, organization: Organization, mentor: Mentor) -> QuerySet:
    """Runs the mentor is assigned to (for the whole run or for an enrollment in it)."""
    run_ids = MentorAssignment.objects.for_organization(organization).filter(mentor=mentor).values("run_id")
    return Run.objects.for_organization(organization).filter(id__in=run_ids).select_related("program")


def mentee_enrollments(*, organization: Organization, mentor: Mentor) -> QuerySet:
    """The enrollments the mentor mentors (see programs' ``enrollments_for_mentor``)."""
    return program_selectors.enrollments_for_mentor(organization=organization, mentor=mentor)


def approach_for_run(*, organization: Organization, mentor: Mentor, run) -> MentoringApproach | None:
    return MentoringApproach.objects.for_organization(organization).filter(mentor=mentor, run=run).first()


def essentials_for_run(*, organization: Organization, run) -> RunMentoringEssentials | None:
    return RunMentoringEssentials.objects.for_organization(organization).filter(run=run).first()


# --- Sessions and ratings ----------------------------------------------------------------


#: Ratings stay anonymous: a session's average, scores and comments are shown (portal,
#: admin, API, reports) only once at least this many mentees rated it. With fewer, the
#: session's list of mentees present would tell whose rating it is.
MIN_RATERS = 3


def sessions_with_enough_raters(*, organization: Organization) -> QuerySet:
    """Ids of the sessions whose ratings may be shown (at least :data:`MIN_RATERS` raters)."""
    return (
        MentoringSession.objects.for_organization(organization)
        .annotate(raters=Count("ratings"))
        .filter(raters__gte=MIN_RATERS)
        .values("id")
    )


def with_session_details(queryset: QuerySet[MentoringSession]) -> QuerySet[MentoringSession]:
    """Sessions with their rating count and average (NULL below :data:`MIN_RATERS`), mentor and mentees present."""
    return (
        queryset.annotate(rating_count=Count("ratings"))
        .annotate(
            rating_average=Case(
                When(rating_count__gte=MIN_RATERS, then=Avg("ratings__score")),
                default=Value(None),
                output_field=FloatField(),
            )
        )
        .select_related("mentor__user")
        .prefetch_related("attendees__participant", "attendees__team")
        .order_by("-held_on", "-id")
    )


def sessions_annotated(*, organization: Organization) -> QuerySet[MentoringSession]:
    """Every session of the organization with its rating count and average."""
    return with_session_details(MentoringSession.objects.for_organization(organization))


def sessions_for_mentor(*, organization: Organization, mentor: Mentor) -> QuerySet[MentoringSession]:
    return sessions_annotated(organization=organization).filter(mentor=mentor, archived_at__isnull=True)


def session_for_mentor(*, organization: Organization, mentor: Mentor, session_id: int) -> MentoringSession:
    return sessions_for_mentor(organization=organization, mentor=mentor).get(pk=session_id)


def session_ratings_for_mentor(*, organization: Organization, mentor: Mentor) -> list[dict]:
    """The mentor's ratings without who gave them (score, comment, session date).

    Only from sessions with at least :data:`MIN_RATERS` raters: one mentee's rating of a
    one-to-one session would name itself.
    """
    rows = (
        SessionRating.objects.for_organization(organization)
        .filter(
            session__mentor=mentor,
            session__archived_at__isnull=True,
            session__in=sessions_with_enough_raters(organization=organization),
        )
        .order_by("-session__held_on", "score", "comment")
        .values("score", "comment", "session__held_on", "session__topics")
    )
    return [
        {
            "score": row["score"],
            "comment": row["comment"],
            "held_on": row["session__held_on"],
            "topics": row["session__topics"],
        }
        for row in rows
    ]


def mentor_rating_summary(*, organization: Organization, mentor: Mentor) -> dict:
    """The mentor's average over the sessions whose ratings may be shown (see :data:`MIN_RATERS`)."""
    summary = (
        SessionRating.objects.for_organization(organization)
        .filter(
            session__mentor=mentor,
            session__archived_at__isnull=True,
            session__in=sessions_with_enough_raters(organization=organization),
        )
        .aggregate(average=Avg("score"), count=Count("id"))
    )
    return {"average": summary["average"], "count": summary["count"]}


def mentor_activity_by_month(*, organization: Organization, since: datetime.date) -> list[dict]:
    """Sessions per mentor per month since a date, with their average rating.

    One query for the sessions and one for the ratings, however many mentors.
    """
    sessions = (
        MentoringSession.objects.for_organization(organization)
        .filter(archived_at__isnull=True, held_on__gte=since)
        .annotate(month=TruncMonth("held_on"))
        .values("mentor_id", "month")
        .annotate(sessions=Count("id"), minutes=Sum("duration_minutes"))
        .order_by("mentor_id", "month")
    )
    ratings = (
        SessionRating.objects.for_organization(organization)
        .filter(
            session__archived_at__isnull=True,
            session__held_on__gte=since,
            session__in=sessions_with_enough_raters(organization=organization),
        )
        .annotate(month=TruncMonth("session__held_on"))
        .values("session__mentor_id", "month")
        .annotate(average=Avg("score"), count=Count("id"))
        .order_by()
    )
    rating_by_key = {(row["session__mentor_id"], _as_date(row["month"])): row for row in ratings}
    result = []
    for row in sessions:
        month = _as_date(row["month"])
        rating = rating_by_key.get((row["mentor_id"], month), {})
        result.append(
            {
                "mentor_id": row["mentor_id"],
                "month": month,
                "sessions": row["sessions"],
                "minutes": row["minutes"] or 0,
                "rating_average": rating.get("average"),
                "rating_count": rating.get("count", 0),
            }
        )
    return result


def _as_date(value) -> datetime.date:
    return value.date() if isinstance(value, datetime.datetime) else value


def session_participants(*, organization: Organization, session: MentoringSession) -> list:
    """The participants present at a session: solo enrollees and members of teams present."""
    enrollments = session.attendees.all()
    participant_ids = {e.participant_id for e in enrollments if e.participant_id}
    team_ids = {e.team_id for e in enrollments if e.team_id}
    queryset = Participant.objects.for_organization(organization).filter(
        Q(id__in=participant_ids) | Q(team_memberships__team_id__in=team_ids)
    )
    return list(queryset.distinct().order_by("name", "id"))


def session_and_participant_for_rating_token(*, token: str) -> tuple[MentoringSession, object] | None:
    """The session and the participant a valid rating link is for, else None.

    The organization comes from the signed payload: the link works without a login.
    """
    try:
        payload = links.session_rating_token_read(token)
    except links.LinkInvalid:
        return None
    organization = Organization.objects.filter(pk=payload["o"]).first()
    if organization is None:
        return None
    session = (
        MentoringSession.objects.for_organization(organization)
        .filter(pk=payload["s"], archived_at__isnull=True)
        .select_related("mentor__user", "organization")
        .first()
    )
    participant = Participant.objects.for_organization(organization).filter(pk=payload["p"]).first()
    if session is None or participant is None:
        return None
    return session, participant


# --- Views of the programs app, as the portal needs them ------------------------------------------


def open_help_requests(*, organization: Organization, mentor: Mentor) -> QuerySet:
    """Unanswered help requests routed to the mentor, oldest first."""
    return program_selectors.open_help_requests_for_mentor(organization=organization, mentor=mentor)


def help_request_for_mentor(*, organization: Organization, mentor: Mentor, help_request_id: int):
    """A help request routed to the mentor (open or answered), else None."""
    return (
        program_selectors.help_requests_for_mentor(organization=organization, mentor=mentor)
        .filter(pk=help_request_id)
        .first()
    )


def mentee_milestones(*, organization: Organization, enrollment) -> list:
    return program_selectors.milestone_progress_for_enrollment(organization=organization, enrollment=enrollment)


def mentee_latest_check_ins(*, organization: Organization, enrollment, limit: int = 5):
    return program_selectors.latest_check_ins(organization=organization, enrollment=enrollment, limit=limit)


def user_exists(*, email: str) -> bool:
    return User.objects.filter(email__iexact=email).exists()
