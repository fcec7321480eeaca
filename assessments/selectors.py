"""Reads of the assessments app. Every function takes the organization explicitly."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from assessments.models import (
    Assessment,
    AssessmentWindow,
    Framework,
    Indicator,
    Level,
    SurveyResponse,
    ValueStatement,
    ValueSurvey,
)
from core.models import Organization
from mentors.models import Mentor
from programs.models import Enrollment, MentorAssignment


def framework_list(*, organization: Organization) -> QuerySet[Framework]:
    return Framework.objects.for_organization(organization)


def framework_default(*, organization: Organization) -> Framework | None:
    from assessments.default_framework import DEFAULT_FRAMEWORK_KEY

    frameworks = framework_list(organization=organization)
    return frameworks.filter(key=DEFAULT_FRAMEWORK_KEY).first() or frameworks.first()


def level_list(*, organization: Organization, framework: Framework) -> QuerySet[Level]:
    """A framework's levels in order, each with its behavioural indicators."""
    return (
        Level.objects.for_organization(organization)
        .filter(framework=framework)
        .prefetch_related(Prefetch("indicators", queryset=Indicator.objects.for_organization(organization)))
        .order_by("number")
    )


def window_get(*, organization: Organization, window_id) -> AssessmentWindow | None:
    return (
        AssessmentWindow.objects.for_organization(organization)
        .select_related("run", "framework")
        .filter(pk=window_id)
        .first()
    )


def window_list_for_run(*, organization: Organization, run) -> QuerySet[AssessmentWindow]:
    return (
        AssessmentWindow.objects.for_organization(organization)
        .filter(run=run)
        .select_related("framework")
        .order_by("opens_at", "id")
    )


def mentor_for_user(*, organization: Organization | None, user):
    """The user's mentor engagement in this organization, or None."""
    if organization is None or not user.is_authenticated:
        return None
    return Mentor.objects.for_organization(organization).filter(user=user).first()


def mentor_open_windows(*, organization: Organization, mentor, now: datetime | None = None):
    """Open windows of runs in which the mentor is assigned to at least one enrollment."""
    now = now or timezone.now()
    run_ids = (
        MentorAssignment.objects.for_organization(organization)
        .filter(mentor=mentor, enrollment__isnull=False)
        .values("run_id")
    )
    return (
        AssessmentWindow.objects.for_organization(organization)
        .filter(run_id__in=run_ids, opens_at__lte=now, closes_at__gt=now)
        .select_related("run", "framework")
        .order_by("closes_at", "id")
    )


def mentor_mentees(*, organization: Organization, mentor, run_ids=None):
    """Enrollments the mentor is assigned to (optionally within some runs)."""
    assigned = (
        MentorAssignment.objects.for_organization(organization)
        .filter(mentor=mentor, enrollment__isnull=False)
        .values("enrollment_id")
    )
    enrollments = (
        Enrollment.objects.for_organization(organization)
        .filter(pk__in=assigned, archived_at__isnull=True)
        .select_related("participant", "team", "run")
    )
    if run_ids is not None:
        enrollments = enrollments.filter(run_id__in=run_ids)
    return enrollments.order_by("run_id", "id")


def mentor_assessment_keys(*, organization: Organization, mentor, window_ids) -> dict[tuple[int, int], Assessment]:
    """The mentor's own assessments in these windows, by (window id, enrollment id)."""
    assessments = Assessment.objects.for_organization(organization).filter(
        window_id__in=window_ids, assessor_role=Assessment.Role.MENTOR, assessor_mentor=mentor
    )
    return {(a.window_id, a.subject_enrollment_id): a for a in assessments.select_related("level")}


def assessment_find(*, organization: Organization, window, subject_key: str, assessor_key: str) -> Assessment | None:
    return (
        Assessment.objects.for_organization(organization)
        .filter(window=window, subject_key=subject_key, assessor_key=assessor_key)
        .prefetch_related("observations", "references")
        .select_related("level")
        .first()
    )


def mentor_open_surveys(*, organization: Organization, mentor, now: datetime | None = None) -> QuerySet[ValueSurvey]:
    """Open surveys that ask mentors, for programs (or runs) the mentor works in."""
    now = now or timezone.now()
    assignments = MentorAssignment.objects.for_organization(organization).filter(mentor=mentor)
    return (
        ValueSurvey.objects.for_organization(organization)
        .filter(ask_mentors=True, opens_at__lte=now, closes_at__gt=now)
        .filter(
            Q(run__isnull=True, program_id__in=assignments.values("run__program_id"))
            | Q(run_id__in=assignments.values("run_id"))
        )
        .select_related("program", "run")
        .order_by("closes_at", "id")
    )


def survey_get(*, organization: Organization, survey_id) -> ValueSurvey | None:
    return (
        ValueSurvey.objects.for_organization(organization).select_related("program", "run").filter(pk=survey_id).first()
    )


def survey_statements(*, organization: Organization, survey: ValueSurvey) -> QuerySet[ValueStatement]:
    return ValueStatement.objects.for_organization(organization).filter(survey=survey).order_by("position", "id")


def survey_response_find(*, organization: Organization, survey: ValueSurvey, key: str) -> SurveyResponse | None:
    return (
        SurveyResponse.objects.for_organization(organization)
        .filter(survey=survey, respondent_key=key)
        .prefetch_related("ratings")
        .first()
    )
