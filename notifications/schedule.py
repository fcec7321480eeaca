"""Local time for reminders: send days, the send moment, quiet hours.

Beat runs in UTC. Every local time is computed here with :mod:`zoneinfo`, from the
organization's time zone and wall-clock settings, so that "09:00" means 09:00 in
Seoul, London or New York on both sides of a daylight-saving change.
"""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass
from functools import lru_cache

import holidays

UTC = datetime.UTC
STEP = datetime.timedelta(minutes=15)  # finest offset granularity of real zones (e.g. Asia/Kathmandu +05:45)
SEARCH_LIMIT = datetime.timedelta(days=21)


@lru_cache(maxsize=128)
def _holiday_calendar(country: str, year: int):
    try:
        return holidays.country_holidays(country, years=year)
    except NotImplementedError:
        return {}


def hour_is_quiet(hour: int, start: int, end: int) -> bool:
    """Is a local hour inside quiet hours [start, end)? Equal bounds mean no quiet hours."""
    if start == end:
        return False
    if start < end:
        return start <= hour < end
    return hour >= start or hour < end  # wraps midnight, e.g. 21:00-08:00


def zone_of(organization) -> zoneinfo.ZoneInfo:
    return organization.zone


@dataclass(frozen=True)
class SendingRules:
    """The part of an organization's settings that decides when sending is allowed."""

    zone: zoneinfo.ZoneInfo
    country: str
    send_hour: int
    quiet_hours_start: int
    quiet_hours_end: int
    working_days: tuple[int, ...]
    skip_public_holidays: bool

    @classmethod
    def for_organization(cls, organization, settings) -> SendingRules:
        return cls(
            zone=zone_of(organization),
            country=organization.country or "KR",
            send_hour=settings.send_hour,
            quiet_hours_start=settings.quiet_hours_start,
            quiet_hours_end=settings.quiet_hours_end,
            working_days=tuple(settings.working_days or ()),
            skip_public_holidays=settings.skip_public_holidays,
        )

    # --- days ------------------------------------------------------------------------

    def is_holiday(self, day: datetime.date) -> bool:
        return day in _holiday_calendar(self.country, day.year)

    def is_send_day(self, day: datetime.date) -> bool:
        if day.isoweekday() not in self.working_days:
            return False
        return not (self.skip_public_holidays and self.is_holiday(day))

    def next_send_day(self, day: datetime.date, *, include_today: bool = True) -> datetime.date | None:
        candidate = day if include_today else day + datetime.timedelta(days=1)
        for _ in range(SEARCH_LIMIT.days):
            if self.is_send_day(candidate):
                return candidate
            candidate += datetime.timedelta(days=1)
        return None

    def last_send_day_on_or_before(self, day: datetime.date) -> datetime.date | None:
        candidate = day
        for _ in range(SEARCH_LIMIT.days):
            if self.is_send_day(candidate):
                return candidate
            candidate -= datetime.timedelta(days=1)
        return None

    # --- hours -----------------------------------------------------------------------

    def is_quiet_hour(self, hour: int) -> bool:
        return hour_is_quiet(hour, self.quiet_hours_start, self.quiet_hours_end)

    def local(self, moment: datetime.datetime) -> datetime.datetime:
        return moment.astimezone(self.zone)

    def local_date(self, moment: datetime.datetime) -> datetime.date:
        return self.local(moment).date()

    def send_moment(self, day: datetime.date) -> datetime.datetime:
        """The UTC instant of the send hour on a local day.

        On a spring-forward day a send hour inside the gap (e.g. 02:00 in New York)
        comes out one hour later in wall time, the way clocks themselves jump.
        """
        wall = datetime.datetime.combine(day, datetime.time(self.send_hour), tzinfo=self.zone)
        return wall.astimezone(UTC)

    def is_allowed(self, moment: datetime.datetime) -> bool:
        """May a message go out at this instant (a send day, outside quiet hours)?"""
        local = self.local(moment)
        return self.is_send_day(local.date()) and not self.is_quiet_hour(local.hour)

    def daily_window_is_open(self, moment: datetime.datetime) -> bool:
        """Is it a send day, at or after the send hour, and not yet quiet?

        Daily reminders (milestones, check-in requests, digests) are planned only
        then; outside the window they wait for the next send day.
        """
        local = self.local(moment)
        return self.is_allowed(moment) and local.hour >= self.send_hour

    def next_allowed_moment(self, moment: datetime.datetime) -> datetime.datetime:
        """The first instant at or after ``moment`` when sending is allowed.

        Walks forward in quarter hours of UTC, converting each to local time: simple,
        and right for every offset and every daylight-saving jump.
        """
        moment = moment.astimezone(UTC)
        if self.is_allowed(moment):
            return moment
        candidate = moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0) + STEP
        limit = moment + SEARCH_LIMIT
        while candidate < limit:
            if self.is_allowed(candidate):
                return candidate
            candidate += STEP
        return moment  # no allowed moment in three weeks (no working days): do not hold it forever


def iso_week_slot(day: datetime.date) -> str:
    year, week, _ = day.isocalendar()
    return f"week:{year}-W{week:02d}"
