"""Wall-clock times typed into forms across the Europe/London clock changes (qms.datetimes)."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from qms.datetimes import LocalDateTimeField, resolve_local

LONDON = ZoneInfo("Europe/London")
UTC = datetime.UTC


def test_an_ordinary_time_is_the_one_instant_it_names():
    assert resolve_local(datetime.datetime(2026, 7, 1, 9, 30), LONDON) == datetime.datetime(
        2026, 7, 1, 8, 30, tzinfo=UTC
    )


def test_the_repeated_hour_is_the_latest_instant_that_has_happened():
    typed = datetime.datetime(2026, 10, 25, 1, 30)
    # 00:40 UTC is 01:40 BST: 01:30 GMT (01:30 UTC) has not happened yet, 01:30 BST has.
    first = resolve_local(typed, LONDON, now=datetime.datetime(2026, 10, 25, 0, 40, tzinfo=UTC))
    assert first == datetime.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    # An hour later both have happened: the later one is meant.
    second = resolve_local(typed, LONDON, now=datetime.datetime(2026, 10, 25, 1, 40, tzinfo=UTC))
    assert second == datetime.datetime(2026, 10, 25, 1, 30, tzinfo=UTC)


def test_a_time_in_the_spring_gap_is_refused_with_a_reason():
    with pytest.raises(ValueError, match="does not exist"):
        resolve_local(datetime.datetime(2026, 3, 29, 1, 30), LONDON)


@pytest.mark.parametrize(
    ("now", "typed", "expected"),
    [
        (
            datetime.datetime(2026, 10, 25, 0, 35, tzinfo=UTC),
            "2026-10-25T01:30",
            datetime.datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        ),
        (
            datetime.datetime(2026, 10, 25, 1, 35, tzinfo=UTC),
            "2026-10-25T01:30",
            datetime.datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
        ),
        (
            datetime.datetime(2026, 3, 29, 2, 35, tzinfo=UTC),
            "2026-03-29T03:30",
            datetime.datetime(2026, 3, 29, 2, 30, tzinfo=UTC),
        ),
    ],
)
def test_the_form_field_reads_wall_clock_times_across_the_clock_changes(
    settings, now, typed, expected
):
    settings.TIME_ZONE = "Europe/London"
    with time_machine.travel(now, tick=False):
        assert LocalDateTimeField().clean(typed) == expected


def test_the_form_field_names_the_missing_hour(settings):
    settings.TIME_ZONE = "Europe/London"
    from django import forms

    with pytest.raises(forms.ValidationError, match="clocks went forward"):
        LocalDateTimeField().clean("2026-03-29T01:30")
    with pytest.raises(forms.ValidationError):
        LocalDateTimeField().clean("not a time")
    assert LocalDateTimeField(required=False).clean("") is None


@pytest.mark.django_db
def test_a_complaint_received_in_the_repeated_hour_can_be_logged(client_for, manager, settings):
    """On main the complaint form refused 01:30 on 25 Oct 2026 as 'ambiguous': nothing could be
    logged during the repeated hour."""
    from complaints.models import Complaint, Customer
    from tests.complaints.conftest import ensure_policies

    ensure_policies()
    customer = Customer.objects.create(name="Night shift clinic")
    with time_machine.travel(datetime.datetime(2026, 10, 25, 1, 40, tzinfo=UTC), tick=False):
        response = client_for(manager).post(
            "/complaints/new/",
            {
                "title": "Alarm at night",
                "description": "Silent alarm.",
                "customer": customer.pk,
                "channel": "phone",
                "severity": "medium",
                "received_at": "2026-10-25T01:30",
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    complaint = Complaint.objects.get(title="Alarm at night")
    assert complaint.received_at == datetime.datetime(2026, 10, 25, 1, 30, tzinfo=UTC)


def test_a_time_saved_as_the_form_showed_it_keeps_its_stored_value():
    """Issue 15: a datetime input shows no microseconds (and some send no seconds), so a form
    saved unchanged must keep the stored instant, while a real change is still a change."""
    import datetime as dt

    from qms.datetimes import keep_unchanged

    stored = dt.datetime(2026, 3, 4, 12, 41, 39, 250_000, tzinfo=dt.UTC)
    in_london = dt.datetime(2026, 3, 4, 12, 41, 39, tzinfo=dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=1)))
    assert keep_unchanged(dt.datetime(2026, 3, 4, 12, 41, 39, tzinfo=dt.UTC), stored) is stored
    assert keep_unchanged(in_london, stored) is stored  # the same instant in another zone
    assert keep_unchanged(dt.datetime(2026, 3, 4, 12, 41, tzinfo=dt.UTC), stored) is stored  # no seconds sent
    for changed in (
        dt.datetime(2026, 3, 4, 12, 41, 40, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 4, 12, 42, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 4, 11, 41, 39, tzinfo=dt.UTC),
    ):
        assert keep_unchanged(changed, stored) == changed
    assert keep_unchanged(None, stored) is None
    new = dt.datetime(2026, 3, 4, 12, 41, tzinfo=dt.UTC)
    assert keep_unchanged(new, None) is new
