"""Local wall-clock times typed into forms, resolved to instants.

A `datetime-local` input sends a wall-clock time without its UTC offset. Twice a year that is
not enough: when the clocks go back (Europe/London, last Sunday of October) 01:00-01:59 happens
twice, and Django's DateTimeField refuses such a time as "ambiguous", so a complaint received at
01:30 that night could not be logged at all. When the clocks go forward, 01:00-01:59 does not
exist, and a clear error is the right answer.

An ambiguous time is taken as the later of its two instants unless that one is still in the
future, then as the earlier: the forms that use it record what already happened (when a
complaint was received, when the customer was called), so the latest instant that has already
happened is the one meant. Found by the suite's clock runs (scripts/test_moments.sh).
"""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone


def is_imaginary(value: datetime.datetime, zone) -> bool:
    """True for a wall-clock time skipped when the clocks go forward."""
    aware = value.replace(tzinfo=zone)
    return aware.astimezone(datetime.UTC).astimezone(zone).replace(tzinfo=None) != value


def is_ambiguous(value: datetime.datetime, zone) -> bool:
    return (
        value.replace(tzinfo=zone, fold=0).utcoffset()
        != value.replace(tzinfo=zone, fold=1).utcoffset()
    )


def resolve_local(
    value: datetime.datetime, zone=None, *, now: datetime.datetime | None = None
) -> datetime.datetime:
    """The instant of a naive wall-clock time in `zone` (default: the current time zone).
    Raises ValueError for a time that does not exist there."""
    # The answer is in UTC: Python compares two datetimes of the same zone by their wall-clock
    # fields, ignoring `fold`, so the two 01:30s of 25 October would compare equal.
    zone = zone or timezone.get_current_timezone()
    if is_imaginary(value, zone):
        raise ValueError(
            f"{value:%d %b %Y %H:%M} does not exist in {zone}: the clocks went forward."
        )
    if not is_ambiguous(value, zone):
        return value.replace(tzinfo=zone).astimezone(datetime.UTC)
    later = value.replace(tzinfo=zone, fold=1).astimezone(datetime.UTC)
    if later <= (now or timezone.now()):
        return later
    return value.replace(tzinfo=zone, fold=0).astimezone(datetime.UTC)


class LocalDateTimeField(forms.DateTimeField):
    """A DateTimeField for wall-clock input that accepts the repeated hour of the autumn clock
    change (see the module docstring) and names the missing hour of the spring one."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime.datetime) and timezone.is_aware(value):
            return value
        with timezone.override(datetime.UTC):
            # Parse the text as a wall-clock time (UTC has no ambiguous hours), then resolve it
            # in the real time zone below.
            parsed = super().to_python(value)
        naive = timezone.make_naive(parsed, datetime.UTC)
        try:
            return resolve_local(naive)
        except ValueError as error:
            raise forms.ValidationError(str(error), code="invalid") from None


def keep_unchanged(value: datetime.datetime | None, stored: datetime.datetime | None):
    """`stored` when `value` is `stored` as the form showed it (to the second, or to the minute
    for an input that sends no seconds), else `value`. A form must never change a value the
    user did not change (issue 15): a datetime input shows no microseconds, and some send no
    seconds, so saving a form unchanged would otherwise rewrite 12:41:39.250 as 12:41:39 or
    12:41:00 and record it as the user's change."""
    if value is None or stored is None:
        return value
    shown = stored.astimezone(datetime.UTC).replace(microsecond=0)
    if value.second == 0 and value.microsecond == 0:
        shown = shown.replace(second=0)
    return stored if value == shown else value
