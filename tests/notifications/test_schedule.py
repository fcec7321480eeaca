"""Local send times with zoneinfo: Seoul (no daylight saving), London and New York (with)."""

import datetime
import zoneinfo

import pytest

from notifications.schedule import SendingRules, iso_week_slot

UTC = datetime.UTC


def rules(zone="Asia/Seoul", country="KR", send_hour=9, quiet=(21, 8), days=(1, 2, 3, 4, 5), holidays=True):
    return SendingRules(
        zone=zoneinfo.ZoneInfo(zone),
        country=country,
        send_hour=send_hour,
        quiet_hours_start=quiet[0],
        quiet_hours_end=quiet[1],
        working_days=tuple(days),
        skip_public_holidays=holidays,
    )


def test_seoul_sends_at_nine_local_which_is_midnight_utc():
    assert rules().send_moment(datetime.date(2026, 3, 10)) == datetime.datetime(2026, 3, 10, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "country", "before", "after", "utc_before", "utc_after"),
    [
        # Europe/London springs forward on Sunday 29 March 2026.
        ("Europe/London", "GB", datetime.date(2026, 3, 27), datetime.date(2026, 3, 30), 9, 8),
        # America/New_York springs forward on Sunday 8 March 2026 ...
        ("America/New_York", "US", datetime.date(2026, 3, 6), datetime.date(2026, 3, 9), 14, 13),
        # ... and falls back on Sunday 1 November 2026.
        ("America/New_York", "US", datetime.date(2026, 10, 30), datetime.date(2026, 11, 2), 13, 14),
    ],
)
def test_nine_oclock_stays_nine_oclock_across_daylight_saving(zone, country, before, after, utc_before, utc_after):
    sending = rules(zone=zone, country=country)
    first, second = sending.send_moment(before), sending.send_moment(after)
    assert (first.hour, second.hour) == (utc_before, utc_after)
    assert sending.local(first).hour == sending.local(second).hour == 9


def test_a_send_hour_inside_the_spring_forward_gap_comes_out_an_hour_later():
    sending = rules(zone="America/New_York", country="US", send_hour=2, quiet=(0, 0), days=range(1, 8))
    moment = sending.send_moment(datetime.date(2026, 3, 8))  # 02:00 does not exist that night
    assert sending.local(moment).hour == 3


def test_quiet_hours_wrap_midnight_in_local_time_on_both_sides_of_a_change():
    sending = rules(zone="Europe/London", country="GB", days=range(1, 8), holidays=False)
    for day in (datetime.date(2026, 3, 28), datetime.date(2026, 3, 30)):
        late = datetime.datetime.combine(day, datetime.time(21, 30), tzinfo=sending.zone)
        morning = datetime.datetime.combine(day, datetime.time(8, 0), tzinfo=sending.zone)
        assert not sending.is_allowed(late)
        assert sending.is_allowed(morning)
        assert sending.local(sending.next_allowed_moment(late)).time() == datetime.time(8, 0)


def test_next_allowed_moment_skips_the_weekend_and_korean_holidays():
    sending = rules()
    friday_night = datetime.datetime(2026, 2, 13, 22, 0, tzinfo=sending.zone)
    # Monday 16 to Wednesday 18 February 2026 are 설날 holidays.
    expected = datetime.datetime(2026, 2, 19, 8, 0, tzinfo=sending.zone)
    assert sending.next_allowed_moment(friday_night) == expected


def test_next_allowed_moment_handles_half_hour_offsets():
    sending = rules(zone="Asia/Kolkata", country="IN", days=range(1, 8), holidays=False)
    night = datetime.datetime(2026, 3, 10, 23, 10, tzinfo=sending.zone)
    assert sending.local(sending.next_allowed_moment(night)) == datetime.datetime(
        2026, 3, 11, 8, 0, tzinfo=sending.zone
    )


def test_the_daily_window_opens_at_the_send_hour_and_closes_with_quiet_hours():
    sending = rules()
    on = datetime.date(2026, 3, 10)
    at = lambda hour: datetime.datetime.combine(on, datetime.time(hour), tzinfo=sending.zone)  # noqa: E731
    assert not sending.daily_window_is_open(at(8))
    assert sending.daily_window_is_open(at(9))
    assert sending.daily_window_is_open(at(20))
    assert not sending.daily_window_is_open(at(21))


def test_no_quiet_hours_when_start_equals_end():
    sending = rules(quiet=(0, 0))
    assert all(not sending.is_quiet_hour(hour) for hour in range(24))


def test_last_send_day_on_or_before_walks_back_over_weekend_and_holidays():
    sending = rules()
    assert sending.last_send_day_on_or_before(datetime.date(2026, 3, 1)) == datetime.date(2026, 2, 27)
    assert sending.last_send_day_on_or_before(datetime.date(2026, 2, 18)) == datetime.date(2026, 2, 13)


def test_iso_week_slot_at_a_year_boundary():
    assert iso_week_slot(datetime.date(2027, 1, 1)) == "week:2026-W53"
    assert iso_week_slot(datetime.date(2026, 3, 10)) == "week:2026-W11"
