"""KPI trends per day, week or month, from the daily snapshots (the last bucket computed live)."""

from __future__ import annotations

import datetime

from django.contrib.postgres.aggregates import ArrayAgg
from django.db import connection
from django.db.models import Aggregate, F, FloatField, Sum
from django.db.models.functions import Trunc

from metrics.batch import as_date
from metrics.kpis import KPI_BY_CODE, LAST, RATIO, SUM, Kpi, KpiValue, Period, ratio
from metrics.models import KpiSnapshot

TREND_KPIS = ("complaint_volume", "open_complaints", "sla_first_response_rate", "sla_resolution_rate", "csat", "nps")


def trend_bucket(period: Period) -> str:
    if period.days > 92:
        return "month"
    if period.days > 31:
        return "week"
    return "day"


class LatestValue(Aggregate):
    """SQLite (make run): the value of the group's row with the latest date, as the Python
    aggregate qms_latest registered in metrics/apps.py; PostgreSQL uses ArrayAgg below."""

    function = "qms_latest"
    name = "LatestValue"
    output_field = FloatField()


def _trend_rows(period: Period, codes=TREND_KPIS):
    if connection.vendor == "postgresql":
        latest = ArrayAgg("value", order_by="-date")
    else:
        latest = LatestValue("value", "date")
    return (
        KpiSnapshot.objects.filter(date__gte=period.start, date__lte=period.end, kpi__in=codes)
        .annotate(bucket=Trunc("date", trend_bucket(period)))
        .values("kpi", "bucket")
        .annotate(
            num=Sum("numerator"), den=Sum("denominator"), total=Sum("value"),
            weighted=Sum(F("value") * F("denominator")), values=latest,
        )
        .order_by("bucket", "kpi")
    )


def last_bucket(period: Period) -> Period:
    """The trend's last bucket (the day, week or month holding the period's end), cut to the
    period: the part of the chart that is computed live (see kpi_trends)."""
    return Period(max(_bucket_of(period.end, trend_bucket(period)), period.start), period.end)


def _bucket_of(day: datetime.date, kind: str) -> datetime.date:
    """The first day of the bucket holding `day`, as Trunc puts it (ISO weeks start on Monday)."""
    if kind == "month":
        return day.replace(day=1)
    if kind == "week":
        return day - datetime.timedelta(days=day.weekday())
    return day


def _trend_point(kpi: Kpi, value: float | None) -> float | None:
    """A point of a trend, with the precision its tile prints (66.7, not 66.6667)."""
    if value is None:
        return None
    return int(round(value)) if kpi.unit == "count" else round(value, kpi.decimals)


def kpi_trends(
    period: Period, codes=TREND_KPIS, *, rows=None, live: dict[str, KpiValue] | None = None,
) -> tuple[list[datetime.date], dict[str, list[float | None]]]:
    """Each KPI per bucket (day, week or month) over the period, from the daily snapshots in one
    query (or from `rows` fetched with the dashboard's other reads). Ratios roll up exactly (sums
    of numerators over sums of denominators).

    `live`: the KPI values of last_bucket(period) computed now from the records. They replace
    what the snapshots say of that bucket (today's snapshot is taken tonight, and "Recompute
    now" recomputes the records, not the snapshots), so the last point of every trend is the
    live value, the same figure as the tile when the period is that one bucket (issue 18)."""
    if rows is None:
        rows = list(_trend_rows(period, codes))
    buckets: list[datetime.date] = []
    cells: dict[tuple[str, datetime.date], float | None] = {}
    for row in sorted(rows, key=lambda r: (as_date(r["bucket"]), r["kpi"])):
        bucket = as_date(row["bucket"])
        if bucket not in buckets:
            buckets.append(bucket)
        kpi = KPI_BY_CODE[row["kpi"]]
        scale = 100.0 if kpi.unit == "%" or kpi.code == "nps" else 1.0
        if kpi.rollup == RATIO:
            value = ratio(row["num"], row["den"], scale)
        elif kpi.rollup == SUM:
            value = row["total"]
        elif kpi.rollup == LAST:
            values = row["values"]
            value = (values[0] if values else None) if isinstance(values, list) else values
        else:
            value = ratio(row["weighted"], row["den"], 1.0)
        cells[(kpi.code, bucket)] = _trend_point(kpi, value)
    if live is not None:
        bucket = _bucket_of(period.end, trend_bucket(period))
        if bucket not in buckets:
            buckets.append(bucket)
            buckets.sort()
        for code in codes:
            cells[(code, bucket)] = _trend_point(KPI_BY_CODE[code], live[code].value)
    return buckets, {code: [cells.get((code, b)) for b in buckets] for code in codes}


def bucket_label(bucket: datetime.date, kind: str) -> str:
    if kind == "month":
        return f"{bucket:%b %Y}"
    if kind == "week":
        return f"wk {bucket:%d %b}"
    return f"{bucket:%d %b}"
