"""The mentor's matching profile in the portal (``/mentor/matching/``).

What the matching of ``matching/`` reads about a mentor: the areas they can help with,
industries, stages and languages (fixed lists, so overlaps with a participant's needs can
be computed), beside the development goals they want to practise on; and, per run open for
matching, the mentees they would like (``/mentor/matching/runs/<id>/``). Mounted under the
portal by ``matching/portal_urls.py``: ``matching`` depends on ``mentors``, never the other way.

The ranking page writes through ``matching.services.mentor_preferences_set``, the one write
path of a mentor's choices.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.forms import form_errors_from
from matching import selectors as matching_selectors
from matching import services as matching_services
from matching.forms import MentorPreferencesForm
from matching.models import MAX_RANK
from mentors import forms, selectors, services
from mentors.views import mentor_required
from programs.vocabulary import Area, label_of


@mentor_required
def matching_profile(request):
    mentor = request.mentor
    initial = {name: getattr(mentor, name) for name in services.MATCHING_PROFILE_FIELDS}
    form = forms.MatchingProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.mentor_matching_profile_update(
                organization=request.organization,
                mentor=mentor,
                **{name: form.cleaned_data[name] for name in services.MATCHING_PROFILE_FIELDS},
            )
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            messages.success(request, _("Your matching profile is saved."))
            return redirect("matching_portal:matching_profile")
    goals = [
        {"goal": goal, "areas": [label_of(Area, code) for code in goal.practice_areas]}
        for goal in selectors.goals_for_mentor(organization=request.organization, mentor=mentor)
    ]
    choice_counts = matching_selectors.mentor_choice_counts(organization=request.organization, mentor=mentor)
    runs = [
        {"run": run, "chosen": choice_counts.get(run.pk, 0)}
        for run in matching_selectors.runs_open_for_matching(organization=request.organization)
    ]
    context = {"form": form, "goals": goals, "mentor": mentor, "runs": runs}
    return render(request, "matching/mentor_profile.html", context)


@require_http_methods(["GET", "POST"])
@mentor_required
def mentee_preferences(request, run_id: int):
    """The mentor ranks up to ``MAX_RANK`` mentees of one run; saving replaces earlier choices.

    Only a run still open for matching (of the active organization) opens; only the
    enrollments of that run still waiting for a mentor can be chosen.
    """
    organization, mentor = request.organization, request.mentor
    run = matching_selectors.runs_open_for_matching(organization=organization).filter(pk=run_id).first()
    if run is None:
        raise Http404
    enrollments = list(matching_selectors.enrollments_to_match(organization=organization, run=run))
    open_ids = {enrollment.pk for enrollment in enrollments}
    chosen = matching_selectors.mentor_choices(organization=organization, run=run, mentor=mentor)
    still_open = [enrollment for enrollment in chosen if enrollment.pk in open_ids]
    initial = {f"choice_{rank}": str(enrollment.pk) for rank, enrollment in enumerate(still_open, start=1)}
    form = MentorPreferencesForm(request.POST or None, initial=initial, enrollments=enrollments)
    if request.method == "POST" and form.is_valid():
        try:
            matching_services.mentor_preferences_set(
                organization=organization, run=run, mentor=mentor, enrollments=form.cleaned_data["enrollments"]
            )
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            messages.success(request, _("Your choices for this run are saved."))
            return redirect("matching_portal:mentee_preferences", run_id=run.pk)
    context = {
        "run": run,
        "form": form,
        "max_rank": MAX_RANK,
        "chosen": [{"enrollment": enrollment, "open": enrollment.pk in open_ids} for enrollment in chosen],
        "mentees": [
            {
                "enrollment": enrollment,
                "needs": [label_of(Area, code) for code in enrollment.needs or ()],
                "industry": enrollment.get_industry_display() if enrollment.industry else "",
                "stage": enrollment.get_stage_display() if enrollment.stage else "",
            }
            for enrollment in enrollments
        ],
        "takes_mentees": mentor.status in matching_selectors.MATCHABLE_MENTOR_STATUSES,
    }
    return render(request, "matching/mentee_preferences.html", context)
