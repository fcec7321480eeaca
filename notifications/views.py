"""One-click unsubscribe (RFC 8058), reached from a link or header in every reminder.

GET shows a confirmation page with one button: link scanners and previews follow
links, and must not unsubscribe anyone. POST unsubscribes; it needs no CSRF token
because mail providers POST ``List-Unsubscribe=One-Click`` from their own servers;
the signed token in the URL is the proof.
"""

from __future__ import annotations

from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from core.links import LinkInvalid, signed_link_page
from notifications import links, selectors, services
from notifications.forms import ChannelChoicesForm
from notifications.models import PARTICIPANT_CHANNELS, Channel, Kind
from notifications.solapi import e164
from programs import links as participant_links


@csrf_exempt
@require_http_methods(["GET", "POST"])
@signed_link_page(links.unsubscribe_token_read)
def unsubscribe(request, token: str):
    try:
        claims = links.unsubscribe_token_read(token)
    except LinkInvalid:
        raise Http404 from None
    if claims["kind"] not in Kind.values:
        raise Http404
    organization = request.link_organization
    if organization is None:
        raise Http404
    language = claims["language"] or organization.language
    with translation.override(language):
        context = {
            "organization": organization,
            "email": claims["email"],
            "kind_label": Kind(claims["kind"]).label,
            "done": False,
            "language": language,
        }
        if request.method == "POST":
            services.unsubscribe_record(organization=organization, email=claims["email"], kind=claims["kind"])
            context["done"] = True
        return render(request, "notifications/unsubscribe.html", context)


# --- A participant's channels (issue #19) ---------------------------------------------------

# The kinds a participant receives, in the order they meet them.
PARTICIPANT_KINDS = [
    Kind.WELCOME,
    Kind.MILESTONE_UPCOMING,
    Kind.MILESTONE_DUE_TODAY,
    Kind.MILESTONE_OVERDUE,
    Kind.PARTICIPANT_SILENT,
    Kind.HELP_REQUEST_REPLY,
    Kind.ASSESSMENT_OPENED,
    Kind.ASSESSMENT_CLOSING,
    Kind.SURVEY_INVITATION,
    Kind.SURVEY_REMINDER,
]


class ParticipantChannelsForm(ChannelChoicesForm):
    def __init__(self, *args, current: dict, defaults: list[str], **kwargs):
        super().__init__(
            *args, kinds=PARTICIPANT_KINDS, offered=PARTICIPANT_CHANNELS, current=current, defaults=defaults, **kwargs
        )


@require_http_methods(["GET", "POST"])
@signed_link_page(participant_links.home_token_read)
def participant_channels(request, token: str):
    """Reached from a participant's home link: email or KakaoTalk per kind of message."""
    organization = request.link_organization
    if organization is None:
        raise Http404
    claims = participant_links.participant_token_read(token)
    enrollment = selectors.enrollment_for_link(organization=organization, enrollment_id=claims.enrollment_id)
    if enrollment is None or enrollment.participant is None or not enrollment.participant.email:
        raise Http404
    participant = enrollment.participant
    language = request.GET.get("lang") if request.GET.get("lang") in ("ko", "en") else participant.language
    settings = selectors.notification_settings_for(organization=organization)
    profile = selectors.channel_profile_of(organization=organization, email=participant.email)
    with translation.override(language):
        form = ParticipantChannelsForm(
            request.POST if request.method == "POST" else None,
            current=(profile.choices if profile else {}) or {},
            defaults=settings.participant_channels or [Channel.EMAIL.value],
        )
        if request.method == "POST" and form.is_valid():
            services.channel_profile_update(organization=organization, email=participant.email, choices=form.choices())
            return HttpResponseRedirect(f"{request.path}?saved=1&lang={language}")
        credentials = selectors.channel_credentials_for(organization=organization)
        context = {
            "organization": organization,
            "run": enrollment.run,
            "participant": participant,
            "phone": e164(participant.phone),
            "kakao_ready": bool(credentials and credentials.kakao_ready),
            "form": form,
            "token": token,
            "lang": language,
            "saved": request.GET.get("saved") == "1",
        }
        response = render(request, "notifications/participant_channels.html", context)
    response["Content-Language"] = language
    return response
