"""Daily snapshots: every KPI for a day, rewritten (not duplicated) by a rerun or by the
rebuild command, and read by the trend charts with exact roll-ups."""

import datetime

import pytest
from django.core.management import CommandError, call_command

from metrics import services
from metrics.kpis import KPIS, Period
from metrics.models import KpiSnapshot
from metrics.selectors import kpi_trends
from tests.metrics.conftest import at, days_ago

pytestmark = pytest.mark.django_db
H = datetime.timedelta(hours=1)


def test_a_snapshot_holds_every_kpi_of_the_day_with_numerator_and_denominator(build):
    day = days_ago(3)
    c = build.complaint(received_at=at(day, 9), acknowledged_at=at(day, 10), first_response_due=at(day, 13))
    build.complaint(received_at=at(day - datetime.timedelta(days=1), 9))
    build.survey(c, answered_at=at(day, 15), csat=5, ces=2, nps=10)
    assert services.snapshot_kpis(day=day) == len(KPIS)
    rows = {s.kpi: s for s in KpiSnapshot.objects.filter(date=day)}
    assert set(rows) == {k.code for k in KPIS}
    assert rows["complaint_volume"].value == 1
    assert rows["open_complaints"].value == 2  # at the end of the day
    assert rows["csat"].value == 100.0 and rows["csat"].numerator == 1 and rows["csat"].denominator == 1
    assert rows["first_response_hours_median"].value == 1.0 and rows["first_response_hours_median"].denominator == 1
    assert rows["capa_on_time_rate"].value is None  # no data, stored as NULL


def test_a_rerun_rewrites_the_day_instead_of_adding_rows(build):
    day = days_ago(2)
    services.snapshot_kpis(day=day)
    build.complaint(received_at=at(day, 9))
    services.snapshot_kpis(day=day)
    assert KpiSnapshot.objects.filter(date=day).count() == len(KPIS)
    assert KpiSnapshot.objects.get(date=day, kpi="complaint_volume").value == 1


def test_rebuild_kpi_snapshot_command_rebuilds_a_past_day(build, capsys):
    day = days_ago(10)
    build.complaint(received_at=at(day, 9))
    call_command("rebuild_kpi_snapshot", "--date", day.isoformat())
    assert KpiSnapshot.objects.get(date=day, kpi="complaint_volume").value == 1
    call_command("rebuild_kpi_snapshot", "--date", day.isoformat(), "--days", "3")
    assert KpiSnapshot.objects.filter(kpi="complaint_volume").count() == 3
    out = capsys.readouterr().out
    assert f"{day}: {len(KPIS)} KPIs written" in out and f"3 days of {len(KPIS)} KPIs written" in out
    for bad in (["--date", "2026-02-30"], ["--date", (days_ago(-2)).isoformat()], ["--date", day.isoformat(), "--days", "0"]):
        with pytest.raises(CommandError):
            call_command("rebuild_kpi_snapshot", *bad)


def test_a_range_copies_the_empty_days_before_the_first_record(build, django_assert_max_num_queries):
    first = days_ago(5)
    c = build.complaint(received_at=at(first, 9), acknowledged_at=at(first, 11), first_response_due=at(first, 13))
    build.survey(c, answered_at=at(first + datetime.timedelta(days=1), 9), csat=4, ces=2, nps=9)
    with django_assert_max_num_queries(400):  # 60 days: the 54 empty ones cost one upsert each
        services.snapshot_kpis_range(start=days_ago(60), end=days_ago(1))
    ranged = {(s.date, s.kpi): (s.value, s.numerator, s.denominator) for s in KpiSnapshot.objects.all()}
    assert len(ranged) == 60 * len(KPIS)
    KpiSnapshot.objects.all().delete()
    for offset in range(1, 61):
        services.snapshot_kpis(day=days_ago(offset))
    one_by_one = {(s.date, s.kpi): (s.value, s.numerator, s.denominator) for s in KpiSnapshot.objects.all()}
    assert ranged == one_by_one


def test_trends_roll_days_up_exactly(build):
    # Two days in one week: day one 1 of 1 satisfied, day two 1 of 3: the week is 2 of 4 = 50%,
    # not the mean of 100% and 33%.
    monday = days_ago(14) - datetime.timedelta(days=days_ago(14).weekday())
    c = build.complaint(received_at=at(monday, 9))
    build.survey(c, answered_at=at(monday, 10), csat=5, ces=1, nps=10)
    for csat in (5, 2, 1):
        build.survey(c, answered_at=at(monday + datetime.timedelta(days=1), 10), csat=csat, ces=1, nps=10)
    for offset in range(7):
        services.snapshot_kpis(day=monday + datetime.timedelta(days=offset))
    period = Period(monday, monday + datetime.timedelta(days=40))  # > 31 days: weekly buckets
    buckets, series = kpi_trends(period)
    assert buckets[0] == monday
    assert series["csat"][0] == 50.0
    assert series["complaint_volume"][0] == 1
    assert series["open_complaints"][0] == 1  # the value on the last day of the week


def test_the_beat_schedule_names_the_metrics_tasks():
    from qms.celery import BEAT_SCHEDULE

    tasks = {entry["task"] for entry in BEAT_SCHEDULE.values()}
    assert {"metrics.evaluate_kpi_targets", "metrics.snapshot_kpis"} <= tasks
    assert BEAT_SCHEDULE["metrics-evaluate-kpi-targets"]["schedule"] == 300.0
