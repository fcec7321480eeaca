"""The iCalendar invitation of a booking (RFC 5546 iTIP), built with the ``icalendar`` library.

One event per booking: its ``UID`` never changes, its ``SEQUENCE`` grows with every
change the mentor or participant makes; ``METHOD:REQUEST`` invites (and updates),
``METHOD:CANCEL`` with ``STATUS:CANCELLED`` takes it out of the calendars. The text is
written into the outbox row together with the email, so every attempt sends the same.
"""

from __future__ import annotations

import datetime

from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vCalAddress, vText

METHOD_REQUEST = "REQUEST"
METHOD_CANCEL = "CANCEL"


def _address(email: str, name: str, role: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    address.params["cn"] = vText(name or email)
    address.params["role"] = vText(role)
    address.params["partstat"] = vText("ACCEPTED")
    return address


def booking_calendar(
    *,
    booking,
    method: str,
    mentor_name: str,
    mentor_email: str,
    participant_name: str,
    participant_email: str,
    domain: str,
    now: datetime.datetime | None = None,
) -> str:
    """The .ics text (call it in the recipient's language: the summary is translated)."""
    slot = booking.slot
    calendar = Calendar()
    calendar.add("prodid", "-//Cohort platform//office hours//")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    event.add("uid", f"{booking.uid}@{domain}")
    event.add("sequence", booking.sequence)
    event.add("dtstamp", now or datetime.datetime.now(datetime.UTC))
    event.add("dtstart", booking.starts_at.astimezone(datetime.UTC))
    event.add("dtend", booking.ends_at.astimezone(datetime.UTC))
    event.add(
        "summary",
        _("Office hours: %(mentor)s and %(participant)s") % {"mentor": mentor_name, "participant": participant_name},
    )
    location = slot.location or slot.video_url
    if location:
        event.add("location", location)
    if slot.video_url:
        event.add("url", slot.video_url)
    description = [line for line in (slot.title, booking.topic, slot.video_url) if line]
    if description:
        event.add("description", "\n".join(description))
    if mentor_email:
        event.add("organizer", _address(mentor_email, mentor_name, "CHAIR"))
    if participant_email:
        event.add("attendee", _address(participant_email, participant_name, "REQ-PARTICIPANT"))
    event.add("status", "CANCELLED" if method == METHOD_CANCEL else "CONFIRMED")
    event.add("transp", "OPAQUE")
    calendar.add_component(event)
    return calendar.to_ical().decode("utf-8")
