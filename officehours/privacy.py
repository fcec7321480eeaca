"""What office hours hold about a person, for data-subject requests (registry: core/privacy.py).

For a participant: the office hours they booked (when, with whom, the topic they wrote).
For a mentor (a user subject): the slots they published and the bookings of them. Kept on
erasure: bookings and slots with their times, statuses and counts (a mentor's office-hours
figures stay). Erased: the topic a participant wrote and the reason given for a cancellation;
names elsewhere go with the sweep.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core import privacy
from officehours.models import OfficeHourBooking, OfficeHourSlot


def _bookings(subject):
    rows = OfficeHourBooking.objects.for_organization(subject.organization)
    if subject.is_participant:
        return rows.filter(enrollment__participant_id=subject.pk)
    return rows.filter(mentor__user_id=subject.pk)


@privacy.exporter("office_hour_bookings", _("Office-hours bookings"))
def export_bookings(subject):
    return [
        {
            "starts_at": b.starts_at,
            "ends_at": b.ends_at,
            "mentor": str(b.mentor),
            "participant": str(b.enrollment.participant) if b.enrollment.participant_id else "",
            "topic": b.topic,
            "status": b.status,
            "cancelled_by": b.cancelled_by,
            "cancel_reason": b.cancel_reason,
        }
        for b in _bookings(subject).select_related("mentor__user", "enrollment__participant").order_by("starts_at")
    ]


@privacy.exporter("office_hour_slots", _("Office-hours slots published"))
def export_slots(subject):
    if not subject.is_user:
        return []
    return [
        {
            "title": s.title,
            "starts_at": s.starts_at,
            "repeat": s.repeat,
            "repeat_until": s.repeat_until,
            "location": s.location,
            "video_url": s.video_url,
            "status": s.status,
        }
        for s in OfficeHourSlot.objects.for_organization(subject.organization)
        .filter(mentor__user_id=subject.pk)
        .order_by("starts_at")
    ]


@privacy.eraser("officehours")
def erase(subject, placeholder: str) -> int:
    if not subject.is_participant:
        return 0
    return _bookings(subject).update(topic="", cancel_reason="")
