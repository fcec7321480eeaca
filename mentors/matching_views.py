"""The mentor's matching profile in the portal (``/mentor/matching/``).

What the matching of ``matching/`` reads about a mentor: the areas they can help with,
industries, stages and languages (fixed lists, so overlaps with a participant's needs can
be computed), beside the development goals they want to practise on. Kept apart from
``views.py`` only to keep that module about the portal's pages of old.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from mentors import forms, selectors, services
from mentors.views import _form_errors_from, mentor_required
from mentors.vocabulary import Area, label_of


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
            _form_errors_from(form, error)
        else:
            messages.success(request, _("Your matching profile is saved."))
            return redirect("mentors:matching_profile")
    goals = [
        {"goal": goal, "areas": [label_of(Area, code) for code in goal.practice_areas]}
        for goal in selectors.goals_for_mentor(organization=request.organization, mentor=mentor)
    ]
    return render(request, "mentors/matching_profile.html", {"form": form, "goals": goals, "mentor": mentor})
