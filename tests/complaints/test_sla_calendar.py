"""Business-time arithmetic on calendars: overnight, weekend, holiday, time zone, DST change."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from complaints.sla import (
    Calendar,
    add_business_hours,
    add_hours,
    business_hours_between,
    hours_between,
    parse_periods,
)

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
OFFICE = Calendar(time_zone="Europe/London", working_days=(0, 1, 2, 3, 4), working_periods=(("09:00", "17:00"),))


def at(y, m, d, h, minute=0, zone=LONDON):
    return datetime(y, m, d, h, minute, tzinfo=zone)


def test_within_one_working_day():
    # Tuesday 10:00 + 4 h -> Tuesday 14:00
    assert add_business_hours(at(2026, 3, 3, 10), 4, OFFICE) == at(2026, 3, 3, 14)


def test_overnight_carries_to_the_next_morning():
    # Tuesday 15:00 + 4 h: 2 h today, 2 h from 09:00 on Wednesday
    assert add_business_hours(at(2026, 3, 3, 15), 4, OFFICE) == at(2026, 3, 4, 11)


def test_received_at_night_starts_counting_next_morning():
    assert add_business_hours(at(2026, 3, 3, 22), 1, OFFICE) == at(2026, 3, 4, 10)
    assert add_business_hours(at(2026, 3, 4, 6), 1, OFFICE) == at(2026, 3, 4, 10)


def test_weekend_is_skipped():
    # Friday 16:00 + 3 h -> Monday 11:00
    assert add_business_hours(at(2026, 3, 6, 16), 3, OFFICE) == at(2026, 3, 9, 11)
    # received on Saturday: counting starts Monday 09:00
    assert add_business_hours(at(2026, 3, 7, 12), 8, OFFICE) == at(2026, 3, 9, 17)


def test_holiday_is_skipped():
    calendar = Calendar(time_zone="Europe/London", holidays=frozenset({date(2026, 12, 25), date(2026, 12, 28)}))
    # Thursday 24 Dec 16:00 + 2 h: 1 h on Thursday, Friday 25th and Monday 28th are holidays
    assert add_business_hours(at(2026, 12, 24, 16), 2, calendar) == at(2026, 12, 29, 10)


def test_breaks_are_not_working_time():
    calendar = Calendar(time_zone="Europe/London", working_periods=(("09:00", "12:30"), ("13:30", "17:30")))
    assert add_business_hours(at(2026, 3, 3, 11), 2, calendar) == at(2026, 3, 3, 14)
    assert business_hours_between(at(2026, 3, 3, 12), at(2026, 3, 3, 14), calendar) == Decimal("1.00")


def test_exact_end_of_day_is_the_deadline():
    assert add_business_hours(at(2026, 3, 3, 9), 8, OFFICE) == at(2026, 3, 3, 17)


def test_time_zone_of_the_calendar_not_of_the_server():
    calendar = Calendar(time_zone="America/New_York")
    # 15:00 London = 10:00 New York on 3 March 2026 (both on winter time): 7 h left that day
    received = at(2026, 3, 3, 15)
    assert add_business_hours(received, 8, calendar) == datetime(2026, 3, 4, 10, tzinfo=NEW_YORK)


def test_dst_spring_forward_keeps_local_working_hours():
    # Clocks go forward in London on Sunday 29 March 2026. Friday 16:00 GMT + 2 h -> Monday 10:00 BST.
    deadline = add_business_hours(at(2026, 3, 27, 16), 2, OFFICE)
    assert deadline == at(2026, 3, 30, 10)
    assert deadline.astimezone(LONDON).utcoffset() == timedelta(hours=1)  # British Summer Time


def test_dst_change_on_a_24_hour_desk_counts_real_hours():
    desk = Calendar(time_zone="Europe/London", working_days=tuple(range(7)), working_periods=(("00:00", "24:00"),))
    # Autumn: Sunday 25 October 2026 has 25 hours. 24 business hours from Sat 12:00 BST end Sun 11:00 GMT.
    assert add_business_hours(at(2026, 10, 24, 12), 24, desk) == at(2026, 10, 25, 11)
    assert business_hours_between(at(2026, 10, 25, 0), at(2026, 10, 26, 0), desk) == Decimal("25.00")
    # Spring: Sunday 29 March 2026 has 23 hours.
    assert business_hours_between(at(2026, 3, 29, 0), at(2026, 3, 30, 0), desk) == Decimal("23.00")


def test_calendar_hours_ignore_the_calendar():
    assert add_hours(at(2026, 3, 6, 16), 3, None) == at(2026, 3, 6, 19)
    assert add_hours(at(2026, 10, 24, 12), 24, None) == at(2026, 10, 25, 11)  # 24 real hours across the change
    assert hours_between(at(2026, 3, 6, 16), at(2026, 3, 7, 16), None) == Decimal("24.00")


def test_business_hours_between_over_a_weekend():
    assert business_hours_between(at(2026, 3, 6, 15), at(2026, 3, 9, 10), OFFICE) == Decimal("3.00")
    assert business_hours_between(at(2026, 3, 9, 10), at(2026, 3, 6, 15), OFFICE) == Decimal("0")


def test_fractional_hours():
    assert add_business_hours(at(2026, 3, 3, 16, 45), Decimal("0.5"), OFFICE) == at(2026, 3, 4, 9, 15)


@pytest.mark.parametrize(
    "periods",
    [[], [["17:00", "09:00"]], [["09:00", "13:00"], ["12:00", "17:00"]], [["9", "17"]], [["25:00", "26:00"]], "09-17"],
)
def test_bad_working_periods_are_refused(periods):
    with pytest.raises(ValueError):
        parse_periods(periods)


def test_calendar_without_working_days_is_a_clear_error():
    with pytest.raises(ValueError, match="no working time"):
        add_business_hours(at(2026, 3, 3, 9), 1, Calendar(working_days=()))
