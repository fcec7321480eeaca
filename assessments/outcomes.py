# ruff: noqa: S608 -- the SQL below interpolates only table names from model metadata and
# constant expressions; every value is a query parameter.
"""Outcomes beside process health, per run and across the organization's runs.

Outcomes: levels from the level assessments (distribution and growth per
participant, by self / mentor / program manager) and milestone completion and
on-time rates. Process health: check-ins per participant per week, participants
silent for N days, the median time to a first response to help requests (per run
and per mentor), sessions held and the average session rating (only shown from
three ratings on: ratings are anonymous).

Every figure is aggregated by the database; a report makes the same number of
queries for 3 enrollments as for 3,000 (tests check this). What each number means
for program managers: docs/assessments.md, "Outcomes and process".
"""

from __future__ import annotations

import csv
import datetime
import io
import zoneinfo
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, F, Q
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments.models import Assessment, AssessmentWindow, Level
from assessments.reports import _fetch, _growth_windows, _number, _placeholders, _table
from core.models import Organization, User
from mentors.models import Mentor, MentoringSession, SessionAttendance, SessionRating
from mentors.selectors import MIN_RATERS
from programs.models import (
    CheckIn,
    Enrollment,
    HelpRequest,
    MentorAssignment,
    Milestone,
    MilestoneProgress,
    Participant,
    Run,
    Team,
    TeamMembership,
)
from programs.selectors import CURRENT_ENROLLMENT_STATUSES

# Session ratings are anonymous: only sessions with at least this many raters count (as
# everywhere else, see mentors.selectors), and no average is shown of fewer ratings.
RATINGS_THRESHOLD = MIN_RATERS
DEFAULT_SILENT_DAYS = 14
MAX_SILENT_DAYS = 365
ROLES = (Assessment.Role.SELF, Assessment.Role.MENTOR, Assessment.Role.PM)


def _zone(organization) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(organization.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("Asia/Seoul")


def _seconds_between(later: str, earlier: str) -> str:
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


def _percent(part: int, whole: int) -> float | None:
    return None if not whole else round(100 * part / whole, 1)


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 1)


# --- results -----------------------------------------------------------------------------


@dataclass
class RoleGrowth:
    """Growth of one assessor role's ratings between the run's before and after windows."""

    role: str
    subjects: int = 0  # participants with this role's rating in both windows
    mean_before: float | None = None
    mean_after: float | None = None
    mean_delta: float | None = None

    @property
    def label(self) -> str:
        return str(Assessment.Role(self.role).label)


@dataclass
class Ratings:
    count: int = 0  # ratings that may be shown: of sessions with at least three raters
    raw_average: float | None = None
    withheld: int = 0  # ratings of sessions with fewer than three raters: never averaged

    @property
    def average(self) -> float | None:
        """The average score, or None below three ratings (they are anonymous)."""
        return self.raw_average if self.count >= RATINGS_THRESHOLD else None

    @property
    def hidden(self) -> bool:
        """Ratings exist, but too few may be shown to give an average."""
        return self.count < RATINGS_THRESHOLD and (self.count + self.withheld) > 0


@dataclass
class ResponseTimes:
    help_requests: int = 0
    answered: int = 0
    median_seconds: float | None = None

    @property
    def unanswered(self) -> int:
        return self.help_requests - self.answered

    @property
    def median_hours(self) -> float | None:
        return _hours(self.median_seconds)


@dataclass
class RunOutcomeRow:
    """One run's outcomes and process health: one row of the organization-wide view."""

    run: object
    silent_days: int
    before_window: AssessmentWindow | None = None
    after_window: AssessmentWindow | None = None
    enrollments: int = 0  # current (applied or active, not archived)
    growth: dict[str, RoleGrowth] = field(default_factory=dict)
    milestones: int = 0
    milestones_due: int = 0  # due date passed
    done: int = 0  # milestone x enrollment pairs done
    done_on_time: int = 0  # of milestones due, done by the due date
    check_ins: int = 0
    weeks: float | None = None  # weeks of the run so far (None before it starts)
    silent: int = 0
    responses: ResponseTimes = field(default_factory=ResponseTimes)
    sessions: int = 0
    ratings: Ratings = field(default_factory=Ratings)

    @property
    def growth_by_role(self) -> list[RoleGrowth]:
        return [self.growth[role] for role in ROLES]

    @property
    def pairs(self) -> int:
        """Milestone x current enrollment: what completion is counted against."""
        return self.milestones * self.enrollments

    @property
    def due_pairs(self) -> int:
        return self.milestones_due * self.enrollments

    @property
    def completion_percent(self) -> float | None:
        return _percent(self.done, self.pairs)

    @property
    def on_time_percent(self) -> float | None:
        return _percent(self.done_on_time, self.due_pairs)

    @property
    def check_ins_per_participant_week(self) -> float | None:
        if not self.enrollments or not self.weeks:
            return None
        return round(self.check_ins / self.enrollments / self.weeks, 2)


@dataclass
class LevelBar:
    number: int
    name: str
    counts: dict[str, int]  # role -> ratings at this level


@dataclass
class WindowDistribution:
    window: AssessmentWindow
    bars: list[LevelBar]

    @property
    def max_count(self) -> int:
        return max([1, *(n for bar in self.bars for n in bar.counts.values())])


@dataclass
class ParticipantLevels:
    enrollment_id: int
    name: str
    before: dict[str, float | None]  # role -> mean level in the before window
    after: dict[str, float | None]

    def delta(self, role: str) -> float | None:
        before, after = self.before.get(role), self.after.get(role)
        return None if before is None or after is None else round(after - before, 2)

    @property
    def by_role(self) -> list[tuple[str, float | None, float | None, float | None]]:
        return [(role, self.before.get(role), self.after.get(role), self.delta(role)) for role in ROLES]

    @property
    def role_levels(self) -> list[dict]:
        return [{"role": r, "before": b, "after": a, "change": d} for r, b, a, d in self.by_role]


@dataclass
class MentorProcess:
    mentor_id: int
    name: str
    responses: ResponseTimes = field(default_factory=ResponseTimes)
    sessions: int = 0
    ratings: Ratings = field(default_factory=Ratings)


@dataclass
class RunOutcomes:
    """The run page: the run's row, with the level distribution, participants and mentors."""

    row: RunOutcomeRow
    levels: list[Level]
    distributions: list[WindowDistribution]
    participants: list[ParticipantLevels]
    mentors: list[MentorProcess]

    @property
    def run(self):
        return self.row.run

    @property
    def roles(self) -> list[tuple[str, str]]:
        return [(role.value, str(role.label)) for role in ROLES]


@dataclass
class OrganizationOutcomes:
    organization: Organization
    silent_days: int
    rows: list[RunOutcomeRow]


# --- computation ---------------------------------------------------------------------------


def _run_rows(*, organization, runs, windows, silent_days: int, now: datetime.datetime) -> dict[int, RunOutcomeRow]:
    """Fill one row per run; a fixed number of queries whatever the number of runs and people."""
    zone = _zone(organization)
    today = now.astimezone(zone).date()
    rows = {run.pk: RunOutcomeRow(run=run, silent_days=silent_days) for run in runs}
    single = runs[0].pk if len(runs) == 1 else None

    def scoped(queryset, run_field: str):
        return queryset.filter(**{run_field: single}) if single is not None else queryset

    # Windows of growth: per run, the first pre and the last post window (as the cohort report).
    by_run: dict[int, list[AssessmentWindow]] = {}
    for window in windows:
        by_run.setdefault(window.run_id, []).append(window)
    for run_id, run_windows in by_run.items():
        if run_id in rows:
            rows[run_id].before_window, rows[run_id].after_window = _growth_windows(run_windows)
    for row in rows.values():
        row.growth = {role: RoleGrowth(role=role) for role in ROLES}
        until = max(row.run.starts_on, min(today, row.run.ends_on))
        if today >= row.run.starts_on:
            row.weeks = max(1.0, ((until - row.run.starts_on).days + 1) / 7)

    # 1. Current enrollments and silent participants.
    quiet_since = now - datetime.timedelta(days=silent_days)
    current = Q(archived_at__isnull=True, status__in=CURRENT_ENROLLMENT_STATUSES)
    for item in (
        scoped(Enrollment.objects.for_organization(organization).filter(current), "run_id")
        .values("run_id")
        .annotate(
            n=Count("id"),
            never=Count("id", filter=Q(last_contact_at__isnull=True)),
            quiet=Count("id", filter=Q(last_contact_at__lt=quiet_since)),
        )
        .order_by()
    ):
        row = rows.get(item["run_id"])
        if row is None:
            continue
        row.enrollments = item["n"]
        # Never heard from counts once the run is N days old (as the run dashboard does).
        row.silent = item["quiet"] + (item["never"] if (today - row.run.starts_on).days > silent_days else 0)

    # 2. Check-ins of current enrollments.
    for item in (
        scoped(
            CheckIn.objects.for_organization(organization).filter(
                archived_at__isnull=True,
                enrollment__archived_at__isnull=True,
                enrollment__status__in=CURRENT_ENROLLMENT_STATUSES,
            ),
            "enrollment__run_id",
        )
        .values("enrollment__run_id")
        .annotate(n=Count("id"))
        .order_by()
    ):
        if item["enrollment__run_id"] in rows:
            rows[item["enrollment__run_id"]].check_ins = item["n"]

    # 3. Milestones, and the progress of current enrollments on them.
    for item in (
        scoped(Milestone.objects.for_organization(organization), "run_id")
        .values("run_id")
        .annotate(n=Count("id"), due=Count("id", filter=Q(due_on__lt=today)))
        .order_by()
    ):
        if item["run_id"] in rows:
            rows[item["run_id"]].milestones, rows[item["run_id"]].milestones_due = item["n"], item["due"]
    for item in (
        scoped(
            MilestoneProgress.objects.for_organization(organization).filter(
                status=MilestoneProgress.Status.DONE,
                enrollment__archived_at__isnull=True,
                enrollment__status__in=CURRENT_ENROLLMENT_STATUSES,
            ),
            "milestone__run_id",
        )
        .annotate(done_on=TruncDate("updated_at", tzinfo=zone))
        .values("milestone__run_id")
        .annotate(
            n=Count("id"),
            on_time=Count("id", filter=Q(milestone__due_on__lt=today, done_on__lte=F("milestone__due_on"))),
        )
        .order_by()
    ):
        row = rows.get(item["milestone__run_id"])
        if row is not None:
            row.done, row.done_on_time = item["n"], item["on_time"]

    # 4. Help requests: count, answered, median time to the first response.
    help_request, enrollment = _table(HelpRequest), _table(Enrollment)
    run_filter = "AND e.run_id = %s" if single is not None else ""
    run_param = [single] if single is not None else []
    wait = _seconds_between("h.first_response_at", "h.created_at")
    for run_id, total, answered, median in _fetch(
        _median_sql(
            f"""
            SELECT e.run_id AS grp, {wait} AS wait
            FROM {help_request} h JOIN {enrollment} e ON e.id = h.enrollment_id
            WHERE h.organization_id = %s AND h.archived_at IS NULL AND e.archived_at IS NULL {run_filter}
            """
        ),
        [organization.pk, *run_param],
    ):
        if run_id in rows:
            rows[run_id].responses = ResponseTimes(int(total), int(answered or 0), _seconds(median))

    # 5. Sessions held with the run's enrollments, and their ratings by the run's participants.
    for part, run_id, count, average, withheld in _fetch(
        _sessions_sql(
            group="e.run_id",
            session=_table(MentoringSession),
            attendance=_table(SessionAttendance),
            rating=_table(SessionRating),
            enrollment=enrollment,
            membership=_table(TeamMembership),
            run_filter=run_filter,
        ),
        [organization.pk, today, *run_param, organization.pk, RATINGS_THRESHOLD, organization.pk, today, *run_param],
    ):
        row = rows.get(run_id)
        if row is None:
            continue
        if part == "sessions":
            row.sessions = int(count)
        else:
            row.ratings = Ratings(int(count), _number(average), int(withheld))

    # 6. Growth per assessor role, between each run's before and after windows.
    growth_sql, growth_params = _growth_sql(organization=organization, rows=rows, single=single)
    for run_id, role, subjects, mean_before, mean_after, mean_delta in _fetch(
        f"""
        WITH pairs AS ({growth_sql})
        SELECT run_id, role, COUNT(*), AVG(before_level), AVG(after_level), AVG(after_level - before_level)
        FROM pairs WHERE before_level IS NOT NULL AND after_level IS NOT NULL
        GROUP BY run_id, role
        """,
        growth_params,
    ):
        row = rows.get(run_id)
        if row is not None and role in row.growth:
            row.growth[role] = RoleGrowth(
                role=role,
                subjects=int(subjects),
                mean_before=_number(mean_before),
                mean_after=_number(mean_after),
                mean_delta=_number(mean_delta),
            )
    return rows


def _seconds(value) -> float | None:
    return None if value is None else round(float(value), 1)


def _median_sql(base: str) -> str:
    """Count, answered and median wait per ``grp`` of ``base`` (columns grp, wait; NULL wait: unanswered).

    The median is portable (window functions, as in ``reports``): the middle one or two
    waits in order, averaged.
    """
    return f"""
    WITH base AS ({base}),
    ranked AS (
        SELECT grp, wait,
               ROW_NUMBER() OVER (PARTITION BY grp ORDER BY wait) AS pos,
               COUNT(*) OVER (PARTITION BY grp) AS n
        FROM base WHERE wait IS NOT NULL
    ),
    medians AS (
        SELECT grp, CAST(AVG(CASE WHEN pos IN ((n + 1) / 2, (n + 2) / 2) THEN wait END) AS DOUBLE PRECISION)
                   AS median
        FROM ranked GROUP BY grp
    )
    SELECT b.grp, COUNT(*), COUNT(b.wait), MAX(m.median)
    FROM base b LEFT JOIN medians m ON m.grp = b.grp
    GROUP BY b.grp
    """


def _sessions_sql(*, group, session, attendance, rating, enrollment, membership, run_filter) -> str:
    """Sessions held (on or before today, not archived) with an enrollment of the run, and their ratings.

    A rating counts for a run when the rater is the enrolled participant or a member of
    the enrolled team; each rating counts once per group. Ratings of a session with fewer
    than ``RATINGS_THRESHOLD`` raters in all are withheld: counted apart, never averaged.
    """
    return f"""
    SELECT 'sessions', grp, CAST(COUNT(DISTINCT session_id) AS DOUBLE PRECISION), NULL, NULL
    FROM (
        SELECT {group} AS grp, s.id AS session_id
        FROM {session} s
        JOIN {attendance} sa ON sa.session_id = s.id
        JOIN {enrollment} e ON e.id = sa.enrollment_id AND e.archived_at IS NULL
        WHERE s.organization_id = %s AND s.archived_at IS NULL AND s.held_on <= %s {run_filter}
    ) held
    GROUP BY grp
    UNION ALL
    SELECT 'ratings', grp,
           CAST(SUM(CASE WHEN shown = 1 THEN 1 ELSE 0 END) AS DOUBLE PRECISION),
           CAST(AVG(CASE WHEN shown = 1 THEN score END) AS DOUBLE PRECISION),
           CAST(SUM(CASE WHEN shown = 1 THEN 0 ELSE 1 END) AS DOUBLE PRECISION)
    FROM (
        SELECT DISTINCT {group} AS grp, r.id AS rating_id, r.score AS score,
               CASE WHEN big.session_id IS NULL THEN 0 ELSE 1 END AS shown
        FROM {rating} r
        JOIN {session} s ON s.id = r.session_id
        LEFT JOIN (
            SELECT session_id FROM {rating} WHERE organization_id = %s GROUP BY session_id HAVING COUNT(*) >= %s
        ) big ON big.session_id = r.session_id
        JOIN {attendance} sa ON sa.session_id = s.id
        JOIN {enrollment} e ON e.id = sa.enrollment_id AND e.archived_at IS NULL
        WHERE r.organization_id = %s AND s.archived_at IS NULL AND s.held_on <= %s {run_filter}
          AND (e.participant_id = r.participant_id OR EXISTS (
              SELECT 1 FROM {membership} tm WHERE tm.team_id = e.team_id AND tm.participant_id = r.participant_id
          ))
    ) rated
    GROUP BY grp
    """


def _growth_sql(*, organization, rows: dict[int, RunOutcomeRow], single) -> tuple[str, list]:
    """Per (run, enrollment, role): the mean level that role gave in the before and in the after window."""
    before_in, before_params = _placeholders([r.before_window.pk for r in rows.values() if r.before_window])
    after_in, after_params = _placeholders([r.after_window.pk for r in rows.values() if r.after_window])
    roles = ", ".join(f"'{role.value}'" for role in ROLES)
    run_filter = "AND e.run_id = %s" if single is not None else ""
    sql = f"""
        SELECT e.run_id AS run_id, a.subject_enrollment_id AS enrollment_id, a.assessor_role AS role,
               CAST(AVG(CASE WHEN a.window_id IN ({before_in}) THEN l.number END) AS DOUBLE PRECISION)
                   AS before_level,
               CAST(AVG(CASE WHEN a.window_id IN ({after_in}) THEN l.number END) AS DOUBLE PRECISION)
                   AS after_level
        FROM {_table(Assessment)} a
        JOIN {_table(Level)} l ON l.id = a.level_id
        JOIN {_table(Enrollment)} e ON e.id = a.subject_enrollment_id
        WHERE a.organization_id = %s AND e.archived_at IS NULL AND a.assessor_role IN ({roles})
          AND (a.window_id IN ({before_in}) OR a.window_id IN ({after_in})) {run_filter}
        GROUP BY e.run_id, a.subject_enrollment_id, a.assessor_role
    """
    params = [*before_params, *after_params, organization.pk, *before_params, *after_params]
    return sql, params + ([single] if single is not None else [])


def validate_silent_days(value) -> int:
    """The N of "silent for N days" from a query string; ValueError with a message when it is not 1-365."""
    if value in (None, ""):
        return DEFAULT_SILENT_DAYS
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValueError(_("Enter a whole number of days.")) from None
    if not 1 <= number <= MAX_SILENT_DAYS:
        raise ValueError(_("Enter a number of days from 1 to %(max)d.") % {"max": MAX_SILENT_DAYS})
    return number


def organization_outcomes(
    *, organization: Organization, silent_days: int = DEFAULT_SILENT_DAYS, now=None
) -> OrganizationOutcomes:
    """One row per run of the organization with the same measures as the run page."""
    now = now or timezone.now()
    runs = list(Run.objects.for_organization(organization).order_by("-starts_on", "name", "id"))
    windows = list(AssessmentWindow.objects.for_organization(organization).order_by("run_id", "opens_at", "id"))
    rows = (
        _run_rows(organization=organization, runs=runs, windows=windows, silent_days=silent_days, now=now)
        if runs
        else {}
    )
    return OrganizationOutcomes(organization=organization, silent_days=silent_days, rows=[rows[run.pk] for run in runs])


def run_outcomes(*, organization: Organization, run, silent_days: int = DEFAULT_SILENT_DAYS, now=None) -> RunOutcomes:
    """The run's outcomes and process health, with level distributions, participants and mentors."""
    now = now or timezone.now()
    today = now.astimezone(_zone(organization)).date()
    windows = list(
        AssessmentWindow.objects.for_organization(organization)
        .filter(run=run)
        .select_related("framework")
        .order_by("opens_at", "id")
    )
    row = _run_rows(organization=organization, runs=[run], windows=windows, silent_days=silent_days, now=now)[run.pk]
    framework_id = windows[0].framework_id if windows else None
    levels = (
        list(Level.objects.for_organization(organization).filter(framework_id=framework_id).order_by("number"))
        if framework_id
        else []
    )

    # Level distribution: ratings at each level per window and role.
    assessment, level, window, enrollment = (
        _table(Assessment),
        _table(Level),
        _table(AssessmentWindow),
        _table(Enrollment),
    )
    roles = ", ".join(f"'{role.value}'" for role in ROLES)
    counts: dict[tuple[int, str, int], int] = {}
    for window_id, role, number, count in _fetch(
        f"""
        SELECT a.window_id, a.assessor_role, l.number, COUNT(*)
        FROM {assessment} a
        JOIN {level} l ON l.id = a.level_id
        JOIN {window} w ON w.id = a.window_id
        JOIN {enrollment} e ON e.id = a.subject_enrollment_id AND e.archived_at IS NULL
        WHERE a.organization_id = %s AND w.run_id = %s AND a.assessor_role IN ({roles})
        GROUP BY a.window_id, a.assessor_role, l.number
        """,
        [organization.pk, run.pk],
    ):
        counts[(window_id, role, number)] = int(count)
    distributions = [
        WindowDistribution(
            window=w,
            bars=[
                LevelBar(
                    number=lv.number,
                    name=lv.name,
                    counts={role: counts.get((w.pk, role, lv.number), 0) for role in ROLES},
                )
                for lv in levels
            ],
        )
        for w in windows
    ]

    # Participants: mean level per role before and after.
    participants: list[ParticipantLevels] = []
    if row.before_window is not None:
        growth_sql, growth_params = _growth_sql(organization=organization, rows={run.pk: row}, single=run.pk)
        by_enrollment: dict[int, ParticipantLevels] = {}
        for enrollment_id, name, role, before, after in _fetch(
            f"""
            WITH pairs AS ({growth_sql})
            SELECT g.enrollment_id, COALESCE(p.name, t.name, ''), g.role, g.before_level, g.after_level
            FROM pairs g
            JOIN {enrollment} e ON e.id = g.enrollment_id
            LEFT JOIN {_table(Participant)} p ON p.id = e.participant_id
            LEFT JOIN {_table(Team)} t ON t.id = e.team_id
            ORDER BY COALESCE(p.name, t.name, ''), g.enrollment_id
            """,
            growth_params,
        ):
            item = by_enrollment.setdefault(enrollment_id, ParticipantLevels(enrollment_id, name, {}, {}))
            item.before[role], item.after[role] = _number(before), _number(after)
        participants = list(by_enrollment.values())

    # Mentors of the run: help requests routed to them (the enrollment's own mentors, else the
    # run-wide ones, as help requests are routed), sessions with the run's people, ratings.
    assignment, user, mentor = _table(MentorAssignment), _table(User), _table(Mentor)
    mentors: dict[int, MentorProcess] = {
        mentor_id: MentorProcess(mentor_id=mentor_id, name=name)
        for mentor_id, name in _fetch(
            f"""
            SELECT DISTINCT m.id, COALESCE(NULLIF(u.name, ''), u.email)
            FROM {assignment} ma JOIN {mentor} m ON m.id = ma.mentor_id JOIN {user} u ON u.id = m.user_id
            WHERE ma.organization_id = %s AND ma.run_id = %s
            """,
            [organization.pk, run.pk],
        )
    }
    wait = _seconds_between("h.first_response_at", "h.created_at")
    for mentor_id, total, answered, median in _fetch(
        _median_sql(
            f"""
            SELECT ma.mentor_id AS grp, {wait} AS wait
            FROM {_table(HelpRequest)} h
            JOIN {enrollment} e ON e.id = h.enrollment_id
            JOIN {assignment} ma ON ma.run_id = e.run_id AND ma.organization_id = e.organization_id
             AND (ma.enrollment_id = e.id OR (ma.enrollment_id IS NULL AND NOT EXISTS (
                 SELECT 1 FROM {assignment} d WHERE d.enrollment_id = e.id AND d.organization_id = e.organization_id
             )))
            WHERE h.organization_id = %s AND h.archived_at IS NULL AND e.archived_at IS NULL AND e.run_id = %s
            """
        ),
        [organization.pk, run.pk],
    ):
        if mentor_id in mentors:
            mentors[mentor_id].responses = ResponseTimes(int(total), int(answered or 0), _seconds(median))
    for part, mentor_id, count, average, withheld in _fetch(
        _sessions_sql(
            group="s.mentor_id",
            session=_table(MentoringSession),
            attendance=_table(SessionAttendance),
            rating=_table(SessionRating),
            enrollment=enrollment,
            membership=_table(TeamMembership),
            run_filter="AND e.run_id = %s",
        ),
        [organization.pk, today, run.pk, organization.pk, RATINGS_THRESHOLD, organization.pk, today, run.pk],
    ):
        if mentor_id not in mentors:
            continue  # a session with the run's people by a mentor no longer assigned to it
        if part == "sessions":
            mentors[mentor_id].sessions = int(count)
        else:
            mentors[mentor_id].ratings = Ratings(int(count), _number(average), int(withheld))

    return RunOutcomes(
        row=row,
        levels=levels,
        distributions=distributions,
        participants=participants,
        mentors=sorted(mentors.values(), key=lambda m: (m.name, m.mentor_id)),
    )


# --- CSV ----------------------------------------------------------------------------------


def _row_header() -> list[str]:
    header = [_("run id"), _("run"), _("current enrollments")]
    for role in ROLES:
        label = str(role.label)
        header += [
            f"{label}: {_('participants with both ratings')}",
            f"{label}: {_('mean before')}",
            f"{label}: {_('mean after')}",
            f"{label}: {_('mean change')}",
        ]
    return header + [
        _("milestones"),
        _("milestone completion (%)"),
        _("on time (%)"),
        _("check-ins per participant per week"),
        _("silent participants"),
        _("help requests"),
        _("answered"),
        _("median first response (hours)"),
        _("sessions held"),
        _("session ratings"),
        _("average session rating"),
    ]


def _row_values(row: RunOutcomeRow) -> list:
    values = [row.run.pk, row.run.name, row.enrollments]
    for growth in row.growth_by_role:
        values += [growth.subjects, growth.mean_before, growth.mean_after, growth.mean_delta]
    return values + [
        row.milestones,
        row.completion_percent,
        row.on_time_percent,
        row.check_ins_per_participant_week,
        row.silent,
        row.responses.help_requests,
        row.responses.answered,
        row.responses.median_hours,
        row.sessions,
        row.ratings.count,
        _rating_cell(row.ratings),
    ]


def _rating_cell(ratings: Ratings):
    return _("fewer than 3 ratings") if ratings.hidden else ratings.average


def organization_outcomes_csv(report: OrganizationOutcomes) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("silent for more than %(days)d days") % {"days": report.silent_days}])
    writer.writerow(_row_header())
    for row in report.rows:
        writer.writerow(_row_values(row))
    return out.getvalue()


def run_outcomes_csv(report: RunOutcomes) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("silent for more than %(days)d days") % {"days": report.row.silent_days}])
    writer.writerow(_row_header())
    writer.writerow(_row_values(report.row))
    writer.writerow([])
    writer.writerow([_("Levels per window and role")])
    writer.writerow([_("window"), _("level"), *(label for _role, label in report.roles)])
    for distribution in report.distributions:
        for bar in distribution.bars:
            writer.writerow([distribution.window.label, bar.number, *(bar.counts[role] for role in ROLES)])
    writer.writerow([])
    header = [_("enrollment id"), _("name")]
    for _role, label in report.roles:
        header += [f"{label}: {_('before')}", f"{label}: {_('after')}", f"{label}: {_('change')}"]
    writer.writerow(header)
    for p in report.participants:
        values = [p.enrollment_id, p.name]
        for _role, before, after, delta in p.by_role:
            values += [before, after, delta]
        writer.writerow(values)
    writer.writerow([])
    writer.writerow(
        [
            _("mentor"),
            _("help requests"),
            _("answered"),
            _("median first response (hours)"),
            _("sessions held"),
            _("session ratings"),
            _("average session rating"),
        ]
    )
    for m in report.mentors:
        writer.writerow(
            [
                m.name,
                m.responses.help_requests,
                m.responses.answered,
                m.responses.median_hours,
                m.sessions,
                m.ratings.count,
                _rating_cell(m.ratings),
            ]
        )
    return out.getvalue()
