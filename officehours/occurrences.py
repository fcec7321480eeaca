"""The occurrences of a slot: a one-off is one; a weekly series is expanded by ``dateutil.rrule``.

The rule runs on the mentor's local wall clock (naive local times), each occurrence is
then given the slot's zone and converted to UTC, so "Tuesdays 10:00 in Europe/London"
stays 10:00 on both sides of a daylight-saving change.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from dateutil.rrule import WEEKLY, rrule

from officehours.models import OfficeHourSlot


@dataclass(frozen=True)
class Occurrence:
    slot: OfficeHourSlot
    starts_at: datetime.datetime  # UTC

    @property
    def ends_at(self) -> datetime.datetime:
        return self.starts_at + datetime.timedelta(minutes=self.slot.duration_minutes)

    @property
    def key(self) -> str:
        return f"{self.slot.pk}:{self.starts_at:%Y%m%dT%H%MZ}"


def occurrence_starts(slot: OfficeHourSlot) -> list[datetime.datetime]:
    """Every start of the slot, in UTC, in order."""
    if slot.repeat != OfficeHourSlot.Repeat.WEEKLY or slot.repeat_until is None:
        return [slot.starts_at.astimezone(datetime.UTC)]
    zone = slot.zone
    first_local = slot.starts_at.astimezone(zone).replace(tzinfo=None)
    until = datetime.datetime.combine(slot.repeat_until, datetime.time.max)
    return [
        local.replace(tzinfo=zone).astimezone(datetime.UTC) for local in rrule(WEEKLY, dtstart=first_local, until=until)
    ]


def is_occurrence(slot: OfficeHourSlot, starts_at: datetime.datetime) -> bool:
    return starts_at.astimezone(datetime.UTC) in set(occurrence_starts(slot))


def occurrences_between(slots, start: datetime.datetime, end: datetime.datetime) -> list[Occurrence]:
    """The occurrences of ``slots`` that start in [start, end), by start time."""
    found = [
        Occurrence(slot=slot, starts_at=moment)
        for slot in slots
        for moment in occurrence_starts(slot)
        if start <= moment < end
    ]
    return sorted(found, key=lambda o: (o.starts_at, o.slot.pk))
