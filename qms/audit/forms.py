"""The audit-trail filter, one form for the page, the exports and the API (bad input is a
field error, never a 500)."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from qms.audit.selectors import TrailFilter, record_types

MIN_YEAR, MAX_YEAR = 1900, 2999


class DateOrDateTimeField(forms.CharField):
    """A date (the whole day) or an ISO 8601 date-time with time zone."""

    def __init__(self, **kwargs):
        self.max_text = kwargs.pop("max_length", 40)
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value).strip()
        if not value:
            return None
        if len(value) > self.max_text:
            raise forms.ValidationError(
                "Enter a date (2026-11-23) or an ISO 8601 date-time.", code="invalid"
            )
        try:
            # A bare date means the whole day (parse_datetime would read it as midnight).
            parsed = parse_date(value) if len(value) == 10 else parse_datetime(value)
        except ValueError:
            parsed = None
        if parsed is None:
            raise forms.ValidationError(
                "Enter a date (2026-11-23) or an ISO 8601 date-time.", code="invalid"
            )
        # Far-off years cannot be made aware or moved by a day (OverflowError): nothing is
        # recorded there anyway.
        if not MIN_YEAR <= parsed.year <= MAX_YEAR:
            raise forms.ValidationError(
                f"Enter a date between the years {MIN_YEAR} and {MAX_YEAR}.", code="invalid"
            )
        return parsed


def day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class TrailFilterForm(forms.Form):
    model = forms.ChoiceField(label="Record type", required=False)
    record = forms.CharField(
        label="Record",
        required=False,
        max_length=100,
        help_text="Reference, number, user name or id",
    )
    user = forms.CharField(label="User", required=False, max_length=150)
    action = forms.CharField(label="Action", required=False, max_length=40)
    date_from = DateOrDateTimeField(label="From", required=False, max_length=40)
    date_to = DateOrDateTimeField(label="To", required=False, max_length=40)
    q = forms.CharField(label="Text", required=False, max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = [("", "All record types"), *record_types()]

    def clean(self):
        data = super().clean()
        since, until = data.get("date_from"), data.get("date_to")
        if since and until and _lower(since) >= _upper(until):
            self.add_error("date_to", "The end must come after the start.")
        return data

    def trail_filter(self) -> TrailFilter:
        """The TrailFilter of valid input (call after is_valid())."""
        data = self.cleaned_data
        since, until = data.get("date_from"), data.get("date_to")
        return TrailFilter(
            model=data.get("model") or "",
            record=(data.get("record") or "").strip(),
            user=(data.get("user") or "").strip(),
            action=(data.get("action") or "").strip(),
            since=_lower(since) if since else None,
            until=_upper(until) if until else None,
            text=(data.get("q") or "").strip(),
        )


def _lower(value) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    return day_start(value)


def _upper(value) -> datetime.datetime:
    """Exclusive upper bound: a date means up to the end of that day."""
    if isinstance(value, datetime.datetime):
        value = value if timezone.is_aware(value) else timezone.make_aware(value)
        return value + datetime.timedelta(microseconds=1)
    return day_start(value + datetime.timedelta(days=1))
