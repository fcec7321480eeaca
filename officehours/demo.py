"""Demo office hours: each organization's own mentor offers weekly office hours, and one mentee has booked.

Idempotent: a mentor who already has slots is left alone.
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Callable

from django.utils import timezone

from mentors.models import Mentor
from officehours import selectors, services
from officehours.models import OfficeHourSlot
from programs.selectors import enrollments_for_mentor


def _next_weekday_at(zone, weekday: int, hour: int) -> datetime.datetime:
    today = timezone.now().astimezone(zone).date()
    day = today + datetime.timedelta(days=(weekday - today.weekday()) % 7 or 7)
    return datetime.datetime.combine(day, datetime.time(hour)).replace(tzinfo=zone)


def seed(ctx, log: Callable[[str], None]) -> None:
    plan = [
        (ctx.korean_org, ctx.mentor_ko, "가격 전략 질문", "창업캠퍼스 3층 회의실"),
        (ctx.english_org, ctx.mentor_en, "Pricing questions", "Northwind hub, room 2"),
    ]
    for organization, user, title, place in plan:
        mentor = Mentor.objects.for_organization(organization).filter(user=user).first()
        if mentor is None or OfficeHourSlot.objects.for_organization(organization).filter(mentor=mentor).exists():
            continue
        zone = zoneinfo.ZoneInfo(organization.time_zone)
        first = _next_weekday_at(zone, 1, 10)  # Tuesdays 10:00 local
        weekly = services.slot_publish(
            organization=organization,
            mentor=mentor,
            title=title,
            starts_at=first,
            duration_minutes=30,
            repeat=OfficeHourSlot.Repeat.WEEKLY,
            repeat_until=(first + datetime.timedelta(weeks=5)).date(),
            location=place,
            cancel_window_hours=12,
        )
        services.slot_publish(
            organization=organization,
            mentor=mentor,
            title=title,
            starts_at=_next_weekday_at(zone, 3, 16),  # one Thursday, by video
            duration_minutes=45,
            video_url="https://meet.example.com/office-hours",
            cancel_window_hours=24,
        )
        log(f"office hours for {user.email} in {organization.slug}")
        mentee = (
            enrollments_for_mentor(organization=organization, mentor=mentor).filter(participant__email__gt="").first()
        )
        if mentee is not None and selectors.free_occurrences(organization=organization, mentors=[mentor]):
            services.booking_create(
                organization=organization,
                enrollment=mentee,
                slot_id=weekly.pk,
                starts_at=weekly.starts_at,
                topic="첫 고객 가격 테스트" if organization.language == "ko" else "Testing our first price",
            )
            log(f"office hours booked by {mentee}")
