"""The words of office-hours emails (invitation, change, cancellation, reminder), in the recipient's language.

Each builder is called inside ``translation.override(recipient.language)`` by the
notifications renderer and returns a ``notifications.content.Message``.
"""

from __future__ import annotations

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from notifications.content import Message


def when(booking) -> str:
    """The start and end in the slot's (the mentor's) zone, with the zone's name."""
    zone = booking.slot.zone
    start, end = booking.starts_at.astimezone(zone), booking.ends_at.astimezone(zone)
    day = formats.date_format(start, pgettext("date format of reminders (Django date syntax)", "D j M Y"))
    return f"{day} {start:%H:%M}–{end:%H:%M} ({zone.key})"


def _where(booking) -> list[str]:
    lines = []
    if booking.slot.location:
        lines.append(_("Place: %(place)s") % {"place": booking.slot.location})
    if booking.slot.video_url:
        lines.append(_("Video link: %(url)s") % {"url": booking.slot.video_url})
    return lines


def _topic(booking) -> list[str]:
    return [_("To talk about: %(topic)s") % {"topic": booking.topic}] if booking.topic else []


def booked(*, name: str, booking, other: str, link: str) -> Message:
    return Message(
        subject=_("Office hours booked: %(when)s with %(other)s") % {"when": when(booking), "other": other},
        lines=[
            _("Office hours with %(other)s are booked for %(when)s.") % {"other": other, "when": when(booking)},
            *_where(booking),
            *_topic(booking),
            _("The calendar invitation is attached."),
        ],
        action_url=link,
        action_label=_("See or cancel the booking"),
        greeting_name=name,
    )


def changed(*, name: str, booking, other: str, link: str) -> Message:
    return Message(
        subject=_("Office hours changed: %(when)s with %(other)s") % {"when": when(booking), "other": other},
        lines=[
            _("Your office hours with %(other)s on %(when)s have changed.") % {"other": other, "when": when(booking)},
            *_where(booking),
            _("The updated calendar invitation is attached."),
        ],
        action_url=link,
        action_label=_("See the booking"),
        greeting_name=name,
    )


def cancelled(*, name: str, booking, other: str, cancelled_by: str, link: str) -> Message:
    lines = [
        _("The office hours with %(other)s on %(when)s were cancelled by %(who)s.")
        % {"other": other, "when": when(booking), "who": cancelled_by},
    ]
    if booking.cancel_reason:
        lines.append(_("Reason: %(reason)s") % {"reason": booking.cancel_reason})
    lines.append(_("The attached calendar update removes it from your calendar."))
    return Message(
        subject=_("Office hours cancelled: %(when)s with %(other)s") % {"when": when(booking), "other": other},
        lines=lines,
        action_url=link,
        action_label=_("Book another time"),
        greeting_name=name,
    )


def reminder(*, name: str, booking, other: str, hours: int, link: str) -> Message:
    return Message(
        subject=_("Reminder: office hours with %(other)s at %(when)s") % {"other": other, "when": when(booking)},
        lines=[
            _("Your office hours with %(other)s start at %(when)s.") % {"other": other, "when": when(booking)},
            *_where(booking),
            *_topic(booking),
        ],
        action_url=link,
        action_label=_("See the booking"),
        greeting_name=name,
    )
