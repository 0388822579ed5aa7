"""Deadlines stored on complaints, counted on the policy's business calendar."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from complaints import services
from complaints.models import BusinessCalendar, Holiday
from tests.complaints.conftest import ensure_policies

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


@pytest.fixture(autouse=True)
def _in_the_week_after_the_examples():
    """The examples are complaints received in November 2026; a complaint cannot be received in
    the future, so the clock stands in the week after them, whatever day the suite runs on."""
    with time_machine.travel(datetime(2026, 11, 27, 12, 0, tzinfo=LONDON), tick=True):
        yield


@pytest.fixture
def business(policies):
    return ensure_policies(business=True, first_response_hours="4", resolution_hours="16")


def test_deadlines_skip_the_weekend_and_holidays(business, make_complaint):
    friday = datetime(2026, 11, 20, 16, 0, tzinfo=LONDON)
    complaint = make_complaint(received_at=friday)
    assert complaint.first_response_due == datetime(2026, 11, 23, 12, 0, tzinfo=LONDON)  # 1 h Fri + 3 h Mon
    assert complaint.resolution_due == datetime(2026, 11, 24, 16, 0, tzinfo=LONDON)  # 1 h Fri + 8 h Mon + 7 h Tue
    Holiday.objects.create(calendar=business, date=date(2026, 11, 23), name="Company day")
    later = make_complaint(received_at=friday)
    assert later.first_response_due == datetime(2026, 11, 24, 12, 0, tzinfo=LONDON)


def test_calendar_in_another_time_zone(make_complaint, business):
    BusinessCalendar.objects.filter(pk=business.pk).update(time_zone="America/New_York")
    received = datetime(2026, 11, 20, 12, 0, tzinfo=LONDON)  # 07:00 in New York, before opening
    complaint = make_complaint(received_at=received)
    assert complaint.first_response_due == datetime(2026, 11, 20, 13, 0, tzinfo=ZoneInfo("America/New_York"))


def test_pause_over_a_weekend_counts_only_working_hours(business, make_complaint, staff):
    complaint = make_complaint(received_at=datetime(2026, 11, 16, 9, 0, tzinfo=LONDON))  # a Monday
    complaint.sla_paused_at = datetime(2026, 11, 20, 16, 0, tzinfo=LONDON)  # Friday 16:00
    fields = set()
    services.end_pause(complaint, fields=fields, now=datetime(2026, 11, 23, 10, 0, tzinfo=LONDON))  # Monday 10:00
    assert complaint.sla_paused_hours == Decimal("2.00")
    assert complaint.sla_paused_at is None
    assert complaint.resolution_due == datetime(2026, 11, 18, 11, 0, tzinfo=LONDON)  # 16 + 2 business hours from Mon 09:00
    assert {"sla_paused_hours", "sla_paused_at", "resolution_due"} <= fields


def test_escalation_thresholds_follow_the_calendar(business, make_complaint):
    complaint = make_complaint(received_at=datetime(2026, 11, 20, 16, 0, tzinfo=LONDON))
    steps = {(kind, level): due for kind, level, _p, _n, due in services.escalation_thresholds(complaint)}
    assert steps[("first_response", 1)] == datetime(2026, 11, 23, 11, 0, tzinfo=LONDON)  # 75% of 4 h = 3 h
    assert steps[("first_response", 3)] == datetime(2026, 11, 23, 14, 0, tzinfo=LONDON)  # 150% = 6 h
    assert complaint.next_escalation_at <= min(steps.values()) + timedelta(seconds=1)


def test_escalation_steps_are_validated():
    from qms.errors import ValidationFailed

    for bad in ("x", [{"level": 1}], [{"level": 1, "percent": 50, "notify": ["the pope"]}],
                [{"level": 1, "percent": 50, "notify": ["assignee"]}, {"level": 1, "percent": 90, "notify": ["assignee"]}]):
        with pytest.raises(ValidationFailed):
            services.validate_escalation_steps(bad)
    services.validate_escalation_steps([{"level": 1, "percent": 75, "notify": ["assignee", "head_of_quality"]}])


def test_admin_is_read_only_for_auditors(client_for, auditor, complaint):
    client = client_for(auditor)
    page = client.get("/admin/complaints/complaint/")
    assert page.status_code == 200
    assert b"addlink" not in page.content
    detail = client.get(f"/admin/complaints/complaint/{complaint.pk}/change/")
    assert detail.status_code == 200 and b'name="_save"' not in detail.content
    assert client.post(f"/admin/complaints/complaint/{complaint.pk}/change/", {"title": "x"}).status_code == 403
