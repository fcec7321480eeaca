"""The participant's matching page (``/match/<token>/``), reached from their signed home link.

Needs for this run and ranked mentor choices; no account. Only a home link opens it
(a check-in-only link does not), and only its own enrollment.
"""

from __future__ import annotations

import zoneinfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.http import require_http_methods

from core.forms import form_errors_from
from core.links import signed_link_page
from matching import selectors, services
from matching.forms import ParticipantPreferencesForm
from programs import links
from programs import services as programs_services
from programs.models import Enrollment

SUPPORTED_LANGUAGES = ("ko", "en")


def _language(request, enrollment: Enrollment | None) -> str:
    wanted = request.GET.get("lang", "")
    if wanted in SUPPORTED_LANGUAGES:
        return wanted
    if enrollment is not None and enrollment.language in SUPPORTED_LANGUAGES:
        return enrollment.language
    return translation.get_language_from_request(request) or "ko"


def _problem(request, status: int) -> HttpResponse:
    language = _language(request, None)
    with translation.override(language):
        response = render(
            request,
            "programs/participant/link_problem.html",
            {"reason": {400: "invalid", 410: "expired", 403: "wrong_page"}.get(status, "inactive"), "lang": language},
            status=status,
        )
    response["Content-Language"] = language
    return response


@require_http_methods(["GET", "POST"])
@signed_link_page(links.participant_token_read)
def participant_preferences(request, token: str):
    try:
        claims = links.participant_token_read(token)
    except links.LinkExpired:
        return _problem(request, 410)
    except links.LinkInvalid:
        return _problem(request, 400)
    if claims.purpose != links.PURPOSE_HOME:
        return _problem(request, 403)
    organization = request.link_organization
    enrollment = (
        Enrollment.objects.for_organization(organization)
        .select_related("run", "run__program", "participant", "team", "organization")
        .filter(pk=claims.enrollment_id, archived_at__isnull=True)
        .first()
        if organization
        else None
    )
    if enrollment is None or enrollment.status == Enrollment.Status.DROPPED:
        return _problem(request, 410)
    language = _language(request, enrollment)
    try:
        zone = zoneinfo.ZoneInfo(organization.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("Asia/Seoul")
    with translation.override(language), timezone.override(zone):
        mentors = list(selectors.matchable_mentors(organization=organization))
        chosen = selectors.participant_choices(organization=organization, enrollment=enrollment)
        initial = {
            "needs": enrollment.needs,
            "industry": enrollment.industry,
            "stage": enrollment.stage,
            "mentor_wish": enrollment.mentor_wish,
            **{f"choice_{rank}": str(mentor.pk) for rank, mentor in enumerate(chosen, start=1)},
        }
        form = ParticipantPreferencesForm(
            request.POST if request.method == "POST" else None, initial=initial, mentors=mentors
        )
        if request.method == "POST" and form.is_valid():
            try:
                with transaction.atomic():  # both writes or neither
                    programs_services.enrollment_matching_needs_update(
                        organization=organization,
                        enrollment=enrollment,
                        needs=form.cleaned_data["needs"],
                        industry=form.cleaned_data["industry"],
                        stage=form.cleaned_data["stage"],
                        mentor_wish=form.cleaned_data["mentor_wish"],
                    )
                    services.participant_preferences_set(
                        organization=organization, enrollment=enrollment, mentors=form.cleaned_data["mentors"]
                    )
            except ValidationError as error:
                form_errors_from(form, error, field_map={"mentors": "choice_1"})
            else:
                url = reverse("matching:participant_preferences", args=[token])
                return HttpResponseRedirect(f"{url}?saved=1&lang={language}")
        context = {
            "organization": organization,
            "enrollment": enrollment,
            "run": enrollment.run,
            "token": token,
            "lang": language,
            "section": "mentors",
            "can_do_everything": True,
            "saved": request.GET.get("saved") == "1",
            "form": form,
            "mentors": mentors,
        }
        response = render(request, "matching/participant_preferences.html", context)
    response["Content-Language"] = language
    return response
