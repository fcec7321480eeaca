"""Build the large organization fast: PostgreSQL COPY from generated rows, not services.

Rows are written with the owner's connection (the table owner bypasses nothing here:
it is the superuser that runs migrate, as in production). Column defaults come from the
models themselves, so a field another app adds later with a default needs no change
here. Two things go through the platform's own services because their rules matter
more than their speed: the default assessment framework and the API key.
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field

import psycopg
from django.db import models
from django.utils import timezone
from psycopg import sql
from psycopg.types.json import Jsonb

from bench.sizes import Size

ORG_SLUG = "bench"
COPY_ORG_SLUG = "bench-copy"  # the raw COPY baseline of the import writes here
PM_EMAIL = "pm@bench.test"
SEOUL = zoneinfo.ZoneInfo("Asia/Seoul")


@dataclass
class Dataset:
    organization_id: int
    copy_organization_id: int
    pm_user_id: int
    run_ids: list[int]
    program_ids: list[int]
    api_token: str = ""
    enrollments: list = field(default_factory=list)  # (enrollment id, run id, mentor id)
    counts: dict[str, int] = field(default_factory=dict)


def _default(model_field: models.Field, now: datetime.datetime):
    """A function giving the value of a column the generator did not set."""
    if getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False):
        return lambda: now
    if model_field.has_default():
        if callable(model_field.default):
            return model_field.default  # e.g. a fresh calendar secret per run
        value = model_field.default
        return lambda: value
    if model_field.null:
        return lambda: None
    if isinstance(model_field, (models.CharField, models.TextField)):
        return lambda: ""

    def missing():
        raise ValueError(f"{model_field.model.__name__}.{model_field.name} needs a value")

    return missing


class Loader:
    def __init__(self, connection: psycopg.Connection):
        self.connection = connection
        self.now = timezone.now()
        self.counts: dict[str, int] = {}

    def copy(self, model: type[models.Model], rows: Iterable[dict]) -> list[int]:
        """COPY ``rows`` (attname -> value) into ``model``'s table; return the ids given, in order."""
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        defaults = {f.attname: _default(f, self.now) for f in fields}
        json_fields = {f.attname for f in fields if isinstance(f, models.JSONField)}
        table = model._meta.db_table
        with self.connection.cursor() as cursor:
            cursor.execute(sql.SQL("SELECT COALESCE(MAX(id), 0) FROM {}").format(sql.Identifier(table)))
            next_id = cursor.fetchone()[0] + 1
            ids = []
            columns = sql.SQL(", ").join(sql.Identifier(c) for c in ["id", *(f.column for f in fields)])
            statement = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table), columns)
            with cursor.copy(statement) as copy:
                for row in rows:
                    values = [next_id]
                    for f in fields:
                        value = row[f.attname] if f.attname in row else defaults[f.attname]()
                        if f.attname in json_fields:
                            value = Jsonb(value)
                        values.append(value)
                    copy.write_row(values)
                    ids.append(next_id)
                    next_id += 1
            if ids:
                cursor.execute(
                    sql.SQL("SELECT setval(pg_get_serial_sequence({}, 'id'), %s)").format(sql.Literal(table)),
                    [ids[-1]],
                )
        self.counts[model._meta.label] = self.counts.get(model._meta.label, 0) + len(ids)
        return ids


def local_today() -> datetime.date:
    return timezone.now().astimezone(SEOUL).date()


def build_people_and_programs(loader: Loader, size: Size) -> Dataset:
    """Everything but assessments: organizations, people, programs, runs, enrollments, mentors."""
    from core.models import Membership, Organization, User
    from mentors.models import DevelopmentGoal, GoalCheckIn, KeyResult, Mentor
    from programs.models import (
        CheckIn,
        Enrollment,
        MentorAssignment,
        Milestone,
        MilestoneProgress,
        MilestoneTemplate,
        Participant,
        Program,
        Run,
    )

    now, today = loader.now, local_today()
    organization_id, copy_organization_id = loader.copy(
        Organization,
        [
            {"name": "벤치 창업학교", "slug": ORG_SLUG, "language": "ko", "time_zone": "Asia/Seoul", "country": "KR"},
            {"name": "Bench Copy Baseline", "slug": COPY_ORG_SLUG, "language": "en", "country": "KR"},
        ],
    )
    user_rows = [{"email": PM_EMAIL, "name": "벤치 매니저", "password": "!", "language": "ko"}]
    user_rows += [
        {"email": f"mentor{i:04d}@bench.test", "name": f"멘토 {i:04d}", "password": "!", "language": "ko"}
        for i in range(size.mentors)
    ]
    user_ids = loader.copy(User, user_rows)
    pm_user_id, mentor_user_ids = user_ids[0], user_ids[1:]
    loader.copy(
        Membership,
        [{"organization_id": organization_id, "user_id": pm_user_id, "role": Membership.Role.PROGRAM_MANAGER}]
        + [
            {"organization_id": organization_id, "user_id": uid, "role": Membership.Role.MENTOR}
            for uid in mentor_user_ids
        ],
    )

    program_count = max(1, min(5, size.runs))
    program_ids = loader.copy(
        Program,
        [
            {"organization_id": organization_id, "name": f"고객 발견 부트캠프 {p + 1}", "promised_value": "인터뷰 30회"}
            for p in range(program_count)
        ],
    )
    template_ids = {
        program_id: loader.copy(
            MilestoneTemplate,
            [
                {
                    "organization_id": organization_id,
                    "program_id": program_id,
                    "name": f"마일스톤 {m + 1}",
                    "days_before_deadline": (size.milestones_per_run - m) * 5,
                }
                for m in range(size.milestones_per_run)
            ],
        )
        for program_id in program_ids
    }
    final_deadline = today + datetime.timedelta(days=21)
    run_rows = [
        {
            "organization_id": organization_id,
            "program_id": program_ids[r % program_count],
            "name": f"{r + 1}기",
            "starts_on": today - datetime.timedelta(days=60 + r),
            "ends_on": today + datetime.timedelta(days=30),
            "final_deadline": final_deadline,
            "status": Run.Status.ACTIVE,
        }
        for r in range(size.runs)
    ]
    run_ids = loader.copy(Run, run_rows)
    milestone_rows, milestones_of_run = [], {}
    for run_id, row in zip(run_ids, run_rows, strict=True):
        for m, template_id in enumerate(template_ids[row["program_id"]]):
            days = (size.milestones_per_run - m) * 5
            milestone_rows.append(
                {
                    "organization_id": organization_id,
                    "run_id": run_id,
                    "template_id": template_id,
                    "name": f"마일스톤 {m + 1}",
                    "deliverable": "인터뷰 노트와 다음 실험 계획",
                    "days_before_deadline": days,
                    "due_on": final_deadline - datetime.timedelta(days=days),
                }
            )
    milestone_ids = loader.copy(Milestone, milestone_rows)
    for milestone_id, row in zip(milestone_ids, milestone_rows, strict=True):
        milestones_of_run.setdefault(row["run_id"], []).append(milestone_id)

    participant_ids = loader.copy(
        Participant,
        (
            {
                "organization_id": organization_id,
                "name": f"참가자 {i:05d}",
                "email": f"p{i:05d}@bench.test",
                "company": f"스타트업 {i % 997}",
                "stage": ("idea", "mvp", "revenue")[i % 3],
                "tags": ["b2b"] if i % 2 else [],
                "language": "en" if i % 5 == 0 else "ko",
            }
            for i in range(size.enrollments)
        ),
    )
    per_run = max(1, size.enrollments // size.runs)
    enrollment_runs = [run_ids[min(i // per_run, size.runs - 1)] for i in range(size.enrollments)]
    enrollment_ids = loader.copy(
        Enrollment,
        (
            {
                "organization_id": organization_id,
                "run_id": enrollment_runs[i],
                "participant_id": participant_ids[i],
                "status": Enrollment.Status.ACTIVE,
                "success_definition": "유료 고객 세 곳",
                "commitments": "매주 인터뷰 5회",
                "last_contact_at": now - datetime.timedelta(days=i % 5),
            }
            for i in range(size.enrollments)
        ),
    )
    mentor_ids = loader.copy(
        Mentor,
        (
            {
                "organization_id": organization_id,
                "user_id": uid,
                "expertise": ["고객 인터뷰", "B2B 영업"],
                "capacity": size.enrollments // size.mentors + 5,
                "status": Mentor.Status.ACTIVE,
            }
            for uid in mentor_user_ids
        ),
    )
    mentor_of_enrollment = [mentor_ids[i % size.mentors] for i in range(size.enrollments)]
    loader.copy(
        MentorAssignment,
        (
            {
                "organization_id": organization_id,
                "run_id": enrollment_runs[i],
                "mentor_id": mentor_of_enrollment[i],
                "enrollment_id": enrollment_ids[i],
            }
            for i in range(size.enrollments)
        ),
    )
    goal_ids = loader.copy(
        DevelopmentGoal,
        (
            {
                "organization_id": organization_id,
                "mentor_id": mentor_id,
                "title": f"멘토링 역량 목표 {g + 1}",
                "target_date": today + datetime.timedelta(days=90),
                "checkin_cadence_days": 14,
            }
            for mentor_id in mentor_ids
            for g in range(size.goals_per_mentor)
        ),
    )
    loader.copy(
        KeyResult,
        (
            {"organization_id": organization_id, "goal_id": goal_id, "title": title, "target_value": 10, "unit": "회"}
            for goal_id in goal_ids
            for title in ("강연", "멘티 인터뷰 리뷰")
        ),
    )
    loader.copy(
        GoalCheckIn,
        ({"organization_id": organization_id, "goal_id": goal_id, "confidence": 4} for goal_id in goal_ids),
    )
    statuses = (MilestoneProgress.Status.NOT_STARTED, MilestoneProgress.Status.IN_PROGRESS)
    loader.copy(
        MilestoneProgress,
        (
            {
                "organization_id": organization_id,
                "enrollment_id": enrollment_ids[i],
                "milestone_id": milestone_id,
                "status": statuses[(i + m) % 2],
            }
            for i in range(size.enrollments)
            for m, milestone_id in enumerate(milestones_of_run[enrollment_runs[i]])
        ),
    )
    loader.copy(
        CheckIn,
        (
            {
                "organization_id": organization_id,
                "enrollment_id": enrollment_id,
                "done": "고객 인터뷰 4건",
                "next": "가격 실험",
                "confidence": 3,
            }
            for enrollment_id in enrollment_ids
        ),
    )
    dataset = Dataset(
        organization_id=organization_id,
        copy_organization_id=copy_organization_id,
        pm_user_id=pm_user_id,
        run_ids=run_ids,
        program_ids=program_ids,
    )
    dataset.enrollments = list(zip(enrollment_ids, enrollment_runs, mentor_of_enrollment, strict=True))
    return dataset


def build_assessments(loader: Loader, size: Size, dataset: Dataset) -> None:
    """Pre, mid and post windows in every run; a self and a mentor assessment of every enrollment in each."""
    from assessments.models import Assessment, AssessmentWindow, Framework, Indicator, Level, Observation

    organization_id, now = dataset.organization_id, loader.now
    with loader.connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {Framework._meta.db_table} WHERE organization_id = %s AND is_default",  # noqa: S608
            [organization_id],
        )
        framework_id = cursor.fetchone()[0]
        cursor.execute(
            f"SELECT number, id FROM {Level._meta.db_table} WHERE framework_id = %s ORDER BY number",  # noqa: S608
            [framework_id],
        )
        level_ids = dict(cursor.fetchall())
        cursor.execute(
            f"SELECT level_id, MIN(id) FROM {Indicator._meta.db_table} WHERE organization_id = %s GROUP BY level_id",  # noqa: S608
            [organization_id],
        )
        indicator_of_level = dict(cursor.fetchall())
    kinds = [AssessmentWindow.Kind.PRE, AssessmentWindow.Kind.MID, AssessmentWindow.Kind.POST][: size.windows]
    window_rows = []
    for run_id in dataset.run_ids:
        for k, kind in enumerate(kinds):
            opens = now - datetime.timedelta(days=60 - 25 * k)
            window_rows.append(
                {
                    "organization_id": organization_id,
                    "run_id": run_id,
                    "framework_id": framework_id,
                    "kind": kind,
                    "opens_at": opens,
                    "closes_at": opens + datetime.timedelta(days=14),
                }
            )
    window_ids = loader.copy(AssessmentWindow, window_rows)
    windows_of_run: dict[int, list[tuple[int, int, datetime.datetime]]] = {}
    for index, (window_id, row) in enumerate(zip(window_ids, window_rows, strict=True)):
        windows_of_run.setdefault(row["run_id"], []).append((window_id, index % len(kinds), row["opens_at"]))
    top = max(level_ids)

    def rows():
        for index, (enrollment_id, run_id, mentor_id) in enumerate(dataset.enrollments):
            start = index % 3  # growth: each later window one level up, self one above the mentor
            for window_id, k, opens in windows_of_run[run_id]:
                mentor_level = level_ids[min(top, start + k)]
                self_level = level_ids[min(top, start + k + 1)]
                common = {
                    "organization_id": organization_id,
                    "window_id": window_id,
                    "subject_enrollment_id": enrollment_id,
                    "subject_key": f"enrollment:{enrollment_id}",
                    "links": [],
                    "submitted_at": opens + datetime.timedelta(days=1 + index % 7),
                }
                yield {**common, "assessor_role": Assessment.Role.SELF, "assessor_key": "self", "level_id": self_level}
                yield {
                    **common,
                    "assessor_role": Assessment.Role.MENTOR,
                    "assessor_key": f"mentor:{mentor_id}",
                    "assessor_mentor_id": mentor_id,
                    "level_id": mentor_level,
                    "notes": "고객 인터뷰에서 문제를 구체적으로 찾음",
                }

    generated = list(rows())
    assessment_ids = loader.copy(Assessment, generated)
    loader.copy(
        Observation,
        (
            {
                "organization_id": organization_id,
                "assessment_id": aid,
                "indicator_id": indicator_of_level[row["level_id"]],
            }
            for aid, row in zip(assessment_ids, generated, strict=True)
            if row["assessor_role"] == Assessment.Role.MENTOR and row["level_id"] in indicator_of_level
        ),
    )


def build(*, size: Size, owner_url: str, log=print) -> Dataset:
    from assessments import services as assessment_services
    from bench.database import dsn
    from core import rls
    from core.models import Organization
    from core.tenancy import tenant_guard
    from integrations import services as integration_services

    with psycopg.connect(dsn(owner_url)) as connection:
        loader = Loader(connection)
        dataset = build_people_and_programs(loader, size)
        connection.commit()
        organization = Organization.objects.get(pk=dataset.organization_id)
        with tenant_guard(), rls.organization_context(organization.id):
            assessment_services.framework_create_default(organization=organization)
            _key, dataset.api_token = integration_services.api_key_create(
                organization=organization,
                name="bench",
                scopes=["programs:write", "assessments:read", "mentors:read"],  # write: the bench's PATCH row
                rate_limit_per_minute=10_000_000,  # the load is the point; 429s would measure the limiter
            )
        build_assessments(loader, size, dataset)
        connection.commit()
        connection.autocommit = True
        connection.execute("ANALYZE")
    dataset.counts = loader.counts
    log("built: " + ", ".join(f"{label.split('.')[-1]} {n:,}" for label, n in sorted(loader.counts.items())))
    return dataset
