"""Business-time arithmetic for SLA deadlines: pure functions over a calendar, no queries.

A calendar is a time zone, working weekdays and the working periods of a day in local wall-clock
time. Periods are turned into absolute (UTC) instants day by day, so a daylight-saving change
keeps the local working hours (09:00-17:00 stays 09:00-17:00 local) and a 24-hour desk gets
23 or 25 hours on the changeover day, as the clock on the wall says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cached_property
from zoneinfo import ZoneInfo

MAX_DAYS = 3 * 366  # a deadline further out than this is a configuration error


def parse_time(text: str) -> tuple[time, int]:
    """'09:30' -> (09:30, 0); '24:00' -> (00:00, 1 day later)."""
    if not isinstance(text, str) or len(text) != 5 or text[2] != ":":
        raise ValueError(f"{text!r} is not a time like 09:00")
    hours, minutes = text.split(":")
    if not (hours.isdigit() and minutes.isdigit()):
        raise ValueError(f"{text!r} is not a time like 09:00")
    h, m = int(hours), int(minutes)
    if (h, m) == (24, 0):
        return time(0, 0), 1
    if not (0 <= h < 24 and 0 <= m < 60):
        raise ValueError(f"{text!r} is not a time like 09:00")
    return time(h, m), 0


def parse_periods(periods) -> list[tuple[tuple[time, int], tuple[time, int]]]:
    """[["09:00", "12:30"], ["13:30", "17:30"]] -> ordered, non-overlapping periods."""
    if not isinstance(periods, list) or not periods:
        raise ValueError("Give at least one working period, e.g. [[\"09:00\", \"17:00\"]].")
    parsed = []
    last_end = (-1, 0)
    for period in periods:
        if not isinstance(period, list | tuple) or len(period) != 2:
            raise ValueError("Each working period is a pair of times, e.g. [\"09:00\", \"17:00\"].")
        start, end = parse_time(period[0]), parse_time(period[1])
        start_key, end_key = (start[1], start[0]), (end[1], end[0])
        if start[1] or end_key <= start_key:
            raise ValueError(f"The period {period[0]}-{period[1]} must end after it starts, within the day.")
        if start_key < last_end:
            raise ValueError("Working periods must be in order and must not overlap.")
        last_end = end_key
        parsed.append((start, end))
    return parsed


@dataclass(frozen=True)
class Calendar:
    time_zone: str = "UTC"
    working_days: tuple[int, ...] = (0, 1, 2, 3, 4)
    working_periods: tuple = (("09:00", "17:00"),)
    holidays: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def from_model(cls, calendar, holidays=None) -> Calendar:
        if holidays is None:
            holidays = [h.date for h in calendar.holidays.all()]
        return cls(
            time_zone=calendar.time_zone,
            working_days=tuple(calendar.working_days),
            working_periods=tuple(tuple(p) for p in calendar.working_periods),
            holidays=frozenset(holidays),
        )

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @cached_property
    def parsed_periods(self):
        return parse_periods([list(p) for p in self.working_periods])

    def periods_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working periods of a local date as UTC instants (empty on days off)."""
        if day.weekday() not in self.working_days or day in self.holidays:
            return []
        zone = self.zone
        result = []
        for (start, start_shift), (end, end_shift) in self.parsed_periods:
            begin = datetime.combine(day + timedelta(days=start_shift), start, tzinfo=zone).astimezone(UTC)
            finish = datetime.combine(day + timedelta(days=end_shift), end, tzinfo=zone).astimezone(UTC)
            if finish > begin:
                result.append((begin, finish))
        return result


def _hours(value) -> timedelta:
    return timedelta(hours=float(value))


def add_business_hours(start: datetime, hours, calendar: Calendar) -> datetime:
    """The instant when `hours` of working time have passed after `start`."""
    remaining = _hours(hours)
    current = start.astimezone(UTC)
    if remaining <= timedelta(0):
        return current
    day = current.astimezone(calendar.zone).date() - timedelta(days=1)  # a period may start the day before
    for _ in range(MAX_DAYS):
        for begin, finish in calendar.periods_on(day):
            if finish <= current:
                continue
            segment_start = max(begin, current)
            available = finish - segment_start
            if remaining <= available:
                return segment_start + remaining
            remaining -= available
            current = finish
        day += timedelta(days=1)
    raise ValueError("The calendar has no working time within three years; check its working days.")


def business_hours_between(start: datetime, end: datetime, calendar: Calendar) -> Decimal:
    """Working hours between two instants (0 when end is not after start)."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        return Decimal("0")
    total = timedelta(0)
    day = start.astimezone(calendar.zone).date() - timedelta(days=1)
    last = end.astimezone(calendar.zone).date()
    while day <= last:
        for begin, finish in calendar.periods_on(day):
            overlap = min(finish, end) - max(begin, start)
            if overlap > timedelta(0):
                total += overlap
        day += timedelta(days=1)
    return (Decimal(total.total_seconds()) / Decimal(3600)).quantize(Decimal("0.01"))


def add_hours(start: datetime, hours, calendar: Calendar | None) -> datetime:
    """Business hours on `calendar`, or plain elapsed hours when it is None."""
    if calendar is None:
        return start.astimezone(UTC) + _hours(hours)
    return add_business_hours(start, hours, calendar)


def hours_between(start: datetime, end: datetime, calendar: Calendar | None) -> Decimal:
    if calendar is None:
        seconds = max((end - start).total_seconds(), 0)
        return (Decimal(seconds) / Decimal(3600)).quantize(Decimal("0.01"))
    return business_hours_between(start, end, calendar)


@dataclass(frozen=True)
class Terms:
    """The SLA terms a complaint was given when it was received (or when its severity changed):
    a copy of its policy's targets and escalation steps at that moment, stored on the complaint
    (`Complaint.sla_terms`), so a later policy edit applies to new complaints only."""

    first_response_hours: Decimal
    resolution_hours: Decimal
    counts_business_time: bool
    calendar_id: int | None
    calendar_name: str = ""
    escalation_steps: tuple = ()
    policy_id: int | None = None
    policy_version: int | None = None
    severity: str = ""

    @classmethod
    def from_policy(cls, policy) -> Terms:
        return cls(
            first_response_hours=Decimal(policy.first_response_hours),
            resolution_hours=Decimal(policy.resolution_hours),
            counts_business_time=bool(policy.counts_business_time),
            calendar_id=policy.calendar_id,
            calendar_name=policy.calendar.name if policy.calendar_id else "",
            escalation_steps=tuple(dict(step) for step in policy.escalation_steps or ()),
            policy_id=policy.pk,
            policy_version=getattr(policy, "version", None),
            severity=policy.severity,
        )

    @classmethod
    def from_json(cls, data: dict) -> Terms:
        return cls(
            first_response_hours=Decimal(str(data["first_response_hours"])),
            resolution_hours=Decimal(str(data["resolution_hours"])),
            counts_business_time=bool(data.get("counts_business_time", False)),
            calendar_id=data.get("calendar_id"),
            calendar_name=data.get("calendar_name", ""),
            escalation_steps=tuple(dict(step) for step in data.get("escalation_steps", ())),
            policy_id=data.get("policy_id"),
            policy_version=data.get("policy_version"),
            severity=data.get("severity", ""),
        )

    def to_json(self) -> dict:
        return {
            "policy_id": self.policy_id,
            "policy_version": self.policy_version,
            "severity": self.severity,
            "first_response_hours": str(self.first_response_hours),
            "resolution_hours": str(self.resolution_hours),
            "counts_business_time": self.counts_business_time,
            "calendar_id": self.calendar_id,
            "calendar_name": self.calendar_name,
            "escalation_steps": [dict(step) for step in self.escalation_steps],
        }
