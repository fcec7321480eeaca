"""A mentor's own channels in the portal (``/mentor/channels/``).

The same choices a program manager sets for them in the admin (**Channel choices**),
for the kinds a mentor receives, saved by the same service
(:func:`notifications.services.channel_profile_update`). It only ever reads and writes
the profile of the logged-in mentor's email in ``request.organization``. The route is
included from ``mentors/urls.py`` (``notifications/portal_urls.py``), so that the
portal's app does not import this one.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.forms import form_errors_from
from mentors.views import mentor_required
from notifications import selectors, services
from notifications.forms import StaffChannelsForm
from notifications.models import STAFF_CHANNELS, Channel, Kind

# The kinds of message a mentor receives (notifications.planning: help requests, their
# mentees' overdue milestones and assessments, their own goals, surveys, the weekly digest),
# in the order they meet them. Office hours and lost links always go by email.
MENTOR_KINDS = [
    Kind.HELP_REQUEST_NEW,
    Kind.HELP_REQUEST_UNANSWERED,
    Kind.MILESTONE_OVERDUE,
    Kind.ASSESSMENT_OPENED,
    Kind.ASSESSMENT_CLOSING,
    Kind.GOAL_CHECKIN_DUE,
    Kind.SURVEY_INVITATION,
    Kind.SURVEY_REMINDER,
    Kind.DIGEST_MENTOR,
]


@mentor_required
@require_http_methods(["GET", "POST"])
def mentor_channels(request):
    organization, email = request.organization, request.user.email
    settings = selectors.notification_settings_for(organization=organization)
    credentials = selectors.channel_credentials_for(organization=organization)
    profile = selectors.channel_profile_of(organization=organization, email=email)
    slack_ready = bool(credentials and credentials.slack_ready)
    # Slack needs the organization's bot token; without it Slack is not offered at all.
    offered = [channel for channel in STAFF_CHANNELS if channel != Channel.SLACK or slack_ready]
    defaults = [channel for channel in (settings.staff_channels or []) if channel in offered] or [Channel.EMAIL.value]
    kinds = [kind for kind in MENTOR_KINDS if settings.kind_enabled(kind)]
    form = StaffChannelsForm(
        request.POST if request.method == "POST" else None,
        kinds=kinds,
        offered=offered,
        current=(profile.choices if profile else {}) or {},
        defaults=defaults,
        profile=profile,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.channel_profile_update(
                organization=organization,
                email=email,
                choices=form.choices(),
                only_kinds=form.kinds,
                slack_member_id=form.cleaned_data.get("slack_member_id") if slack_ready else None,
                teams_webhook_url=form.cleaned_data.get("teams_webhook_url") or None,
            )
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            messages.success(request, _("Your channel choices are saved."))
            return redirect("mentors:channels")
    context = {
        "form": form,
        "slack_ready": slack_ready,
        "defaults": [Channel(channel).label for channel in defaults],
        "email": email,
    }
    return render(request, "notifications/mentor_channels.html", context)
