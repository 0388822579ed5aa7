"""Every KPI on hand-made data with answers computed by hand (and empty periods: no data, no
division by zero)."""

import datetime

import pytest
from django.utils import timezone

from metrics.kpis import (
    KPI_BY_CODE,
    KPIS,
    KpiFilters,
    Period,
    compute_kpis,
    compute_kpis_for,
    format_value,
    is_breached,
)
from qms.models import Department
from tests.conftest import make_user
from tests.metrics.conftest import at, days_ago

H = datetime.timedelta(hours=1)
D = datetime.timedelta(days=1)

pytestmark = pytest.mark.django_db


def test_an_empty_period_has_no_data_and_no_division_by_zero():
    values = compute_kpis(Period(days_ago(30), days_ago(1)))
    assert set(values) == {k.code for k in KPIS}
    counts = {"complaint_volume", "open_complaints", "overdue_complaints", "survey_responses", "open_capas",
              "overdue_training", "documents_overdue_review"}
    for code, value in values.items():
        if code in counts:
            assert value.value == 0, code
        else:
            assert value.value is None, code
            assert format_value(KPI_BY_CODE[code], value.value) == "no data"


@pytest.fixture
def complaints(build):
    """The worked example of the module docstring: period P = [d0, d0 + 9]."""
    d0 = days_ago(40)
    b = build
    start = at(d0, 9)
    c = {}
    c[1] = b.complaint(received_at=start, acknowledged_at=start + 2 * H, resolved_at=start + 10 * H, status="resolved",
                       first_response_due=start + 4 * H, resolution_due=start + 24 * H)
    s2 = at(d0 + D, 9)
    c[2] = b.complaint(received_at=s2, acknowledged_at=s2 + 6 * H, resolved_at=s2 + 30 * H, status="closed", is_recurring=True,
                       first_response_due=s2 + 4 * H, resolution_due=s2 + 24 * H)
    s3 = at(d0 + 2 * D, 9)
    c[3] = b.complaint(received_at=s3, acknowledged_at=s3 + 4 * H, status="investigating", severity="high",
                       first_response_due=s3 + 4 * H, resolution_due=s3 + 24 * H)
    s4 = at(d0 + 3 * D, 9)
    c[4] = b.complaint(received_at=s4, status="new", first_response_due=s4 + 4 * H, resolution_due=s4 + 24 * H)
    s5 = at(d0 - 5 * D, 9)
    c[5] = b.complaint(received_at=s5, acknowledged_at=s5 + H, resolved_at=s5 + 144 * H, status="resolved",
                       first_response_due=s5 + 4 * H, resolution_due=s5 + 24 * H)
    s6 = at(d0 + 4 * D, 9)
    c[6] = b.complaint(received_at=s6, status="rejected", product=b.other_product, category=b.other_category,
                       first_response_due=s6 + 4 * H, resolution_due=s6 + 24 * H)
    c[7] = b.complaint(received_at=at(d0 + 15 * D, 9), status="new")
    return Period(d0, d0 + 9 * D), c


def test_complaint_kpis_on_the_worked_example(complaints):
    period, _c = complaints
    v = {code: value.value for code, value in compute_kpis(period).items()}
    assert v["complaint_volume"] == 5  # c1, c2, c3, c4 and the rejected c6
    assert v["complaint_recurrence_rate"] == 20.0  # c2 of 5
    assert v["open_complaints"] == 2  # c3 and c4 at the end of the period
    assert v["overdue_complaints"] == 2
    # Acknowledged in the period: 2 h, 6 h, 4 h (c5 was acknowledged before it).
    assert v["first_response_hours_median"] == 4.0
    assert v["first_response_hours_p90"] == pytest.approx(5.6)  # 4 + 0.8 * (6 - 4)
    # Resolved in the period: 10 h, 30 h and c5's 144 h.
    assert v["resolution_hours_median"] == 30.0
    assert v["resolution_hours_p90"] == pytest.approx(121.2)  # 30 + 0.8 * (144 - 30)
    # First-response deadlines in the period: c1 on time, c2 late, c3 exactly on time, c4 never.
    assert v["sla_first_response_rate"] == 50.0
    # Resolution deadlines in the period: c1 on time; c2 late; c3 and c4 unresolved past due.
    assert v["sla_resolution_rate"] == 25.0


def test_complaint_filters_by_product_category_and_severity(complaints, build):
    period, _c = complaints
    other = compute_kpis(period, KpiFilters(product=build.other_product.pk))
    assert other["complaint_volume"].value == 1
    assert other["open_complaints"].value == 0
    assert other["sla_first_response_rate"].value is None  # its only complaint was rejected
    assert compute_kpis(period, KpiFilters(category=build.category.pk))["complaint_volume"].value == 4
    high = compute_kpis(period, KpiFilters(severity="high"))
    assert high["complaint_volume"].value == 1
    assert high["first_response_hours_median"].value == 4.0


def test_a_paused_complaint_is_not_counted_late_until_it_resumes(build):
    day = days_ago(20)
    start = at(day, 9)
    build.complaint(received_at=start, acknowledged_at=start + H, status="awaiting_customer", sla_paused_at=start + 2 * H,
                    first_response_due=start + 4 * H, resolution_due=start + 24 * H)
    values = compute_kpis(Period(day, day + 5 * D))
    assert values["sla_resolution_rate"].value is None
    assert values["overdue_complaints"].value == 0
    assert values["open_complaints"].value == 1


def test_survey_kpis(build):
    day = days_ago(10)
    complaint = build.complaint(received_at=at(day - 5 * D))
    for csat, ces, nps in ((5, 2, 10), (4, 3, 9), (3, 4, 7), (1, 7, 3)):
        build.survey(complaint, answered_at=at(day), csat=csat, ces=ces, nps=nps)
    build.survey(complaint, answered_at=at(day - 30 * D), csat=1, ces=7, nps=0)  # outside the period
    v = compute_kpis(Period(day, day))
    assert v["survey_responses"].value == 4
    assert v["csat"].value == 50.0  # 5 and 4 of four answers
    assert v["csat_mean"].value == 3.25
    assert v["nps"].value == 25.0  # 2 promoters - 1 detractor, of 4
    assert v["ces"].value == 4.0
    assert format_value(KPI_BY_CODE["nps"], 25.0) == "+25"
    assert compute_kpis(Period(day, day), KpiFilters(product=build.other_product.pk))["csat"].value is None


def test_complaint_rate_per_thousand_units_of_the_months_touched(build):
    first = (timezone.localdate().replace(day=1) - D).replace(day=1)  # last month
    last = (first + 32 * D).replace(day=1) - D
    for day in (first, first + 3 * D, last):
        build.complaint(received_at=at(day, 10))
    build.complaint(received_at=at(first + D, 10), product=build.other_product)  # no units recorded for it
    build.shipped(month=first, units=1500)
    v = compute_kpis(Period(first, last))
    assert v["complaint_rate"].value == 2.0  # 3 complaints / 1,500 units x 1,000
    assert v["complaint_rate"].numerator == 3
    assert v["complaint_volume"].value == 4
    assert compute_kpis(Period(first, last), KpiFilters(product=build.other_product.pk))["complaint_rate"].value is None


def test_capa_kpis(build):
    start, end = days_ago(30), days_ago(1)
    period = Period(start, end)
    end_at = period.end_at.astimezone(datetime.UTC)  # exact elapsed days across a DST change
    on_time = build.capa(created_at=at(start - 20 * D), due_date=end, status="closed", closed_at=at(start + 2 * D))
    build.capa(created_at=at(start - 20 * D), due_date=start, status="closed", closed_at=at(start + 5 * D))  # late
    aged = build.capa(created_at=end_at - 45 * D, due_date=end + 30 * D)
    build.capa(created_at=at(start), due_date=end, status="cancelled")
    build.capa(created_at=end_at + D, due_date=end + 30 * D)  # after the period
    build.check(on_time, result="effective", verified_at=at(start + D))
    build.check(on_time, result="effective", verified_at=at(start + 2 * D))
    build.check(aged, result="not_effective", verified_at=at(start + 3 * D))
    build.check(aged, result="pending", verified_at=None)
    v = compute_kpis(period)
    assert v["capa_on_time_rate"].value == 50.0
    assert v["open_capas"].value == 1
    assert v["capa_mean_age_days"].value == pytest.approx(45.0)
    assert v["capa_effectiveness_rate"].value == pytest.approx(66.6667, abs=1e-3)
    assert dict(v["open_capas"].extra["ageing"]) == {"0–30 days": 0, "31–60 days": 1, "61–90 days": 0, "over 90 days": 0}


def test_training_and_document_kpis_with_department_filter(build):
    quality, production = Department.objects.create(name="Quality"), Department.objects.create(name="Production")
    alice = make_user("alice", department=quality)
    bob = make_user("bob", department=production)
    doc = build.document(next_review_due=days_ago(3), department=quality)
    build.document(next_review_due=days_ago(-30), department=quality)
    start, end = days_ago(30), days_ago(1)
    period = Period(start, end)
    docs = [build.document() for _ in range(5)]
    build.assignment(user=alice, document=doc, assigned_at=at(start), due_date=end, status="completed", completed_at=at(start + D))
    build.assignment(user=alice, document=docs[0], assigned_at=at(start), due_date=end + 10 * D)  # not yet due
    build.assignment(user=alice, document=docs[1], assigned_at=at(start), due_date=start + 5 * D)  # overdue
    build.assignment(user=alice, document=docs[2], assigned_at=at(start), due_date=end, status="superseded", closed_at=at(start + D))
    build.assignment(user=alice, document=docs[3], assigned_at=at(start), due_date=end, status="waived", closed_at=at(start + D))
    build.assignment(user=bob, document=docs[4], assigned_at=at(end + 2 * D), due_date=end + 30 * D)  # after the period
    build.assignment(user=bob, document=doc, assigned_at=at(start), due_date=end, status="completed", completed_at=at(start + 2 * D))
    v = compute_kpis(period)
    assert v["training_compliance_rate"].value == 50.0  # 2 completed of 4 in force
    assert v["overdue_training"].value == 1
    q = compute_kpis(period, KpiFilters(department=quality.pk))
    assert q["training_compliance_rate"].value == pytest.approx(33.3333, abs=1e-3)
    assert compute_kpis(period, KpiFilters(department=production.pk))["training_compliance_rate"].value == 100.0
    # Documents: one effective document's review date passed before the end of the period.
    assert v["documents_overdue_review"].value == 1
    assert q["documents_overdue_review"].value == 1
    assert compute_kpis(period, KpiFilters(department=production.pk))["documents_overdue_review"].value == 0


def test_breach_direction_and_no_data():
    csat, overdue = KPI_BY_CODE["csat"], KPI_BY_CODE["overdue_complaints"]
    assert is_breached(csat, 79.9, 80) and not is_breached(csat, 80, 80)
    assert is_breached(overdue, 6, 5) and not is_breached(overdue, 5, 5)
    assert not is_breached(csat, None, 80)


def test_period_helpers():
    period = Period(datetime.date(2026, 3, 1), datetime.date(2026, 3, 31))
    assert period.days == 31
    assert period.previous() == Period(datetime.date(2026, 1, 29), datetime.date(2026, 2, 28))
    # Local midnights across the daylight-saving change (Europe/London, 29 March 2026).
    day = Period.day(datetime.date(2026, 3, 29))
    assert day.end_at.astimezone(datetime.UTC) - day.start_at.astimezone(datetime.UTC) == datetime.timedelta(hours=23)


def test_the_readme_defines_every_kpi():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for kpi in KPIS:
        assert f"| `{kpi.code}`" in readme and kpi.help in readme, f"README.md lacks the definition of {kpi.code}"


def test_several_periods_in_one_statement_give_the_same_values_as_one_at_a_time(complaints, django_assert_num_queries):
    """The dashboard computes its period and the one before it together (FILTER per period)."""
    period, _c = complaints
    periods = [period, period.previous(), Period(period.start - 30 * D, period.end + 30 * D), Period.last_days(7)]
    alone = [compute_kpis(p) for p in periods]
    with django_assert_num_queries(1):
        together = compute_kpis_for(periods)
    for one, other in zip(alone, together, strict=True):
        assert {code: v.value for code, v in one.items()} == {code: v.value for code, v in other.items()}


def test_the_horizon_never_drops_a_complaint_a_kpi_counts(complaints, build):
    """The KPI query reads only complaints whose latest event or deadline is in or after the
    period (or that are unresolved); every other complaint counts for no KPI of the period."""
    from complaints.models import Complaint
    from metrics.batch import one_row
    from metrics.kpis import _complaint_expressions, _for_each, complaint_aggregates

    period, _c = complaints
    old = at(period.start - 400 * D, 9)
    # Received long before the period: resolved in it; still open; acknowledged in it; due in it;
    # rejected long ago (counts nowhere); closed long ago (counts nowhere).
    build.complaint(received_at=old, acknowledged_at=old + H, resolved_at=at(period.start + 2 * D), status="resolved")
    build.complaint(received_at=old, status="investigating", acknowledged_at=old + H, first_response_due=old + 4 * H)
    build.complaint(received_at=old, acknowledged_at=at(period.start + D), status="investigating")
    build.complaint(received_at=old, status="awaiting_customer", acknowledged_at=old + H, resolution_due=at(period.start + 3 * D),
                    sla_paused_at=old + 2 * H)
    build.complaint(received_at=old, status="rejected")
    build.complaint(received_at=old, acknowledged_at=old + H, resolved_at=old + 9 * H, status="closed")
    periods = [period, period.previous(), Period(period.start - 500 * D, period.end), Period.last_days(3)]
    everything = one_row(Complaint.objects.all(), **_for_each(periods, lambda p: _complaint_expressions(p, None)))
    assert list(complaint_aggregates(periods, KpiFilters())) == list(everything)
    v = compute_kpis(period)
    assert v["resolution_hours_median"].denominator == 4  # c1, c2, c5 and the old one resolved in the period
    assert v["open_complaints"].value == 5  # c3, c4 and the three old ones still open
