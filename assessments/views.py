"""Pages: participants' signed-link pages and the mentor portal pages.

Participants do not log in: a signed link names the organization, and every read
below is scoped to it. Mentor pages need a logged-in user with a mentor row in the
active organization.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse, reverse_lazy
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from assessments import links, selectors, services
from assessments.forms import SERVICE_FIELD_TO_FORM_FIELD, LevelAssessmentForm, SurveyAnswerForm
from assessments.models import Assessment, SurveyResponse
from core.forms import form_errors_from
from core.links import signed_link_page
from core.models import Organization
from mentors.models import Mentor
from programs.models import Enrollment

PORTAL_BASE = "mentors/portal_base.html"
PORTAL_FALLBACK_BASE = "assessments/portal_fallback_base.html"


def _page_language(request, preferred: str | None) -> str:
    wanted = request.GET.get("lang") or request.POST.get("lang") or preferred or "ko"
    return wanted if wanted in ("ko", "en") else "ko"


def _organization(request) -> Organization:
    """The organization a signed link names (:func:`core.links.signed_link_page` activated it)."""
    if request.link_organization is None:
        raise Http404
    return request.link_organization


def _link_invalid(request, language: str):
    with translation.override(language):
        return render(request, "assessments/public_link_invalid.html", {"language": language}, status=404)


def _enrollment(organization, enrollment_id):
    return (
        Enrollment.objects.for_organization(organization)
        .filter(pk=enrollment_id, archived_at__isnull=True)
        .select_related("participant", "team", "run")
        .first()
    )


def _save_assessment(
    *, request, form: LevelAssessmentForm, organization, window, existing: Assessment | None, **submit_kwargs
) -> bool:
    """Submit or revise through the services; put their errors on the form."""
    evidence = {
        "level": form.selected_level(),
        "notes": form.cleaned_data["notes"],
        "links": form.link_list(),
        "observations": form.observations(),
        "recorded_by": request.user,
    }
    try:
        if existing is None:
            services.assessment_submit(organization=organization, window=window, **submit_kwargs, **evidence)
        else:
            services.assessment_revise(organization=organization, assessment=existing, **evidence)
    except ValidationError as error:
        form_errors_from(form, error, field_map=SERVICE_FIELD_TO_FORM_FIELD)
        return False
    return True


# --- Participants: signed links ------------------------------------------------------


@signed_link_page(links.read_self_assessment_token)
def self_assessment(request, token: str):
    """A participant assesses themselves in one window (mobile-friendly, ko/en)."""
    try:
        data = links.read_self_assessment_token(token)
    except links.LinkInvalid:
        return _link_invalid(request, _page_language(request, None))
    organization = _organization(request)
    window = selectors.window_get(organization=organization, window_id=data.window_id)
    enrollment = _enrollment(organization, data.enrollment_id)
    if window is None or enrollment is None or enrollment.run_id != window.run_id:
        return _link_invalid(request, _page_language(request, organization.language))
    participant = enrollment.participant
    language = _page_language(request, participant.language if participant else organization.language)
    with translation.override(language):
        levels = list(selectors.level_list(organization=organization, framework=window.framework))
        existing = selectors.assessment_find(
            organization=organization, window=window, subject_key=f"enrollment:{enrollment.pk}", assessor_key="self"
        )
        saved = request.GET.get("saved") == "1"
        form = LevelAssessmentForm(
            request.POST if request.method == "POST" else None, levels=levels, assessment=existing
        )
        wants_to_save = request.method == "POST" and window.is_open() and form.is_valid()
        if wants_to_save and _save_assessment(
            request=request,
            form=form,
            organization=organization,
            window=window,
            existing=existing,
            subject_enrollment=enrollment,
            assessor_role=Assessment.Role.SELF,
        ):
            return HttpResponseRedirect(f"{request.path}?lang={language}&saved=1")
        context = {
            "organization": organization,
            "window": window,
            "framework": window.framework,
            "enrollment": enrollment,
            "form": form,
            "existing": existing,
            "saved": saved,
            "language": language,
            "now": timezone.now(),
        }
        return render(request, "assessments/public_self_assessment.html", context)


@signed_link_page(links.read_survey_token)
def survey_answer(request, token: str):
    """A participant or a mentor answers a value-gap survey."""
    try:
        data = links.read_survey_token(token)
    except links.LinkInvalid:
        return _link_invalid(request, _page_language(request, None))
    organization = _organization(request)
    survey = selectors.survey_get(organization=organization, survey_id=data.survey_id)
    enrollment = mentor = None
    if data.enrollment_id is not None:
        enrollment = _enrollment(organization, data.enrollment_id)
        respondent = enrollment
        preferred = enrollment.participant.language if enrollment and enrollment.participant else None
    else:
        mentor = Mentor.objects.for_organization(organization).select_related("user").filter(pk=data.mentor_id).first()
        respondent = mentor
        preferred = mentor.user.language if mentor else None
    if survey is None or respondent is None:
        return _link_invalid(request, _page_language(request, organization.language))
    language = _page_language(request, preferred or organization.language)
    with translation.override(language):
        statements = selectors.survey_statements(organization=organization, survey=survey)
        key = services.respondent_key(survey=survey, enrollment=enrollment, mentor=mentor)
        existing = selectors.survey_response_find(organization=organization, survey=survey, key=key)
        form = SurveyAnswerForm(
            request.POST if request.method == "POST" else None, statements=statements, response=existing
        )
        if request.method == "POST" and survey.is_open() and form.is_valid():
            try:
                services.survey_response_submit(
                    organization=organization,
                    survey=survey,
                    enrollment=enrollment,
                    mentor=mentor,
                    ratings=form.ratings(),
                    own_values=form.cleaned_data["own_values"],
                    improve=form.cleaned_data["improve"],
                    stop=form.cleaned_data["stop"],
                )
            except ValidationError as error:
                form_errors_from(form, error, field_map=SERVICE_FIELD_TO_FORM_FIELD)
            else:
                return HttpResponseRedirect(f"{request.path}?lang={language}&saved=1")
        context = {
            "organization": organization,
            "survey": survey,
            "form": form,
            "existing": existing,
            "saved": request.GET.get("saved") == "1",
            "language": language,
            "respondent_kind": SurveyResponse.RespondentKind.MENTOR
            if mentor
            else SurveyResponse.RespondentKind.PARTICIPANT,
            "now": timezone.now(),
        }
        return render(request, "assessments/public_survey.html", context)


# --- Mentor portal -------------------------------------------------------------------


def _portal_base() -> str:
    """The mentor portal's base template, or a plain one until the portal exists."""
    try:
        get_template(PORTAL_BASE)
    except TemplateDoesNotExist:
        return PORTAL_FALLBACK_BASE
    return PORTAL_BASE


def mentor_required(view):
    """A logged-in user with a mentor row in the active organization; passes ``mentor``."""

    @login_required(login_url=reverse_lazy("mentors:login"))
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        organization = request.organization or None
        mentor = selectors.mentor_for_user(organization=organization, user=request.user)
        if mentor is None:
            raise PermissionDenied(_("This page is for mentors of the organization."))
        return view(request, *args, organization=organization, mentor=mentor, **kwargs)

    return wrapper


@mentor_required
def mentor_assessments(request, *, organization, mentor):
    """Mentees to assess in the windows open now."""
    windows = list(selectors.mentor_open_windows(organization=organization, mentor=mentor))
    mentees = list(
        selectors.mentor_mentees(organization=organization, mentor=mentor, run_ids=[w.run_id for w in windows])
    )
    done = selectors.mentor_assessment_keys(
        organization=organization, mentor=mentor, window_ids=[w.pk for w in windows]
    )
    sections = [
        {
            "window": window,
            "rows": [
                {"enrollment": enrollment, "assessment": done.get((window.pk, enrollment.pk))}
                for enrollment in mentees
                if enrollment.run_id == window.run_id
            ],
        }
        for window in windows
    ]
    return render(
        request,
        "assessments/mentor_assessments.html",
        {"portal_base": _portal_base(), "sections": sections, "mentor": mentor},
    )


@mentor_required
def mentor_assess(request, window_id: int, enrollment_id: int, *, organization, mentor):
    """A mentor assesses one mentee in one window (assigned mentees only)."""
    window = selectors.window_get(organization=organization, window_id=window_id)
    if window is None:
        raise Http404
    enrollment = (
        selectors.mentor_mentees(organization=organization, mentor=mentor, run_ids=[window.run_id])
        .filter(pk=enrollment_id)
        .first()
    )
    if enrollment is None:
        raise Http404
    levels = list(selectors.level_list(organization=organization, framework=window.framework))
    existing = selectors.assessment_find(
        organization=organization,
        window=window,
        subject_key=f"enrollment:{enrollment.pk}",
        assessor_key=f"mentor:{mentor.pk}",
    )
    form = LevelAssessmentForm(request.POST if request.method == "POST" else None, levels=levels, assessment=existing)
    wants_to_save = request.method == "POST" and form.is_valid()
    if wants_to_save and _save_assessment(
        request=request,
        form=form,
        organization=organization,
        window=window,
        existing=existing,
        subject_enrollment=enrollment,
        assessor_role=Assessment.Role.MENTOR,
        assessor_mentor=mentor,
    ):
        messages.success(request, _("Assessment saved."))
        return HttpResponseRedirect(reverse("assessments:mentor_assessments"))
    context = {
        "portal_base": _portal_base(),
        "window": window,
        "framework": window.framework,
        "enrollment": enrollment,
        "form": form,
        "existing": existing,
        "now": timezone.now(),
    }
    return render(request, "assessments/mentor_assess.html", context)


@mentor_required
def mentor_surveys(request, *, organization, mentor):
    """Open value-gap surveys that ask this mentor."""
    surveys = list(selectors.mentor_open_surveys(organization=organization, mentor=mentor))
    keys = {survey.pk: services.respondent_key(survey=survey, mentor=mentor) for survey in surveys}
    answered = set(
        SurveyResponse.objects.for_organization(organization)
        .filter(survey__in=surveys, respondent_key__in=keys.values())
        .values_list("survey_id", "respondent_key")
    )
    rows = [
        {
            "survey": survey,
            "link": links.survey_link(survey=survey, mentor=mentor),
            "answered": (survey.pk, keys[survey.pk]) in answered,
        }
        for survey in surveys
    ]
    return render(request, "assessments/mentor_surveys.html", {"portal_base": _portal_base(), "rows": rows})
