"""Signed, expiring links for participants (and mentors) who do not log in.

A link carries the organization and the ids it is about, signed with Django's
``SECRET_KEY`` and a salt per purpose, so a self-assessment link cannot be used
as a survey link. Links expire after :data:`LINK_MAX_AGE`; besides that, the page
refuses answers outside the window or survey dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.urls import reverse

from core.links import LinkInvalid, SignedLink

SELF_ASSESSMENT_SALT = "assessments.self-assessment"
SURVEY_SALT = "assessments.value-survey"
LINK_MAX_AGE = timedelta(days=120)
#: o: organization, w: window, e: enrollment.
SELF_ASSESSMENT_LINK = SignedLink(salt=SELF_ASSESSMENT_SALT, claims=("w", "e"), max_age=LINK_MAX_AGE)
#: o: organization, s: survey, and e (enrollment) or m (mentor).
SURVEY_LINK = SignedLink(salt=SURVEY_SALT, claims=("s",), max_age=LINK_MAX_AGE)

__all__ = ("LinkInvalid", "read_self_assessment_token", "read_survey_token", "self_assessment_link", "survey_link")


@dataclass(frozen=True)
class SelfAssessmentToken:
    organization_id: int
    window_id: int
    enrollment_id: int


@dataclass(frozen=True)
class SurveyToken:
    organization_id: int
    survey_id: int
    enrollment_id: int | None
    mentor_id: int | None


def self_assessment_token(*, window, enrollment) -> str:
    return SELF_ASSESSMENT_LINK.make({"o": window.organization_id, "w": window.pk, "e": enrollment.pk})


def self_assessment_link(*, window, enrollment) -> str:
    """The absolute path of the page where a participant assesses themselves in a window."""
    return reverse(
        "assessments:self_assessment", kwargs={"token": self_assessment_token(window=window, enrollment=enrollment)}
    )


def survey_token(*, survey, enrollment=None, mentor=None) -> str:
    if (enrollment is None) == (mentor is None):
        raise ValueError("A survey link is for one participant (enrollment) or one mentor")
    payload = {"o": survey.organization_id, "s": survey.pk}
    if enrollment is not None:
        payload["e"] = enrollment.pk
    else:
        payload["m"] = mentor.pk
    return SURVEY_LINK.make(payload)


def survey_link(*, survey, enrollment=None, mentor=None) -> str:
    """The absolute path of the page where a participant or a mentor answers a value-gap survey."""
    return reverse(
        "assessments:survey_answer", kwargs={"token": survey_token(survey=survey, enrollment=enrollment, mentor=mentor)}
    )


def read_self_assessment_token(token: str, *, now: float | None = None) -> SelfAssessmentToken:
    """Raises :class:`LinkInvalid` (or its :class:`~core.links.LinkExpired`)."""
    data = SELF_ASSESSMENT_LINK.read(token, now=now)
    try:
        return SelfAssessmentToken(
            organization_id=int(data["o"]), window_id=int(data["w"]), enrollment_id=int(data["e"])
        )
    except (TypeError, ValueError) as error:
        raise LinkInvalid("malformed payload") from error


def read_survey_token(token: str, *, now: float | None = None) -> SurveyToken:
    """Raises :class:`LinkInvalid` (or its :class:`~core.links.LinkExpired`)."""
    data = SURVEY_LINK.read(token, now=now)
    try:
        enrollment_id = int(data["e"]) if "e" in data else None
        mentor_id = int(data["m"]) if "m" in data else None
        token_data = SurveyToken(
            organization_id=int(data["o"]), survey_id=int(data["s"]), enrollment_id=enrollment_id, mentor_id=mentor_id
        )
    except (TypeError, ValueError) as error:
        raise LinkInvalid("malformed payload") from error
    if (enrollment_id is None) == (mentor_id is None):
        raise LinkInvalid("a survey link names one respondent")
    return token_data
