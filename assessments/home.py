"""The assessments' parts of the participant's home (programs/extensions.py): open self-assessments and surveys."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from assessments.links import self_assessment_link, survey_link
from assessments.models import Assessment, AssessmentWindow, SurveyResponse, ValueSurvey
from assessments.services import respondent_key


@dataclass(frozen=True)
class OpenSelfAssessment:
    window: AssessmentWindow
    link: str
    done: bool


@dataclass(frozen=True)
class OpenSurvey:
    survey: ValueSurvey
    link: str
    answered: bool


def participant_open_self_assessments(*, organization, enrollment, now=None) -> list[OpenSelfAssessment]:
    """Assessment windows of the enrollment's run that are open now, and whether the self-assessment is in."""
    now = now or timezone.now()
    given = Assessment.objects.for_organization(organization).filter(
        window=OuterRef("pk"), subject_enrollment=enrollment, assessor_role=Assessment.Role.SELF
    )
    windows = (
        AssessmentWindow.objects.for_organization(organization)
        .filter(run_id=enrollment.run_id, opens_at__lte=now, closes_at__gt=now)
        .annotate(self_given=Exists(given))
        .order_by("closes_at", "id")
    )
    return [
        OpenSelfAssessment(
            window=window, link=self_assessment_link(window=window, enrollment=enrollment), done=window.self_given
        )
        for window in windows
    ]


def participant_open_surveys(*, organization, enrollment, now=None) -> list[OpenSurvey]:
    """Value-gap surveys open now that ask this enrollment (its run, or its program as a whole)."""
    now = now or timezone.now()
    surveys = list(
        ValueSurvey.objects.for_organization(organization)
        .filter(ask_participants=True, opens_at__lte=now, closes_at__gt=now)
        .filter(Q(run_id=enrollment.run_id) | Q(run__isnull=True, program_id=enrollment.run.program_id))
        .order_by("closes_at", "id")
    )
    if not surveys:
        return []
    keys = {survey.pk: respondent_key(survey=survey, enrollment=enrollment) for survey in surveys}
    answered = set(
        SurveyResponse.objects.for_organization(organization)
        .filter(survey__in=surveys, respondent_key__in=keys.values())
        .values_list("survey_id", "respondent_key")
    )
    return [
        OpenSurvey(
            survey=survey,
            link=survey_link(survey=survey, enrollment=enrollment),
            answered=(survey.pk, keys[survey.pk]) in answered,
        )
        for survey in surveys
    ]
