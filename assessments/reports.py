# ruff: noqa: S608 -- the SQL below interpolates only table names from model metadata and
# constant expressions; every value is a query parameter.
"""Cohort and value-gap reports, computed in the database.

Every figure is an aggregate the database computes; Python only arranges the
results. A report makes the same number of queries for 3 enrollments as for
10,000 (tests check this).

Consensus per subject and window (see docs/assessments.md): the ratings of
everyone but the subject (mentors, program managers, peers) become one level by
the framework's method. The median is computed portably with window functions
(``ROW_NUMBER`` / ``COUNT(*) OVER``), which SQLite (3.25+) and PostgreSQL share:
the middle one or two ratings in level order are averaged, so two raters who say
LV.2 and LV.3 give a consensus of 2.5.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Avg, Count
from django.utils.translation import gettext as _

from assessments.models import (
    Assessment,
    AssessmentWindow,
    Framework,
    Level,
    StatementRating,
    SurveyResponse,
    ValueStatement,
    ValueSurvey,
)
from core.models import Organization, User
from mentors.models import Mentor
from programs.models import Enrollment, MentorAssignment, Participant, Team

ANONYMITY_THRESHOLD = 3  # an anonymous survey never shows a group smaller than this


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _floor(expression: str) -> str:
    # FLOOR is not built into every SQLite; CAST truncates in SQLite but rounds in
    # PostgreSQL, so correct by one where the cast went up.
    return (
        f"(CASE WHEN CAST({expression} AS INTEGER) > {expression} "
        f"THEN CAST({expression} AS INTEGER) - 1 ELSE CAST({expression} AS INTEGER) END)"
    )


def _subjects_cte(*, organization_id: int, run_id: int | None = None) -> tuple[str, list]:
    """``subjects``: one row per (window, enrollment) with any rating, of one run or (``run_id=None``) all.

    Columns: window_id, run_id, kind (of the window), enrollment_id, consensus (NULL
    without ratings by others), self_level (NULL without a self-assessment), raters.
    """
    assessment, level, window, framework, enrollment = (
        _table(Assessment),
        _table(Level),
        _table(AssessmentWindow),
        _table(Framework),
        _table(Enrollment),
    )
    self_role = Assessment.Role.SELF.value
    # The run filter is left out rather than written as "%s IS NULL OR ...": PostgreSQL
    # cannot plan an untyped NULL parameter, and the organization-wide plan stays simple.
    run_filter = "AND w.run_id = %s" if run_id is not None else ""
    sql = f"""
    WITH rated AS (
        SELECT a.window_id AS window_id, a.subject_enrollment_id AS enrollment_id, l.number AS level,
               ROW_NUMBER() OVER (PARTITION BY a.window_id, a.subject_enrollment_id ORDER BY l.number, a.id) AS pos,
               ROW_NUMBER() OVER (
                   PARTITION BY a.window_id, a.subject_enrollment_id ORDER BY a.submitted_at DESC, a.id DESC
               ) AS recency,
               COUNT(*) OVER (PARTITION BY a.window_id, a.subject_enrollment_id) AS n
        FROM {assessment} a
        JOIN {level} l ON l.id = a.level_id
        JOIN {window} w ON w.id = a.window_id
        WHERE a.organization_id = %s {run_filter}
          AND a.subject_enrollment_id IS NOT NULL AND a.assessor_role <> '{self_role}'
    ),
    others AS (
        SELECT window_id, enrollment_id,
               CAST(AVG(CASE WHEN pos IN ((n + 1) / 2, (n + 2) / 2) THEN level END) AS DOUBLE PRECISION)
                   AS median_level,
               CAST(AVG(level) AS DOUBLE PRECISION) AS mean_level,
               MAX(CASE WHEN recency = 1 THEN level END) AS latest_level,
               COUNT(*) AS raters
        FROM rated
        GROUP BY window_id, enrollment_id
    ),
    selfs AS (
        SELECT a.window_id AS window_id, a.subject_enrollment_id AS enrollment_id, l.number AS self_level
        FROM {assessment} a
        JOIN {level} l ON l.id = a.level_id
        JOIN {window} w ON w.id = a.window_id
        WHERE a.organization_id = %s {run_filter}
          AND a.subject_enrollment_id IS NOT NULL AND a.assessor_role = '{self_role}'
    ),
    subjects AS (
        SELECT w.id AS window_id, w.run_id AS run_id, w.kind AS kind, e.id AS enrollment_id,
               CASE f.consensus_method
                   WHEN 'mean' THEN o.mean_level
                   WHEN 'latest' THEN CAST(o.latest_level AS DOUBLE PRECISION)
                   ELSE o.median_level
               END AS consensus,
               s.self_level AS self_level,
               COALESCE(o.raters, 0) AS raters
        FROM {window} w
        JOIN {framework} f ON f.id = w.framework_id
        JOIN {enrollment} e ON e.run_id = w.run_id AND e.organization_id = w.organization_id
        LEFT JOIN others o ON o.window_id = w.id AND o.enrollment_id = e.id
        LEFT JOIN selfs s ON s.window_id = w.id AND s.enrollment_id = e.id
        WHERE w.organization_id = %s {run_filter} AND e.archived_at IS NULL
          AND (o.enrollment_id IS NOT NULL OR s.enrollment_id IS NOT NULL)
    )
    """
    scope = [organization_id] if run_id is None else [organization_id, run_id]
    return sql, scope * 3


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _number(value) -> float | None:
    return None if value is None else round(float(value), 2)


@dataclass
class LevelCount:
    number: int
    name: str
    consensus: int = 0
    self: int = 0


@dataclass
class WindowSummary:
    window: AssessmentWindow
    subjects_rated: int = 0  # with a consensus (ratings by others)
    subjects_self: int = 0
    mean_consensus: float | None = None
    mean_self: float | None = None
    mean_gap: float | None = None  # self minus consensus; positive: people rate themselves higher
    overestimate: int = 0
    underestimate: int = 0
    aligned: int = 0
    distribution: list[LevelCount] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.window.label

    @property
    def gap_subjects(self) -> int:
        return self.overestimate + self.underestimate + self.aligned

    @property
    def max_count(self) -> int:
        return max([1, *(max(bar.consensus, bar.self) for bar in self.distribution)])


@dataclass
class ParticipantGrowth:
    enrollment_id: int
    name: str
    before: float | None
    after: float | None
    self_before: int | None
    self_after: int | None

    @property
    def delta(self) -> float | None:
        if self.before is None or self.after is None:
            return None
        return round(self.after - self.before, 2)

    @property
    def gap_after(self) -> float | None:
        if self.self_after is None or self.after is None:
            return None
        return round(self.self_after - self.after, 2)


@dataclass
class GrowthSummary:
    subjects: int = 0
    mean_before: float | None = None
    mean_after: float | None = None
    mean_delta: float | None = None
    moved_up: int = 0
    moved_down: int = 0

    @property
    def moved_up_share(self) -> float | None:
        return None if not self.subjects else round(self.moved_up / self.subjects, 3)


@dataclass
class MentorGrowth:
    mentor_id: int
    name: str
    mentees: int
    with_growth: int
    mean_delta: float | None
    moved_up: int

    @property
    def moved_up_share(self) -> float | None:
        return None if not self.with_growth else round(self.moved_up / self.with_growth, 3)


@dataclass
class CohortReport:
    run: object
    windows: list[WindowSummary]
    levels: list[Level]
    before_window: AssessmentWindow | None
    after_window: AssessmentWindow | None
    growth: GrowthSummary
    participants: list[ParticipantGrowth]
    mentors: list[MentorGrowth]

    @property
    def max_level(self) -> int:
        return max((level.number for level in self.levels), default=5)

    @property
    def max_abs_delta(self) -> float:
        deltas = [abs(m.mean_delta) for m in self.mentors if m.mean_delta is not None]
        if self.growth.mean_delta is not None:
            deltas.append(abs(self.growth.mean_delta))
        return max([1.0, *deltas])


def _growth_windows(windows: list[AssessmentWindow], before_id=None, after_id=None):
    by_id = {w.pk: w for w in windows}
    before = by_id.get(before_id) if before_id else None
    after = by_id.get(after_id) if after_id else None
    pre = [w for w in windows if w.kind == AssessmentWindow.Kind.PRE]
    post = [w for w in windows if w.kind == AssessmentWindow.Kind.POST]
    before = before or (pre[0] if pre else (windows[0] if windows else None))
    after = after or (post[-1] if post else (windows[-1] if len(windows) > 1 else None))
    if before is not None and after is not None and before.pk == after.pk:
        after = None
    return before, after


def cohort_report(*, organization: Organization, run, before_window_id=None, after_window_id=None) -> CohortReport:
    """Levels, growth, perception gap and mentor breakdown of one run.

    Growth compares ``before`` and ``after`` windows: by default the first pre
    window and the last post window (else the first and the last window).
    """
    windows = list(
        AssessmentWindow.objects.for_organization(organization)
        .filter(run=run)
        .select_related("framework")
        .order_by("opens_at", "id")
    )
    framework_id = windows[0].framework_id if windows else None
    levels = list(
        Level.objects.for_organization(organization).filter(framework_id=framework_id).order_by("number")
        if framework_id
        else []
    )
    cte, cte_params = _subjects_cte(organization_id=organization.pk, run_id=run.pk)

    summaries = {w.pk: WindowSummary(window=w) for w in windows}
    for summary in summaries.values():
        summary.distribution = [LevelCount(number=level.number, name=level.name) for level in levels]

    rows = _fetch(
        cte
        + """
        SELECT window_id, COUNT(consensus), COUNT(self_level), AVG(consensus), AVG(self_level),
               AVG(CASE WHEN consensus IS NOT NULL AND self_level IS NOT NULL THEN self_level - consensus END),
               SUM(CASE WHEN self_level - consensus >= 1 THEN 1 ELSE 0 END),
               SUM(CASE WHEN consensus - self_level >= 1 THEN 1 ELSE 0 END),
               SUM(CASE WHEN ABS(self_level - consensus) < 1 THEN 1 ELSE 0 END)
        FROM subjects GROUP BY window_id
        """,
        cte_params,
    )
    for window_id, rated, selfs, mean_c, mean_s, gap, over, under, aligned in rows:
        summary = summaries.get(window_id)
        if summary is None:
            continue
        summary.subjects_rated, summary.subjects_self = rated, selfs
        summary.mean_consensus, summary.mean_self, summary.mean_gap = _number(mean_c), _number(mean_s), _number(gap)
        summary.overestimate, summary.underestimate, summary.aligned = over or 0, under or 0, aligned or 0

    bucket = _floor("consensus")
    rows = _fetch(
        cte
        + f"""
        SELECT window_id, 'consensus', {bucket}, COUNT(*) FROM subjects
        WHERE consensus IS NOT NULL GROUP BY window_id, {bucket}
        UNION ALL
        SELECT window_id, 'self', self_level, COUNT(*) FROM subjects
        WHERE self_level IS NOT NULL GROUP BY window_id, self_level
        """,
        cte_params,
    )
    for window_id, series, number, count in rows:
        summary = summaries.get(window_id)
        if summary is None:
            continue
        for bar in summary.distribution:
            if bar.number == number:
                setattr(bar, series, count)

    before, after = _growth_windows(windows, before_window_id, after_window_id)
    growth = GrowthSummary()
    participants: list[ParticipantGrowth] = []
    mentors: list[MentorGrowth] = []
    if before is not None:
        after_id = after.pk if after is not None else -1
        enrollment, participant, team = _table(Enrollment), _table(Participant), _table(Team)
        rows = _fetch(
            cte
            + f"""
            SELECT e.id, COALESCE(p.name, t.name, ''), b.consensus, a.consensus, b.self_level, a.self_level
            FROM {enrollment} e
            LEFT JOIN {participant} p ON p.id = e.participant_id
            LEFT JOIN {team} t ON t.id = e.team_id
            LEFT JOIN subjects b ON b.enrollment_id = e.id AND b.window_id = %s
            LEFT JOIN subjects a ON a.enrollment_id = e.id AND a.window_id = %s
            WHERE e.organization_id = %s AND e.run_id = %s AND e.archived_at IS NULL
              AND (b.enrollment_id IS NOT NULL OR a.enrollment_id IS NOT NULL)
            ORDER BY COALESCE(p.name, t.name, ''), e.id
            """,
            [*cte_params, before.pk, after_id, organization.pk, run.pk],
        )
        participants = [
            ParticipantGrowth(
                enrollment_id=row[0],
                name=row[1],
                before=_number(row[2]),
                after=_number(row[3]),
                self_before=row[4],
                self_after=row[5],
            )
            for row in rows
        ]
        pair = """
            FROM subjects b JOIN subjects a ON a.enrollment_id = b.enrollment_id
            WHERE b.window_id = %s AND a.window_id = %s AND b.consensus IS NOT NULL AND a.consensus IS NOT NULL
        """
        rows = _fetch(
            cte
            + f"""
            SELECT COUNT(*), AVG(b.consensus), AVG(a.consensus), AVG(a.consensus - b.consensus),
                   SUM(CASE WHEN a.consensus - b.consensus >= 1 THEN 1 ELSE 0 END),
                   SUM(CASE WHEN a.consensus < b.consensus THEN 1 ELSE 0 END)
            {pair}
            """,
            [*cte_params, before.pk, after_id],
        )
        count, mean_before, mean_after, mean_delta, moved_up, moved_down = rows[0]
        growth = GrowthSummary(
            subjects=count or 0,
            mean_before=_number(mean_before),
            mean_after=_number(mean_after),
            mean_delta=_number(mean_delta),
            moved_up=moved_up or 0,
            moved_down=moved_down or 0,
        )
        assignment, mentor, user = _table(MentorAssignment), _table(Mentor), _table(User)
        rows = _fetch(
            cte
            + f"""
            , growth AS (SELECT b.enrollment_id AS enrollment_id, a.consensus - b.consensus AS delta {pair})
            SELECT m.id, COALESCE(NULLIF(u.name, ''), u.email), COUNT(DISTINCT ma.enrollment_id),
                   COUNT(g.enrollment_id), AVG(g.delta), SUM(CASE WHEN g.delta >= 1 THEN 1 ELSE 0 END)
            FROM {assignment} ma
            JOIN {mentor} m ON m.id = ma.mentor_id
            JOIN {user} u ON u.id = m.user_id
            JOIN {enrollment} e ON e.id = ma.enrollment_id AND e.archived_at IS NULL
            LEFT JOIN growth g ON g.enrollment_id = ma.enrollment_id
            WHERE ma.organization_id = %s AND ma.run_id = %s AND ma.enrollment_id IS NOT NULL
            GROUP BY m.id, u.name, u.email
            ORDER BY COALESCE(NULLIF(u.name, ''), u.email), m.id
            """,
            [*cte_params, before.pk, after_id, organization.pk, run.pk],
        )
        mentors = [
            MentorGrowth(
                mentor_id=row[0],
                name=row[1],
                mentees=row[2],
                with_growth=row[3],
                mean_delta=_number(row[4]),
                moved_up=row[5] or 0,
            )
            for row in rows
        ]
    return CohortReport(
        run=run,
        windows=list(summaries.values()),
        levels=levels,
        before_window=before,
        after_window=after,
        growth=growth,
        participants=participants,
        mentors=mentors,
    )


def cohort_report_csv(report: CohortReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Levels per window")])
    writer.writerow([_("window"), _("level"), _("consensus count"), _("self count")])
    for summary in report.windows:
        for bar in summary.distribution:
            writer.writerow([summary.window.label, bar.number, bar.consensus, bar.self])
    writer.writerow([])
    writer.writerow([_("Perception gap per window")])
    writer.writerow(
        [_("window"), _("mean consensus"), _("mean self"), _("mean gap"), _("over"), _("under"), _("aligned")]
    )
    for summary in report.windows:
        writer.writerow(
            [
                summary.window.label,
                summary.mean_consensus,
                summary.mean_self,
                summary.mean_gap,
                summary.overestimate,
                summary.underestimate,
                summary.aligned,
            ]
        )
    writer.writerow([])
    writer.writerow([_("Growth")])
    writer.writerow(
        [_("subjects"), _("mean before"), _("mean after"), _("mean change"), _("moved up one level or more")]
    )
    g = report.growth
    writer.writerow([g.subjects, g.mean_before, g.mean_after, g.mean_delta, g.moved_up_share])
    writer.writerow([])
    writer.writerow(
        [_("enrollment id"), _("name"), _("before"), _("after"), _("change"), _("self before"), _("self after")]
    )
    for p in report.participants:
        writer.writerow([p.enrollment_id, p.name, p.before, p.after, p.delta, p.self_before, p.self_after])
    writer.writerow([])
    writer.writerow([_("mentor"), _("mentees"), _("with both ratings"), _("mean change"), _("moved up")])
    for m in report.mentors:
        writer.writerow([m.name, m.mentees, m.with_growth, m.mean_delta, m.moved_up])
    return out.getvalue()


# --- Organization-wide cohort report ---------------------------------------------------


@dataclass
class KindSummary(WindowSummary):
    """A ``WindowSummary`` over every window of one kind (pre, mid, post) across all runs."""

    kind: str = ""
    kind_label: str = ""

    @property
    def label(self) -> str:
        return self.kind_label


@dataclass
class RunSummary:
    run: object
    assessed: int = 0  # enrollments with any rating in any window of the run
    growth: GrowthSummary = field(default_factory=GrowthSummary)


@dataclass
class OrganizationReport:
    organization: Organization
    before_kind: str
    after_kind: str
    kinds: list[KindSummary]
    levels: list[Level]
    growth: GrowthSummary
    runs: list[RunSummary]
    mentors: list[MentorGrowth]

    @property
    def before_label(self) -> str:
        return str(AssessmentWindow.Kind(self.before_kind).label)

    @property
    def after_label(self) -> str:
        return str(AssessmentWindow.Kind(self.after_kind).label)

    @property
    def max_abs_delta(self) -> float:
        deltas = [abs(m.mean_delta) for m in self.mentors if m.mean_delta is not None]
        deltas += [abs(r.growth.mean_delta) for r in self.runs if r.growth.mean_delta is not None]
        if self.growth.mean_delta is not None:
            deltas.append(abs(self.growth.mean_delta))
        return max([1.0, *deltas])


def _double(expression: str) -> str:
    return f"CAST({expression} AS DOUBLE PRECISION)"


def _values(*expressions: str) -> str:
    """Eight value columns, so that every part of the UNION ALL below has the same shape."""
    padded = [*expressions, *(["NULL"] * (8 - len(expressions)))]
    return ", ".join(_double(e) for e in padded)


def _placeholders(ids: list[int]) -> tuple[str, list[int]]:
    ids = ids or [-1]  # IN () is not SQL; no window has id -1
    return ", ".join(["%s"] * len(ids)), ids


def organization_report(*, organization: Organization, before_kind: str = "pre", after_kind: str = "post"):
    """Levels and perception gap per window kind, growth, mentors and runs over every run of the organization.

    Three queries whatever the number of runs and enrollments: the windows (with
    their runs), the levels, and one statement whose parts share the ``subjects``
    CTE, so PostgreSQL computes the consensus of every subject once (a CTE used more
    than once is materialized). Growth pairs, per run, the first window of
    ``before_kind`` with the last of ``after_kind`` (as the per-run report does by
    default); runs missing either kind do not count towards growth. With several
    frameworks, levels are matched by number (names from the first framework).
    """
    kind_values = [value for value, _label in AssessmentWindow.Kind.choices]
    if before_kind not in kind_values or after_kind not in kind_values or before_kind == after_kind:
        raise ValueError(f"before_kind and after_kind must be two different kinds of {kind_values}")
    windows = list(
        AssessmentWindow.objects.for_organization(organization)
        .select_related("run")
        .order_by("run_id", "opens_at", "id")
    )
    levels_by_number: dict[int, Level] = {}
    framework_ids = sorted({w.framework_id for w in windows})
    for level in (
        Level.objects.for_organization(organization)
        .filter(framework_id__in=framework_ids)
        .order_by("number", "framework_id")
    ):
        levels_by_number.setdefault(level.number, level)
    levels = list(levels_by_number.values())

    runs: dict[int, RunSummary] = {}
    before_ids: dict[int, int] = {}
    after_ids: dict[int, int] = {}
    for window in windows:
        runs.setdefault(window.run_id, RunSummary(run=window.run))
        if window.kind == before_kind:
            before_ids.setdefault(window.run_id, window.pk)  # the first
        if window.kind == after_kind:
            after_ids[window.run_id] = window.pk  # the last
    kinds_present = {w.kind for w in windows}
    summaries = {
        kind: KindSummary(window=None, kind=kind, kind_label=str(label))
        for kind, label in AssessmentWindow.Kind.choices
        if kind in kinds_present
    }
    for summary in summaries.values():
        summary.distribution = [LevelCount(number=level.number, name=level.name) for level in levels]

    cte, cte_params = _subjects_cte(organization_id=organization.pk)
    before_in, before_params = _placeholders(list(before_ids.values()))
    after_in, after_params = _placeholders(list(after_ids.values()))
    assignment, mentor, user, enrollment = _table(MentorAssignment), _table(Mentor), _table(User), _table(Enrollment)
    bucket = _floor("consensus")
    delta_up = "SUM(CASE WHEN delta >= 1 THEN 1 ELSE 0 END)"
    growth_values = _values(
        "COUNT(*)",
        "AVG(before_level)",
        "AVG(after_level)",
        "AVG(delta)",
        delta_up,
        "SUM(CASE WHEN delta < 0 THEN 1 ELSE 0 END)",
    )
    rows = _fetch(
        cte
        + f"""
        , pairs AS (
            SELECT enrollment_id, MIN(run_id) AS run_id,
                   MAX(CASE WHEN window_id IN ({before_in}) THEN consensus END) AS before_level,
                   MAX(CASE WHEN window_id IN ({after_in}) THEN consensus END) AS after_level
            FROM subjects
            WHERE consensus IS NOT NULL AND (window_id IN ({before_in}) OR window_id IN ({after_in}))
            GROUP BY enrollment_id
        ),
        growth AS (
            SELECT run_id, enrollment_id, before_level, after_level, after_level - before_level AS delta
            FROM pairs WHERE before_level IS NOT NULL AND after_level IS NOT NULL
        )
        SELECT 'gap' AS part, kind, CAST(NULL AS BIGINT) AS item, NULL AS name,
               {
            _values(
                "COUNT(consensus)",
                "COUNT(self_level)",
                "AVG(consensus)",
                "AVG(self_level)",
                "AVG(CASE WHEN consensus IS NOT NULL AND self_level IS NOT NULL THEN self_level - consensus END)",
                "SUM(CASE WHEN self_level - consensus >= 1 THEN 1 ELSE 0 END)",
                "SUM(CASE WHEN consensus - self_level >= 1 THEN 1 ELSE 0 END)",
                "SUM(CASE WHEN ABS(self_level - consensus) < 1 THEN 1 ELSE 0 END)",
            )
        }
        FROM subjects GROUP BY kind
        UNION ALL
        SELECT 'consensus', kind, {bucket}, NULL, {_values("COUNT(*)")}
        FROM subjects WHERE consensus IS NOT NULL GROUP BY kind, {bucket}
        UNION ALL
        SELECT 'self', kind, self_level, NULL, {_values("COUNT(*)")}
        FROM subjects WHERE self_level IS NOT NULL GROUP BY kind, self_level
        UNION ALL
        SELECT 'assessed', NULL, run_id, NULL, {_values("COUNT(DISTINCT enrollment_id)")}
        FROM subjects GROUP BY run_id
        UNION ALL
        SELECT 'growth', NULL, NULL, NULL, {growth_values} FROM growth
        UNION ALL
        SELECT 'run', NULL, run_id, NULL, {growth_values} FROM growth GROUP BY run_id
        UNION ALL
        SELECT 'mentor', NULL, m.id, COALESCE(NULLIF(u.name, ''), u.email),
               {
            _values(
                "COUNT(DISTINCT ma.enrollment_id)",
                "COUNT(g.enrollment_id)",
                "AVG(g.delta)",
                "SUM(CASE WHEN g.delta >= 1 THEN 1 ELSE 0 END)",
            )
        }
        FROM {assignment} ma
        JOIN {mentor} m ON m.id = ma.mentor_id
        JOIN {user} u ON u.id = m.user_id
        JOIN {enrollment} e ON e.id = ma.enrollment_id AND e.archived_at IS NULL
        LEFT JOIN growth g ON g.enrollment_id = ma.enrollment_id
        WHERE ma.organization_id = %s AND ma.enrollment_id IS NOT NULL
        GROUP BY m.id, u.name, u.email
        """,
        [*cte_params, *before_params, *after_params, *before_params, *after_params, organization.pk],
    )

    def count(value) -> int:
        return int(value or 0)

    def growth_of(values) -> GrowthSummary:
        return GrowthSummary(
            subjects=count(values[0]),
            mean_before=_number(values[1]),
            mean_after=_number(values[2]),
            mean_delta=_number(values[3]),
            moved_up=count(values[4]),
            moved_down=count(values[5]),
        )

    growth = GrowthSummary()
    mentors: list[MentorGrowth] = []
    for part, kind, item, name, *values in rows:
        if part == "gap" and kind in summaries:
            summary = summaries[kind]
            summary.subjects_rated, summary.subjects_self = count(values[0]), count(values[1])
            summary.mean_consensus, summary.mean_self = _number(values[2]), _number(values[3])
            summary.mean_gap = _number(values[4])
            summary.overestimate, summary.underestimate = count(values[5]), count(values[6])
            summary.aligned = count(values[7])
        elif part in ("consensus", "self") and kind in summaries:
            for bar in summaries[kind].distribution:
                if bar.number == item:
                    setattr(bar, part, count(values[0]))
        elif part == "assessed" and item in runs:
            runs[item].assessed = count(values[0])
        elif part == "growth":
            growth = growth_of(values)
        elif part == "run" and item in runs:
            runs[item].growth = growth_of(values)
        elif part == "mentor":
            mentors.append(
                MentorGrowth(
                    mentor_id=item,
                    name=name,
                    mentees=count(values[0]),
                    with_growth=count(values[1]),
                    mean_delta=_number(values[2]),
                    moved_up=count(values[3]),
                )
            )
    mentors.sort(key=lambda m: (m.name, m.mentor_id))
    run_rows = sorted(runs.values(), key=lambda r: (r.run.starts_on, r.run.name, r.run.pk))
    return OrganizationReport(
        organization=organization,
        before_kind=before_kind,
        after_kind=after_kind,
        kinds=list(summaries.values()),
        levels=levels,
        growth=growth,
        runs=run_rows,
        mentors=mentors,
    )


def organization_report_csv(report: OrganizationReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Levels per window kind")])
    writer.writerow([_("window kind"), _("level"), _("consensus count"), _("self count")])
    for summary in report.kinds:
        for bar in summary.distribution:
            writer.writerow([summary.label, bar.number, bar.consensus, bar.self])
    writer.writerow([])
    writer.writerow([_("Perception gap per window kind")])
    writer.writerow(
        [_("window kind"), _("mean consensus"), _("mean self"), _("mean gap"), _("over"), _("under"), _("aligned")]
    )
    for s in report.kinds:
        writer.writerow(
            [s.label, s.mean_consensus, s.mean_self, s.mean_gap, s.overestimate, s.underestimate, s.aligned]
        )
    writer.writerow([])
    writer.writerow([_("Growth")])
    growth_header = [
        _("subjects"),
        _("mean before"),
        _("mean after"),
        _("mean change"),
        _("moved up one level or more"),
        _("went down"),
    ]
    writer.writerow(growth_header)
    g = report.growth
    writer.writerow([g.subjects, g.mean_before, g.mean_after, g.mean_delta, g.moved_up_share, g.moved_down])
    writer.writerow([])
    writer.writerow([_("run id"), _("run"), _("enrollments assessed"), *growth_header])
    for r in report.runs:
        g = r.growth
        writer.writerow(
            [r.run.pk, r.run.name, r.assessed, g.subjects, g.mean_before, g.mean_after, g.mean_delta]
            + [g.moved_up_share, g.moved_down]
        )
    writer.writerow([])
    writer.writerow([_("mentor"), _("mentees"), _("with both ratings"), _("mean change"), _("moved up")])
    for m in report.mentors:
        writer.writerow([m.name, m.mentees, m.with_growth, m.mean_delta, m.moved_up])
    return out.getvalue()


# --- Value-gap survey report ---------------------------------------------------------


@dataclass
class GroupFigures:
    respondents: int
    importance: float | None
    satisfaction: float | None
    hidden: bool = False  # anonymous survey, group below the threshold


@dataclass
class StatementResult:
    statement: ValueStatement
    groups: dict[str, GroupFigures]
    importance: float | None  # all shown respondents together
    satisfaction: float | None
    respondents: int

    @property
    def gap(self) -> float | None:
        """Rated minus predicted importance: positive means customers value it more than we thought."""
        if self.importance is None:
            return None
        return round(self.importance - self.statement.predicted_importance, 2)

    @property
    def quadrant(self) -> str:
        if self.importance is None or self.satisfaction is None:
            return ""
        high_importance, high_satisfaction = self.importance >= 3, self.satisfaction >= 3
        if high_importance and not high_satisfaction:
            return "fix"
        if high_importance:
            return "keep"
        if high_satisfaction:
            return "overkill"
        return "low"


@dataclass
class OwnWords:
    text: str
    count: int  # how many respondents said exactly this


@dataclass
class SurveyReport:
    survey: ValueSurvey
    respondents: dict[str, int | None]  # None: hidden (anonymous survey, fewer than three)
    hidden_groups: list[str]
    statements: list[StatementResult]  # ranked by the size of the gap
    own_words: dict[str, dict[str, list[OwnWords]]]  # kind -> {"values"/"improve"/"stop": [...]}

    @property
    def kinds(self) -> list[tuple[str, str]]:
        return list(SurveyResponse.RespondentKind.choices)

    def by_tier(self) -> list[tuple[str, str, list[StatementResult]]]:
        return [
            (tier, label, [r for r in self.statements if r.statement.tier == tier])
            for tier, label in ValueStatement.Tier.choices
        ]


def _survey_figures(*, organization: Organization, surveys: list[ValueSurvey]):
    """Respondents per group, statements and ratings per statement and group of several surveys.

    Three queries whatever the number of surveys: ``(counts, statements, figures)`` keyed
    by survey id.
    """
    kinds = [kind for kind, _label in SurveyResponse.RespondentKind.choices]
    ids = [survey.pk for survey in surveys]
    counts: dict[int, dict[str, int]] = {pk: dict.fromkeys(kinds, 0) for pk in ids}
    for row in (
        SurveyResponse.objects.for_organization(organization)
        .filter(survey_id__in=ids)
        .values("survey_id", "respondent_kind")
        .annotate(n=Count("id"))
        .order_by()
    ):
        counts[row["survey_id"]][row["respondent_kind"]] = row["n"]
    statements: dict[int, list[ValueStatement]] = {pk: [] for pk in ids}
    for statement in ValueStatement.objects.for_organization(organization).filter(survey_id__in=ids):
        statements[statement.survey_id].append(statement)
    figures: dict[int, dict[str, dict]] = {}
    for row in (
        StatementRating.objects.for_organization(organization)
        .filter(response__survey_id__in=ids)
        .values("statement_id", "response__respondent_kind")
        .annotate(n=Count("id"), importance=Avg("importance"), satisfaction=Avg("satisfaction"))
        .order_by()
    ):
        figures.setdefault(row["statement_id"], {})[row["response__respondent_kind"]] = row
    return counts, statements, figures


def _survey_results(*, survey: ValueSurvey, counts: dict[str, int], statements, figures):
    """``(hidden groups, ranked statement results)`` of one survey from :func:`_survey_figures`."""
    kinds = [kind for kind, _label in SurveyResponse.RespondentKind.choices]
    hidden = [k for k in kinds if survey.is_anonymous and 0 < counts[k] < ANONYMITY_THRESHOLD]
    results = []
    for statement in statements:
        groups: dict[str, GroupFigures] = {}
        total = weighted_importance = weighted_satisfaction = 0.0
        for kind in kinds:
            row = figures.get(statement.pk, {}).get(kind)
            if kind in hidden:
                groups[kind] = GroupFigures(respondents=0, importance=None, satisfaction=None, hidden=True)
                continue
            if row is None:
                groups[kind] = GroupFigures(respondents=0, importance=None, satisfaction=None)
                continue
            groups[kind] = GroupFigures(
                respondents=row["n"], importance=_number(row["importance"]), satisfaction=_number(row["satisfaction"])
            )
            total += row["n"]
            weighted_importance += float(row["importance"]) * row["n"]
            weighted_satisfaction += float(row["satisfaction"]) * row["n"]
        results.append(
            StatementResult(
                statement=statement,
                groups=groups,
                importance=_number(weighted_importance / total) if total else None,
                satisfaction=_number(weighted_satisfaction / total) if total else None,
                respondents=int(total),
            )
        )
    results.sort(key=lambda r: (r.gap is None, -abs(r.gap or 0), r.statement.position, r.statement.pk))
    return hidden, results


def survey_report(*, organization: Organization, survey: ValueSurvey) -> SurveyReport:
    """Gaps between predicted and rated importance, per respondent group, ranked.

    In an anonymous survey a group with fewer than three respondents is hidden
    everywhere, including in the combined figures (which would otherwise reveal it
    by subtraction) and in the lists of their own words.
    """
    kinds = [kind for kind, _label in SurveyResponse.RespondentKind.choices]
    all_counts, all_statements, figures = _survey_figures(organization=organization, surveys=[survey])
    counts = all_counts[survey.pk]
    hidden, results = _survey_results(
        survey=survey, counts=counts, statements=all_statements[survey.pk], figures=figures
    )
    shown = [k for k in kinds if k not in hidden]

    collected: dict[str, dict[str, Counter]] = {
        k: {"values": Counter(), "improve": Counter(), "stop": Counter()} for k in shown
    }
    texts = (
        SurveyResponse.objects.for_organization(organization)
        .filter(survey=survey, respondent_kind__in=shown)
        .values_list("respondent_kind", "own_values", "improve", "stop")
        .order_by()
    )
    for kind, values, improve, stop in texts:
        # "What do you value?" takes one value per line; the other answers stay whole.
        collected[kind]["values"].update(line.strip(" -•\t") for line in values.splitlines() if line.strip(" -•\t"))
        for name, text in (("improve", improve), ("stop", stop)):
            if text:
                collected[kind][name][text] += 1
    # The same words said by several people count once, with how many said them; the
    # order is by count and text, never by time of answering, so it reveals nothing.
    own_words = {
        kind: {
            name: [
                OwnWords(text=text, count=count)
                for text, count in sorted(counter.items(), key=lambda item: (-item[1], item[0].casefold()))
            ]
            for name, counter in lists.items()
        }
        for kind, lists in collected.items()
    }
    # A hidden group's exact size (1 or 2) is withheld too.
    shown_counts = {k: (None if k in hidden else n) for k, n in counts.items()}
    return SurveyReport(
        survey=survey, respondents=shown_counts, hidden_groups=hidden, statements=results, own_words=own_words
    )


def survey_report_csv(report: SurveyReport) -> str:
    """Aggregates only: one row per statement, never one per respondent."""
    out = io.StringIO()
    writer = csv.writer(out)
    header = [_("rank"), _("statement"), _("tier"), _("predicted importance"), _("rated importance"), _("gap")]
    header.append(_("satisfaction"))
    for _kind, label in report.kinds:
        header += [f"{label}: {_('respondents')}", f"{label}: {_('importance')}", f"{label}: {_('satisfaction')}"]
    writer.writerow(header)
    for rank, result in enumerate(report.statements, start=1):
        row = [
            rank,
            result.statement.text,
            result.statement.get_tier_display(),
            result.statement.predicted_importance,
            result.importance,
            result.gap,
            result.satisfaction,
        ]
        for kind, _label in report.kinds:
            group = result.groups[kind]
            if group.hidden:
                row += [_("hidden (fewer than 3)"), "", ""]
            else:
                row += [group.respondents, group.importance, group.satisfaction]
        writer.writerow(row)
    writer.writerow([])
    writer.writerow([_("respondent group"), _("question"), _("answer"), _("said by")])
    questions = {
        "values": _("What do you value?"),
        "improve": _("What should we improve?"),
        "stop": _("What should we stop?"),
    }
    for kind, label in report.kinds:
        for name, question in questions.items():
            for words in report.own_words.get(kind, {}).get(name, []):
                writer.writerow([label, question, words.text, words.count])
    return out.getvalue()


# --- Value-gap surveys of a run, by stage ------------------------------------------------


@dataclass
class StageSurvey:
    survey: ValueSurvey
    respondents: dict[str, int | None]  # None: hidden (anonymous survey, fewer than three)
    hidden_groups: list[str]
    statements: list[StatementResult]  # ranked by the size of the gap

    @property
    def mean_gap(self) -> float | None:
        gaps = [r.gap for r in self.statements if r.gap is not None]
        return round(sum(gaps) / len(gaps), 2) if gaps else None


@dataclass
class Stage:
    milestone: object | None  # None: surveys of the whole run
    surveys: list[StageSurvey]

    @property
    def label(self) -> str:
        return self.milestone.name if self.milestone is not None else _("Whole run")

    @property
    def key(self) -> str:
        return str(self.milestone.pk) if self.milestone is not None else "run"


@dataclass
class StageCell:
    respondents: int
    importance: float | None
    satisfaction: float | None
    predicted: float | None

    @property
    def gap(self) -> float | None:
        if self.importance is None or self.predicted is None:
            return None
        return round(self.importance - self.predicted, 2)


@dataclass
class StatementAcrossStages:
    text: str
    tier: str
    cells: list[StageCell]  # one per stage, in the order of the stages (respondents 0: no answers there)


@dataclass
class StageReport:
    run: object
    stages: list[Stage]
    statements: list[StatementAcrossStages]


def _statement_key(text: str) -> str:
    return " ".join(text.split()).casefold()


def survey_report_by_stage(*, organization: Organization, run) -> StageReport:
    """The value-gap surveys of a run grouped by stage (their milestone), stages in date order.

    Surveys without a milestone form the last group, "whole run". Each survey keeps its
    own ranked gaps with the anonymity rules of :func:`survey_report`; a statement asked
    (by the same text) at several stages gets one row across the stages, combining the
    stage's surveys weighted by their shown respondents. Four queries whatever the number
    of surveys and answers.
    """
    surveys = list(
        ValueSurvey.objects.for_organization(organization)
        .filter(run=run)
        .select_related("milestone")
        .order_by("opens_at", "id")
    )
    counts, statements, figures = _survey_figures(organization=organization, surveys=surveys)
    by_stage: dict[int | None, Stage] = {}
    for survey in surveys:
        hidden, results = _survey_results(
            survey=survey, counts=counts[survey.pk], statements=statements[survey.pk], figures=figures
        )
        shown_counts = {k: (None if k in hidden else n) for k, n in counts[survey.pk].items()}
        stage = by_stage.setdefault(survey.milestone_id, Stage(milestone=survey.milestone, surveys=[]))
        stage.surveys.append(
            StageSurvey(survey=survey, respondents=shown_counts, hidden_groups=hidden, statements=results)
        )
    stages = sorted(
        by_stage.values(),
        key=lambda s: (s.milestone is None, s.milestone.due_on if s.milestone else None, s.key),
    )

    rows: dict[str, StatementAcrossStages] = {}
    # (statement, stage) -> [n, importance * n, satisfaction * n, predicted * n]
    sums: dict[tuple[str, int], list[float]] = {}
    for index, stage in enumerate(stages):
        for stage_survey in stage.surveys:
            ordered = sorted(stage_survey.statements, key=lambda r: (r.statement.position, r.statement.pk))
            for result in ordered:
                key = _statement_key(result.statement.text)
                rows.setdefault(
                    key,
                    StatementAcrossStages(text=result.statement.text, tier=result.statement.tier, cells=[]),
                )
                if not result.respondents or result.importance is None:
                    continue
                n = result.respondents
                total = sums.setdefault((key, index), [0.0, 0.0, 0.0, 0.0])
                total[0] += n
                total[1] += result.importance * n
                total[2] += (result.satisfaction or 0) * n
                total[3] += result.statement.predicted_importance * n
    for key, row in rows.items():
        for index in range(len(stages)):
            total = sums.get((key, index))
            row.cells.append(
                StageCell(respondents=0, importance=None, satisfaction=None, predicted=None)
                if total is None
                else StageCell(
                    respondents=int(total[0]),
                    importance=_number(total[1] / total[0]),
                    satisfaction=_number(total[2] / total[0]),
                    predicted=_number(total[3] / total[0]),
                )
            )
    return StageReport(run=run, stages=stages, statements=list(rows.values()))


def survey_report_by_stage_csv(report: StageReport) -> str:
    """Aggregates only, as :func:`survey_report_csv`: rows per statement, never per respondent."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            _("stage"),
            _("survey"),
            _("rank"),
            _("statement"),
            _("tier"),
            _("predicted importance"),
            _("rated importance"),
            _("gap"),
            _("satisfaction"),
            _("respondents"),
        ]
    )
    for stage in report.stages:
        for stage_survey in stage.surveys:
            for rank, result in enumerate(stage_survey.statements, start=1):
                writer.writerow(
                    [
                        stage.label,
                        stage_survey.survey.title,
                        rank,
                        result.statement.text,
                        result.statement.get_tier_display(),
                        result.statement.predicted_importance,
                        result.importance,
                        result.gap,
                        result.satisfaction,
                        result.respondents,
                    ]
                )
    writer.writerow([])
    writer.writerow([_("Gap per stage"), *(stage.label for stage in report.stages)])
    for row in report.statements:
        writer.writerow([row.text, *("" if cell.gap is None else cell.gap for cell in row.cells)])
    return out.getvalue()
