"""Office-hours pages: the mentor's (``/mentor/office-hours/``) and the participant's (``/oh/<token>/``).

The participant's page is reached with their signed home link (``programs.links``,
purpose "home"), through :func:`core.links.signed_link_page`.
"""

from __future__ import annotations

import zoneinfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.forms import form_errors_from
from core.links import signed_link_page
from mentors.views import mentor_required
from officehours import forms, selectors, services
from officehours.models import OfficeHourBooking, OfficeHourSlot
from programs import links as participant_links
from programs.models import Enrollment

SUPPORTED_LANGUAGES = ("ko", "en")


def _zone(organization) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(organization.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("Asia/Seoul")


# --- The mentor's pages --------------------------------------------------------------------------


@mentor_required
def mentor_home(request):
    organization, mentor = request.organization, request.mentor
    now = timezone.now()
    bookings = list(selectors.bookings_for_mentor(organization=organization, mentor=mentor, since=now))
    context = {
        "slots": list(selectors.slots_for_mentor(organization=organization, mentor=mentor)),
        "upcoming": [b for b in bookings if b.status == OfficeHourBooking.Status.BOOKED and b.starts_at > now],
        "to_log": selectors.bookings_due_for_session(organization=organization, mentor=mentor, now=now),
        "now": now,
    }
    with timezone.override(_zone(organization)):
        return render(request, "officehours/mentor_home.html", context)


@mentor_required
def slot_create(request):
    organization, mentor = request.organization, request.mentor
    form = forms.SlotForm(request.POST or None, default_zone=organization.time_zone)
    if request.method == "POST" and form.is_valid():
        try:
            services.slot_publish(organization=organization, mentor=mentor, **form.slot_fields())
        except ValidationError as error:
            if hasattr(error, "error_dict") and "starts_at" in error.error_dict:
                error = ValidationError({"date": error.error_dict.pop("starts_at"), **error.error_dict})
            form_errors_from(form, error)
        else:
            messages.success(request, _("Office hours published. Your mentees can book them from their home page."))
            return redirect("officehours:mentor_home")
    return render(request, "officehours/slot_form.html", {"form": form})


def _own_slot(request, slot_id: int) -> OfficeHourSlot:
    try:
        return selectors.slot_for_mentor(organization=request.organization, mentor=request.mentor, slot_id=slot_id)
    except OfficeHourSlot.DoesNotExist:
        raise Http404 from None


def _own_booking(request, booking_id: int) -> OfficeHourBooking:
    try:
        return selectors.booking_for_mentor(
            organization=request.organization, mentor=request.mentor, booking_id=booking_id
        )
    except OfficeHourBooking.DoesNotExist:
        raise Http404 from None


@mentor_required
def slot_edit(request, slot_id: int):
    slot = _own_slot(request, slot_id)
    initial = {name: getattr(slot, name) for name in services.CHANGEABLE_FIELDS}
    form = forms.SlotChangeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.slot_update(organization=request.organization, slot=slot, **form.cleaned_data)
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            messages.success(request, _("Saved. Anyone booked was sent the updated invitation."))
            return redirect("officehours:mentor_home")
    with timezone.override(slot.zone):
        return render(request, "officehours/slot_edit.html", {"form": form, "slot": slot})


@mentor_required
@require_POST
def slot_withdraw(request, slot_id: int):
    slot = _own_slot(request, slot_id)
    services.slot_withdraw(organization=request.organization, slot=slot)
    messages.success(request, _("The slot was withdrawn; anyone booked was told."))
    return redirect("officehours:mentor_home")


@mentor_required
@require_POST
def mentor_booking_cancel(request, booking_id: int):
    booking = _own_booking(request, booking_id)
    form = forms.CancelForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.booking_cancel(
            organization=request.organization, booking=booking, by=OfficeHourBooking.CancelledBy.MENTOR, reason=reason
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The booking was cancelled; the participant was told."))
    return redirect("officehours:mentor_home")


@mentor_required
def booking_session(request, booking_id: int):
    """Turn office hours that took place into a mentoring session, with the mentor's notes."""
    booking = _own_booking(request, booking_id)
    if booking.session_id:
        return redirect("mentors:session_detail", session_id=booking.session_id)
    form = forms.SessionFromBookingForm(request.POST or None, initial={"topics": booking.topic[:300]})
    if request.method == "POST" and form.is_valid():
        try:
            session = services.booking_session_log(
                organization=request.organization,
                booking=booking,
                base_url=request.build_absolute_uri("/"),
                **form.cleaned_data,
            )
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            messages.success(request, _("Session logged. The participant is asked to rate it."))
            return redirect("mentors:session_detail", session_id=session.pk)
    with timezone.override(booking.slot.zone):
        return render(request, "officehours/booking_session.html", {"form": form, "booking": booking})


# --- The participant's page ----------------------------------------------------------------------


def _claims_or_none(token: str):
    try:
        return participant_links.home_token_read(token)
    except participant_links.LinkInvalid:
        return None


def _language(request, enrollment) -> str:
    wanted = request.GET.get("lang", "")
    if wanted in SUPPORTED_LANGUAGES:
        return wanted
    if enrollment is not None and enrollment.language in SUPPORTED_LANGUAGES:
        return enrollment.language
    return translation.get_language_from_request(request) or "ko"


def _link_problem(request):
    language = _language(request, None)
    with translation.override(language):
        response = render(request, "officehours/link_problem.html", {"lang": language}, status=404)
    response["Content-Language"] = language
    return response


@require_http_methods(["GET", "POST"])
@signed_link_page(participant_links.participant_token_read)
def participant_page(request, token: str, booking_id: int | None = None):
    """Free times of the participant's own mentors, their bookings; book and cancel."""
    claims = _claims_or_none(token)
    organization = request.link_organization
    enrollment = (
        Enrollment.objects.for_organization(organization)
        .select_related("run", "run__program", "participant")
        .filter(pk=claims.enrollment_id, archived_at__isnull=True)
        .first()
        if claims and organization
        else None
    )
    if enrollment is None or enrollment.status == Enrollment.Status.DROPPED:
        return _link_problem(request)
    language = _language(request, enrollment)
    with translation.override(language), timezone.override(_zone(organization)):
        if booking_id is not None:
            response = _participant_cancel(request, organization, enrollment, booking_id)
        else:
            response = _participant_home(request, organization, enrollment, token, language)
    response["Content-Language"] = language
    return response


def _participant_home(request, organization, enrollment, token, language):
    now = timezone.now()
    form = forms.BookingForm(request.POST if request.method == "POST" else None)
    booking_error = None
    if request.method == "POST":
        if form.is_valid():
            try:
                services.booking_create(
                    organization=organization,
                    enrollment=enrollment,
                    slot_id=form.cleaned_data["slot"],
                    starts_at=form.cleaned_data["starts_at"],
                    topic=form.cleaned_data["topic"],
                )
            except ValidationError as error:
                booking_error = " ".join(error.messages)
            else:
                return HttpResponseRedirect(f"{request.path}?lang={language}&saved=booked#my-bookings")
        else:
            booking_error = _("That time could not be read. Please choose it again.")
    mentors = selectors.bookable_mentors(organization=organization, enrollment=enrollment)
    context = {
        "organization": organization,
        "enrollment": enrollment,
        "run": enrollment.run,
        "token": token,
        "lang": language,
        "mentors": mentors,
        "free": selectors.free_occurrences(organization=organization, mentors=mentors, now=now),
        "bookings": selectors.upcoming_bookings_for_enrollment(organization=organization, enrollment=enrollment),
        "booking_error": booking_error,
        "saved": request.GET.get("saved", ""),
        "cancel_error": request.GET.get("cancel_error", ""),
        "home_url": reverse("programs:participant", args=[token]) + f"?lang={language}",
        "needs_own_email": not enrollment.participant_id,
    }
    for booking in context["bookings"]:
        booking.cancel_deadline = services.cancel_deadline(booking)
        booking.can_cancel = now <= booking.cancel_deadline
    status = 400 if booking_error else 200
    return render(request, "officehours/participant.html", context, status=status)


def _participant_cancel(request, organization, enrollment, booking_id: int):
    if request.method != "POST":
        raise Http404
    try:
        booking = selectors.booking_for_enrollment(
            organization=organization, enrollment=enrollment, booking_id=booking_id
        )
    except OfficeHourBooking.DoesNotExist:
        raise Http404 from None
    form = forms.CancelForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    base = reverse("officehours:participant", kwargs={"token": request.resolver_match.kwargs["token"]})
    language = translation.get_language()
    try:
        services.booking_cancel(
            organization=organization,
            booking=booking,
            by=OfficeHourBooking.CancelledBy.PARTICIPANT,
            reason=reason,
        )
    except ValidationError:
        return HttpResponseRedirect(f"{base}?lang={language}&cancel_error={booking.pk}#my-bookings")
    return HttpResponseRedirect(f"{base}?lang={language}&saved=cancelled#my-bookings")
