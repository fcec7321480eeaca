"""Reads of office hours; each takes ``organization=``."""

from __future__ import annotations

import datetime

from django.db.models import QuerySet
from django.utils import timezone

from officehours.models import OfficeHourBooking, OfficeHourSlot
from officehours.occurrences import Occurrence, occurrences_between
from programs.models import MentorAssignment

#: How far ahead a participant sees free times.
BOOKING_HORIZON_DAYS = 28


def slots_for_mentor(*, organization, mentor) -> QuerySet[OfficeHourSlot]:
    return OfficeHourSlot.objects.for_organization(organization).filter(mentor=mentor).order_by("-starts_at", "-id")


def slot_for_mentor(*, organization, mentor, slot_id: int) -> OfficeHourSlot:
    """The mentor's own slot; another mentor's or organization's raises DoesNotExist."""
    return OfficeHourSlot.objects.for_organization(organization).get(mentor=mentor, pk=slot_id)


def bookings_for_mentor(*, organization, mentor, since: datetime.datetime | None = None) -> QuerySet:
    queryset = (
        OfficeHourBooking.objects.for_organization(organization)
        .filter(mentor=mentor)
        .select_related("slot", "enrollment__participant", "enrollment__team", "run__program", "session")
        .order_by("starts_at", "id")
    )
    if since is not None:
        queryset = queryset.filter(ends_at__gte=since)
    return queryset


def booking_for_mentor(*, organization, mentor, booking_id: int) -> OfficeHourBooking:
    return bookings_for_mentor(organization=organization, mentor=mentor).get(pk=booking_id)


def bookings_for_enrollment(*, organization, enrollment) -> QuerySet:
    return (
        OfficeHourBooking.objects.for_organization(organization)
        .filter(enrollment=enrollment)
        .select_related("slot", "mentor__user")
        .order_by("starts_at", "id")
    )


def upcoming_bookings_for_enrollment(*, organization, enrollment, now=None) -> list[OfficeHourBooking]:
    now = now or timezone.now()
    return list(
        bookings_for_enrollment(organization=organization, enrollment=enrollment).filter(
            status=OfficeHourBooking.Status.BOOKED, ends_at__gte=now
        )
    )


def booking_for_enrollment(*, organization, enrollment, booking_id: int) -> OfficeHourBooking:
    return bookings_for_enrollment(organization=organization, enrollment=enrollment).get(pk=booking_id)


def bookable_mentors(*, organization, enrollment) -> list:
    """The mentors assigned to this enrollment in its run (programs.MentorAssignment)."""
    return [
        assignment.mentor
        for assignment in MentorAssignment.objects.for_organization(organization)
        .filter(enrollment=enrollment, run_id=enrollment.run_id, mentor__status="active")
        .select_related("mentor__user")
        .order_by("mentor__user__name", "mentor_id")
    ]


def free_occurrences(*, organization, mentors, now=None, days: int = BOOKING_HORIZON_DAYS) -> list[Occurrence]:
    """Published occurrences of these mentors in the next ``days`` that nobody holds. Two queries."""
    now = now or timezone.now()
    end = now + datetime.timedelta(days=days)
    slots = list(
        OfficeHourSlot.objects.for_organization(organization)
        .filter(mentor__in=mentors, status=OfficeHourSlot.Status.PUBLISHED, starts_at__lt=end)
        .select_related("mentor__user")
    )
    slots = [s for s in slots if s.repeat == OfficeHourSlot.Repeat.WEEKLY or s.starts_at >= now]
    taken = set(
        OfficeHourBooking.objects.for_organization(organization)
        .filter(slot__in=slots, status__in=OfficeHourBooking.ACTIVE_STATUSES, starts_at__gte=now)
        .values_list("slot_id", "starts_at")
    )
    return [o for o in occurrences_between(slots, now, end) if (o.slot.pk, o.starts_at) not in taken]


def bookings_due_for_session(*, organization, mentor, now=None) -> list[OfficeHourBooking]:
    """Booked office hours that have begun and have no session yet: the mentor adds notes."""
    now = now or timezone.now()
    return list(
        bookings_for_mentor(organization=organization, mentor=mentor).filter(
            status=OfficeHourBooking.Status.BOOKED, starts_at__lte=now
        )
    )
