"""Pages for participants (signed links, no login) and the run calendar feed (secret URL)."""

from __future__ import annotations

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_http_methods

from core.forms import form_errors_from
from core.links import signed_link_page
from core.models import Organization
from integrations.throttling import counter_hit
from programs import extensions, links, selectors, services
from programs.forms import CheckInForm, CommitmentsForm, HelpRequestForm, ProgressForm
from programs.models import Enrollment, Milestone

SECTIONS = {
    links.PURPOSE_HOME: "programs/participant/home.html",
    links.PURPOSE_CHECK_IN: "programs/participant/check_in.html",
    links.PURPOSE_PROGRESS: "programs/participant/progress.html",
    links.PURPOSE_HELP: "programs/participant/help.html",
}
SUPPORTED_LANGUAGES = ("ko", "en")


def _language(request, enrollment: Enrollment | None) -> str:
    wanted = request.GET.get("lang", "")
    if wanted in SUPPORTED_LANGUAGES:
        return wanted
    if enrollment is not None and enrollment.language in SUPPORTED_LANGUAGES:
        return enrollment.language
    return translation.get_language_from_request(request) or "ko"


def _link_problem(request, reason: str, status: int) -> HttpResponse:
    """A clear page instead of an error page: the link is expired, altered or no longer active."""
    language = _language(request, None)
    with translation.override(language):
        response = render(
            request,
            "programs/participant/link_problem.html",
            {"reason": reason, "lang": language, "lost_link_url": _lost_link_url(request)},
            status=status,
        )
    response["Content-Language"] = language
    return response


@require_http_methods(["GET", "POST"])
@signed_link_page(links.participant_token_read)
def participant_page(request, token: str, section: str | None = None):
    """Every participant page: the token says which enrollment and which actions."""
    try:
        claims = links.participant_token_read(token)
    except links.LinkExpired:
        return _link_problem(request, "expired", 410)
    except links.LinkInvalid:
        return _link_problem(request, "invalid", 400)
    section = section or claims.purpose
    if section not in SECTIONS or not claims.allows(section):
        return _link_problem(request, "wrong_page", 403)
    organization = request.link_organization
    enrollment = (
        Enrollment.objects.for_organization(organization)
        .select_related("run", "run__program", "participant", "team")
        .filter(pk=claims.enrollment_id, archived_at__isnull=True)
        .first()
        if organization
        else None
    )
    if enrollment is None or enrollment.status == Enrollment.Status.DROPPED:
        return _link_problem(request, "inactive", 410)

    language = _language(request, enrollment)
    # Dates and times on these pages are the organization's (a deadline is a local date).
    with translation.override(language), timezone.override(_zone(organization)):
        context = {
            "organization": organization,
            "enrollment": enrollment,
            "run": enrollment.run,
            "token": token,
            "lang": language,
            "section": section,
            "can_do_everything": claims.purpose == links.PURPOSE_HOME,
            "saved": request.GET.get("saved") == "1",
        }
        handler = {
            links.PURPOSE_HOME: _home,
            links.PURPOSE_CHECK_IN: _check_in,
            links.PURPOSE_PROGRESS: _progress,
            links.PURPOSE_HELP: _help,
        }[section]
        response = handler(request, organization, enrollment, context)
        if isinstance(response, dict):
            response = render(request, SECTIONS[section], response)
    response["Content-Language"] = language
    return response


def _zone(organization):
    import zoneinfo

    try:
        return zoneinfo.ZoneInfo(organization.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("Asia/Seoul")


def _saved_redirect(request, saved: str = "1", anchor: str = "") -> HttpResponseRedirect:
    fragment = f"#{anchor}" if anchor else ""
    return HttpResponseRedirect(f"{request.path}?saved={saved}&lang={translation.get_language()}{fragment}")


def _home(request, organization, enrollment, context):
    """The participant's own space: what is due, what they asked, what is open for them; commitments to edit."""
    initial = {"success_definition": enrollment.success_definition, "commitments": enrollment.commitments}
    form = CommitmentsForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.enrollment_commitments_update(
                organization=organization, enrollment=enrollment, **form.cleaned_data
            )
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            return _saved_redirect(request, "commitments", "my-commitments")
    home = selectors.participant_home(organization=organization, enrollment=enrollment)
    run = enrollment.run
    calendar_path = reverse("programs:run_calendar", args=[organization.slug, run.calendar_token])
    calendar_url = request.build_absolute_uri(calendar_path)
    context.update(
        home=home,
        rows=home.rows,
        check_ins=home.check_ins,
        help_requests=home.help_requests,
        deadline_in_days=home.deadline_in_days,
        commitments_form=form,
        editing_commitments=form.is_bound,  # a refused edit stays open with its errors
        saved_commitments=request.GET.get("saved") == "commitments",
        calendar_url=calendar_url,
        calendar_subscribe_url="webcal://" + calendar_url.split("://", 1)[1],
    )
    return context


def _check_in(request, organization, enrollment, context):
    form = CheckInForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.check_in_create(organization=organization, enrollment=enrollment, **form.cleaned_data)
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            return _saved_redirect(request)
    context["form"] = form
    return context


def _help(request, organization, enrollment, context):
    form = HelpRequestForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.help_request_create(organization=organization, enrollment=enrollment, **form.cleaned_data)
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            return _saved_redirect(request)
    context["form"] = form
    context["mentors"] = selectors.mentors_for_enrollment(organization=organization, enrollment=enrollment)
    return context


def _progress(request, organization, enrollment, context):
    rows = selectors.milestone_progress_for_enrollment(organization=organization, enrollment=enrollment)
    posted = None
    if request.method == "POST":
        posted = ProgressForm(request.POST)
        if posted.is_valid():
            milestone = (
                Milestone.objects.for_organization(organization)
                .filter(pk=posted.cleaned_data["milestone"], run_id=enrollment.run_id)
                .first()
            )
            if milestone is None:
                posted.add_error(None, _("This milestone is not part of your program."))
            else:
                try:
                    services.milestone_progress_update(
                        organization=organization,
                        enrollment=enrollment,
                        milestone=milestone,
                        status=posted.cleaned_data["status"],
                        evidence_url=posted.cleaned_data["evidence_url"],
                        note=posted.cleaned_data["note"],
                    )
                except ValidationError as error:
                    form_errors_from(posted, error)
                else:
                    return _saved_redirect(request)
    forms_by_row = []
    for row in rows:
        if posted is not None and str(row.milestone.pk) == request.POST.get("milestone"):
            form = posted
        else:
            form = ProgressForm(
                initial={
                    "milestone": row.milestone.pk,
                    "status": row.status,
                    "evidence_url": row.progress.evidence_url if row.progress else "",
                    "note": row.progress.note if row.progress else "",
                },
                prefix=None,
            )
        forms_by_row.append((row, form))
    context["forms_by_row"] = forms_by_row
    if posted is not None and not any(form is posted for _row, form in forms_by_row):
        # A milestone outside the participant's run has no form of its own to carry the error.
        context["unplaced_errors"] = posted.non_field_errors()
    return context


def run_calendar(request, org_slug: str, token: str):
    """An iCalendar feed of a run's milestones; the URL is the secret (no login)."""
    from icalendar import Calendar, Event

    # The middleware has activated the organization named in the URL (org_slug).
    organization = Organization.objects.filter(slug=org_slug).first()
    run = selectors.run_by_calendar_token(organization=organization, token=token) if organization else None
    if run is None:
        raise Http404
    with translation.override(organization.language):
        calendar = Calendar()
        calendar.add("prodid", "-//Cohort platform//programs//")
        calendar.add("version", "2.0")
        calendar.add("x-wr-calname", f"{run.program.name} · {run.name}")
        calendar.add("x-wr-timezone", organization.time_zone)
        stamp = datetime.datetime.now(datetime.UTC)
        for milestone in selectors.milestones_for_run(organization=organization, run=run):
            event = Event()
            event.add("uid", f"milestone-{milestone.pk}@{organization.slug}")
            event.add("summary", f"D-{milestone.days_before_deadline} {milestone.name}")
            event.add("dtstart", milestone.due_on)
            event.add("dtend", milestone.due_on + datetime.timedelta(days=1))
            event.add("dtstamp", stamp)
            if milestone.deliverable:
                event.add("description", milestone.deliverable)
            calendar.add_component(event)
        deadline = Event()
        deadline.add("uid", f"run-{run.pk}-deadline@{organization.slug}")
        deadline.add("summary", _("Final deadline: %(run)s") % {"run": run.name})
        deadline.add("dtstart", run.final_deadline)
        deadline.add("dtend", run.final_deadline + datetime.timedelta(days=1))
        deadline.add("dtstamp", stamp)
        calendar.add_component(deadline)
    response = HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="run-{run.pk}.ics"'
    return response


# --- Lost link: a fresh home link by email ------------------------------------------------

#: Requests per hour before the lost-link page asks to wait: per client address, per email.
LOST_LINK_PER_ADDRESS_PER_HOUR = 10
LOST_LINK_PER_EMAIL_PER_HOUR = 3


def _lost_link_url(request) -> str:
    """The lost-link page of the organization a genuine (even expired) link names; '' for a broken link."""
    from django.urls import reverse

    match = getattr(request, "resolver_match", None)
    token = (match.kwargs.get("token", "") if match else "") or ""
    organization_id = links.LINK.organization_id(token, expired_ok=True)
    if organization_id is None:
        return ""
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return ""
    return reverse("programs:lost_link", kwargs={"org_slug": organization.slug})


class LostLinkForm(forms.Form):
    email = forms.EmailField(
        label=_lazy("Your email address"),
        max_length=254,
        help_text=_lazy("The address your program knows you by."),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "inputmode": "email"}),
    )


def _client_address(request) -> str:
    try:
        from axes.helpers import get_client_ip_address

        return get_client_ip_address(request) or request.META.get("REMOTE_ADDR", "")
    except Exception:
        return request.META.get("REMOTE_ADDR", "")


def _lost_link_throttled(organization, request, email: str) -> bool:
    """Count this request; True when the address or the email asked too often this hour."""
    import hashlib

    address_count, _left = counter_hit(bucket=f"lost-link:address:{_client_address(request)}", window=3600)
    digest = hashlib.sha256(f"{organization.pk}:{email.strip().lower()}".encode()).hexdigest()[:32]
    email_count, _left = counter_hit(bucket=f"lost-link:email:{digest}", window=3600)
    return address_count > LOST_LINK_PER_ADDRESS_PER_HOUR or email_count > LOST_LINK_PER_EMAIL_PER_HOUR


@require_http_methods(["GET", "POST"])
def lost_link(request, org_slug: str):
    """A participant who lost their link asks for a new one by email.

    The answer is the same whether or not the address belongs to anyone (it never says
    which); the link itself goes out through the outbox, in the participant's language.
    """
    # The middleware has activated the organization named in the URL (org_slug).
    organization = Organization.objects.filter(slug=org_slug).first()
    if organization is None:
        raise Http404
    language = _language(request, None)
    status = 200
    sent = False
    with translation.override(language):
        form = LostLinkForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            email = form.cleaned_data["email"]
            if _lost_link_throttled(organization, request, email):
                status = 429
                form.add_error(None, _("Too many requests. Please try again in an hour."))
            else:
                extensions.lost_link_send(organization=organization, email=email)
                sent = True
        context = {"organization": organization, "form": form, "sent": sent, "lang": language}
        response = render(request, "programs/participant/lost_link.html", context, status=status)
    response["Content-Language"] = language
    response["Cache-Control"] = "no-store"
    if status == 429:
        response["Retry-After"] = "3600"
    return response
