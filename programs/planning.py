"""Backward planning: dated milestones counted back from a run's final deadline.

Pure date arithmetic, no writes: :mod:`programs.services` turns the results into rows.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import lru_cache

import holidays

DEFAULT_COUNTRY = "KR"


@lru_cache(maxsize=128)
def _holiday_calendar(country: str, year: int, language: str | None = None):
    try:
        calendar = holidays.country_holidays(country or DEFAULT_COUNTRY, years=year, language=language)
    except NotImplementedError:
        calendar = holidays.country_holidays(DEFAULT_COUNTRY, years=year, language=language)
    return calendar


def is_working_day(day: datetime.date, *, country: str = DEFAULT_COUNTRY) -> bool:
    """Monday to Friday and not a public holiday of the country."""
    return day.weekday() < 5 and day not in _holiday_calendar(country, day.year)


def working_day_on_or_before(day: datetime.date, *, country: str = DEFAULT_COUNTRY) -> datetime.date:
    """The day itself if people work then, else the closest working day before it.

    Earlier, never later: a deliverable moved off a holiday must still be ready in time.
    """
    while not is_working_day(day, country=country):
        day -= datetime.timedelta(days=1)
    return day


def holiday_name(day: datetime.date, *, country: str = DEFAULT_COUNTRY, language: str | None = None) -> str:
    """The holiday's name in the page language when the library has it (Korean does), else English."""
    if language is None:
        from django.utils import translation

        language = translation.get_language() or ""
    wanted = {"ko": "ko", "en": "en_US"}.get(language[:2])
    calendar = _holiday_calendar(country, day.year)
    if wanted and wanted in getattr(calendar, "supported_languages", ()):
        calendar = _holiday_calendar(country, day.year, wanted)
    return calendar.get(day) or ""


def due_date_backwards(
    deadline: datetime.date, days_before: int, *, skip_non_working_days: bool, country: str = DEFAULT_COUNTRY
) -> datetime.date:
    """The date ``days_before`` days before the deadline (D-n), optionally on a working day."""
    day = deadline - datetime.timedelta(days=days_before)
    if skip_non_working_days:
        day = working_day_on_or_before(day, country=country)
    return day


@dataclass(frozen=True)
class PlannedDate:
    """One milestone of a plan: where it falls and why it moved."""

    name: str
    days_before_deadline: int
    counted_on: datetime.date  # deadline minus the offset, before avoiding weekends/holidays
    due_on: datetime.date
    before_run_start: bool

    @property
    def moved(self) -> bool:
        return self.counted_on != self.due_on
