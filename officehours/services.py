"""Writes of office hours: publish and withdraw slots, book, cancel, turn a booking into a session.

Every email (invitation, change, cancellation, reminders) is written to the
notifications outbox in the same transaction, keyed so that it exists once:
``officehours:booking:<id>`` with the slot ``seq:<sequence>`` for calendar messages and
``before:<hours>h`` for reminders (see docs/officehours.md).
"""

from __future__ import annotations

import datetime
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.public_url import public_base_url, public_url
from core.tenancy import require_same_organization
from mentors import services as mentor_services
from notifications import selectors as notification_selectors
from notifications import services as notification_services
from notifications.models import Channel, Kind
from notifications.planning import Planned
from notifications.schedule import SendingRules
from notifications.selectors import Person
from officehours import invitations, messages, selectors
from officehours.models import OfficeHourBooking, OfficeHourSlot
from officehours.occurrences import is_occurrence, occurrence_starts
from programs.links import participant_token

#: Reminders before a booked slot, in hours.
REMINDER_HOURS = (24, 1)
SLOT_FIELDS = (
    "title",
    "starts_at",
    "duration_minutes",
    "time_zone",
    "repeat",
    "repeat_until",
    "location",
    "video_url",
    "cancel_window_hours",
)
CHANGEABLE_FIELDS = ("title", "location", "video_url", "cancel_window_hours")


# --- Slots ---------------------------------------------------------------------------------------


@transaction.atomic
def slot_publish(*, organization, mentor, **fields) -> OfficeHourSlot:
    """Publish a one-off or weekly slot. ``starts_at`` is an aware datetime (stored in UTC)."""
    require_same_organization(organization, mentor=mentor)
    unknown = set(fields) - set(SLOT_FIELDS)
    if unknown:
        raise TypeError(f"Not slot fields: {sorted(unknown)}")
    fields.setdefault("time_zone", organization.time_zone)
    slot = OfficeHourSlot(organization=organization, mentor=mentor, **fields)
    slot.full_clean()
    if slot.starts_at <= timezone.now():
        raise ValidationError({"starts_at": _("Choose a time in the future.")})
    slot.save()
    return slot


@transaction.atomic
def slot_update(*, organization, slot: OfficeHourSlot, **fields) -> OfficeHourSlot:
    """Change the title, place, video link or cancellation window; booked people get an update.

    Times are fixed once published (people have booked them): withdraw and publish anew.
    """
    require_same_organization(organization, slot=slot)
    unknown = set(fields) - set(CHANGEABLE_FIELDS)
    if unknown:
        raise ValidationError(
            {name: _("This cannot be changed once published; withdraw the slot instead.") for name in unknown}
        )
    slot = OfficeHourSlot.objects.for_organization(organization).select_for_update().get(pk=slot.pk)
    where_before = (slot.location, slot.video_url, slot.title)
    for name, value in fields.items():
        setattr(slot, name, value)
    slot.full_clean()
    slot.save()
    if (slot.location, slot.video_url, slot.title) != where_before:
        for booking in _future_active_bookings(organization, slot):
            booking.slot = slot
            booking.sequence += 1
            booking.save(update_fields=["sequence", "updated_at"])
            _queue_calendar_messages(organization, booking, Kind.OFFICE_HOURS_CHANGED)
    return slot


def _future_active_bookings(organization, slot) -> list[OfficeHourBooking]:
    return list(
        OfficeHourBooking.objects.for_organization(organization)
        .select_for_update(of=("self",))
        .filter(slot=slot, status=OfficeHourBooking.Status.BOOKED, starts_at__gt=timezone.now())
        .select_related("slot", "mentor__user", "enrollment__participant")
    )


@transaction.atomic
def slot_withdraw(*, organization, slot: OfficeHourSlot) -> OfficeHourSlot:
    """Stop offering the slot; its future bookings are cancelled by the mentor (both are told)."""
    require_same_organization(organization, slot=slot)
    slot = OfficeHourSlot.objects.for_organization(organization).select_for_update().get(pk=slot.pk)
    slot.status = OfficeHourSlot.Status.WITHDRAWN
    slot.save(update_fields=["status", "updated_at"])
    for booking in _future_active_bookings(organization, slot):
        _cancel(organization, booking, OfficeHourBooking.CancelledBy.MENTOR, _("The mentor withdrew the slot."))
    return slot


# --- Bookings ------------------------------------------------------------------------------------


@transaction.atomic
def booking_create(
    *,
    organization,
    enrollment,
    slot_id: int,
    starts_at: datetime.datetime,
    topic: str = "",
    now: datetime.datetime | None = None,
) -> OfficeHourBooking:
    """Book one occurrence of a slot for an enrollment.

    The slot row is locked (``select_for_update``) so that two people booking the same
    time queue up and the second sees it taken; the partial unique constraint is the
    last word. Only a mentor assigned to the enrollment in its run can be booked.
    """
    now = now or timezone.now()
    require_same_organization(organization, enrollment=enrollment)
    slot = (
        OfficeHourSlot.objects.for_organization(organization)
        .select_for_update(of=("self",))
        .select_related("mentor__user")
        .filter(pk=slot_id)
        .first()
    )
    if slot is None or slot.status != OfficeHourSlot.Status.PUBLISHED:
        raise ValidationError(_("This time is no longer offered."))
    if slot.mentor_id not in {
        m.pk for m in selectors.bookable_mentors(organization=organization, enrollment=enrollment)
    }:
        raise ValidationError(_("You can book office hours with your own mentors only."))
    if not enrollment.participant_id or not enrollment.participant.email:
        raise ValidationError(_("Office hours are booked by one participant with an email address."))
    starts_at = starts_at.astimezone(datetime.UTC)
    if not is_occurrence(slot, starts_at):
        raise ValidationError(_("This time is not one of the slot's times."))
    if starts_at <= now:
        raise ValidationError(_("This time has already begun."))
    if _taken(organization, slot, starts_at):
        raise ValidationError(_("Someone else has just booked this time. Please choose another."))
    booking = OfficeHourBooking(
        organization=organization,
        slot=slot,
        mentor=slot.mentor,
        enrollment=enrollment,
        run_id=enrollment.run_id,
        starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(minutes=slot.duration_minutes),
        topic=topic.strip(),
    )
    booking.full_clean(exclude=["uid"], validate_constraints=False)
    try:
        with transaction.atomic():
            booking.save()
    except IntegrityError:
        raise ValidationError(_("Someone else has just booked this time. Please choose another.")) from None
    booking.slot = slot
    _queue_calendar_messages(organization, booking, Kind.OFFICE_HOURS_BOOKED)
    _queue_reminders(organization, booking, now)
    return booking


def _taken(organization, slot, starts_at) -> bool:
    return (
        OfficeHourBooking.objects.for_organization(organization)
        .filter(slot=slot, starts_at=starts_at, status__in=OfficeHourBooking.ACTIVE_STATUSES)
        .exists()
    )


def cancel_deadline(booking: OfficeHourBooking) -> datetime.datetime:
    """The last moment a participant may cancel (the slot's window before the start)."""
    return booking.starts_at - datetime.timedelta(hours=booking.slot.cancel_window_hours)


@transaction.atomic
def booking_cancel(
    *,
    organization,
    booking: OfficeHourBooking,
    by: str,
    reason: str = "",
    now: datetime.datetime | None = None,
) -> OfficeHourBooking:
    """Cancel a booking. A participant cannot within the slot's window; the mentor and PMs can until it starts."""
    now = now or timezone.now()
    require_same_organization(organization, booking=booking)
    booking = (
        OfficeHourBooking.objects.for_organization(organization)
        .select_for_update(of=("self",))
        .select_related("slot", "mentor__user", "enrollment__participant")
        .get(pk=booking.pk)
    )
    if booking.status != OfficeHourBooking.Status.BOOKED:
        raise ValidationError(_("This booking is not active any more."))
    if booking.starts_at <= now:
        raise ValidationError(_("These office hours have already begun; they cannot be cancelled."))
    if by == OfficeHourBooking.CancelledBy.PARTICIPANT and now > cancel_deadline(booking):
        hours = booking.slot.cancel_window_hours
        raise ValidationError(
            _(
                "Bookings cannot be cancelled in the last %(hours)s hours before the start. "
                "Please write to your mentor instead."
            )
            % {"hours": hours}
        )
    return _cancel(organization, booking, by, reason.strip()[:300], now=now)


def _cancel(organization, booking, by, reason, now=None) -> OfficeHourBooking:
    booking.status = OfficeHourBooking.Status.CANCELLED
    booking.cancelled_at = now or timezone.now()
    booking.cancelled_by = by
    booking.cancel_reason = reason
    booking.sequence += 1
    booking.save(update_fields=["status", "cancelled_at", "cancelled_by", "cancel_reason", "sequence", "updated_at"])
    with translation.override(organization.language):
        why = _("The booking was cancelled before the reminder went out.")
    notification_services.notifications_withdraw(
        organization=organization,
        subject_key=subject_key(booking),
        kinds=[Kind.OFFICE_HOURS_REMINDER.value],
        why=why,
    )
    _queue_calendar_messages(organization, booking, Kind.OFFICE_HOURS_CANCELLED)
    return booking


# --- After the slot: a mentoring session ---------------------------------------------------------


@transaction.atomic
def booking_session_log(
    *,
    organization,
    booking: OfficeHourBooking,
    topics: str = "",
    notes: str = "",
    next_steps: str = "",
    base_url: str | None = None,
    now: datetime.datetime | None = None,
):
    """Turn booked office hours that have begun into a mentoring session (the mentor's notes).

    Through :func:`mentors.services.session_log`: the participant is asked to rate it as
    after any session.
    """
    now = now or timezone.now()
    require_same_organization(organization, booking=booking)
    booking = (
        OfficeHourBooking.objects.for_organization(organization)
        .select_for_update(of=("self",))
        .select_related("slot", "mentor", "enrollment")
        .get(pk=booking.pk)
    )
    if booking.status != OfficeHourBooking.Status.BOOKED:
        raise ValidationError(_("A session was already logged for these office hours, or they were cancelled."))
    if booking.starts_at > now:
        raise ValidationError(_("A session can be logged once the office hours have begun."))
    session = mentor_services.session_log(
        organization=organization,
        mentor=booking.mentor,
        held_on=booking.starts_at.astimezone(booking.slot.zone).date(),
        duration_minutes=booking.slot.duration_minutes,
        topics=(topics or booking.topic)[:300],
        notes=notes,
        next_steps=next_steps,
        attendees=[booking.enrollment],
        base_url=base_url,
    )
    booking.session = session
    booking.status = OfficeHourBooking.Status.HELD
    booking.save(update_fields=["session", "status", "updated_at"])
    return session


# --- Messages through the outbox -----------------------------------------------------------------


def subject_key(booking) -> str:
    return f"officehours:booking:{booking.pk}"


def _domain() -> str:
    return urlsplit(public_base_url()).hostname or "localhost"


def participant_booking_link(enrollment) -> str:
    """The participant's office-hours page (a home-purpose signed link of programs.links)."""
    path = reverse("officehours:participant", kwargs={"token": participant_token(enrollment)})
    return public_url(path)


def _mentor_link() -> str:
    return public_url(reverse("officehours:mentor_home"))


def _people(booking) -> tuple[Person, Person]:
    mentor = Person.of_user(booking.mentor.user)
    participant = Person.of_participant(booking.enrollment.participant)
    return mentor, participant


def _queue(organization, booking, planned: list[Planned]) -> None:
    if planned:
        notification_services.notifications_queue(organization=organization, planned=planned)


def _planned(organization, booking, *, kind, slot, recipient, build, reason, scheduled_for, unsubscribed, calendar=""):
    return Planned(
        kind=kind,
        channel=Channel.EMAIL,
        subject_key=subject_key(booking),
        slot=slot,
        recipient=recipient,
        run_id=booking.run_id,
        scheduled_for=scheduled_for,
        reason=reason,
        build=build,
        language=recipient.language if recipient.language in ("ko", "en") else "ko",
        unsubscribed=unsubscribed,
        calendar=calendar,
    )


def _queue_calendar_messages(organization, booking, kind: str) -> None:
    """The invitation, update or cancellation to the mentor and the participant (once per sequence)."""
    settings = notification_selectors.notification_settings_for(organization=organization)
    if not settings.kind_enabled(kind):
        return
    rules = SendingRules.for_organization(organization, settings)
    mentor, participant = _people(booking)
    method = invitations.METHOD_CANCEL if kind == Kind.OFFICE_HOURS_CANCELLED else invitations.METHOD_REQUEST
    scheduled_for = rules.next_allowed_moment(timezone.now())
    domain = _domain()
    who_cancelled = {
        OfficeHourBooking.CancelledBy.MENTOR: mentor.name,
        OfficeHourBooking.CancelledBy.PARTICIPANT: participant.name,
    }
    planned = []
    for recipient, other, link in (
        (mentor, participant.name, _mentor_link()),
        (participant, mentor.name, participant_booking_link(booking.enrollment)),
    ):
        if not recipient.email:
            continue
        with translation.override(recipient.language):
            calendar = invitations.booking_calendar(
                booking=booking,
                method=method,
                mentor_name=mentor.name,
                mentor_email=mentor.email,
                participant_name=participant.name,
                participant_email=participant.email,
                domain=domain,
            )

        def build(other=other, link=link, name=recipient.name):
            if kind == Kind.OFFICE_HOURS_BOOKED:
                return messages.booked(name=name, booking=booking, other=other, link=link)
            if kind == Kind.OFFICE_HOURS_CHANGED:
                return messages.changed(name=name, booking=booking, other=other, link=link)
            by = who_cancelled.get(booking.cancelled_by) or _("the program team")
            return messages.cancelled(name=name, booking=booking, other=other, cancelled_by=by, link=link)

        unsubscribed = notification_selectors.is_unsubscribed(
            organization=organization, email=recipient.email, kind=kind
        )
        planned.append(
            _planned(
                organization,
                booking,
                kind=kind,
                slot=f"seq:{booking.sequence}",
                recipient=recipient,
                build=build,
                reason=lambda: _("Office hours were booked, changed or cancelled."),
                scheduled_for=scheduled_for,
                unsubscribed=unsubscribed,
                calendar=calendar,
            )
        )
    _queue(organization, booking, planned)


def _queue_reminders(organization, booking, now) -> None:
    """Reminders 24 h and 1 h before, to both; one that cannot go out before the start is not written."""
    settings = notification_selectors.notification_settings_for(organization=organization)
    kind = Kind.OFFICE_HOURS_REMINDER
    if not settings.kind_enabled(kind):
        return
    rules = SendingRules.for_organization(organization, settings)
    mentor, participant = _people(booking)
    planned = []
    for hours in REMINDER_HOURS:
        moment = booking.starts_at - datetime.timedelta(hours=hours)
        if moment <= now:
            continue
        scheduled_for = rules.next_allowed_moment(moment)
        if scheduled_for >= booking.starts_at:
            continue
        for recipient, other, link in (
            (mentor, participant.name, _mentor_link()),
            (participant, mentor.name, participant_booking_link(booking.enrollment)),
        ):
            if not recipient.email:
                continue

            def build(other=other, link=link, hours=hours, name=recipient.name):
                return messages.reminder(name=name, booking=booking, other=other, hours=hours, link=link)

            planned.append(
                _planned(
                    organization,
                    booking,
                    kind=kind,
                    slot=f"before:{hours}h",
                    recipient=recipient,
                    build=build,
                    reason=lambda hours=hours: _("Office hours start in %(hours)s hours.") % {"hours": hours},
                    scheduled_for=scheduled_for,
                    unsubscribed=notification_selectors.is_unsubscribed(
                        organization=organization, email=recipient.email, kind=kind
                    ),
                )
            )
    _queue(organization, booking, planned)


def slot_occurrence_count(slot: OfficeHourSlot) -> int:
    return len(occurrence_starts(slot))
