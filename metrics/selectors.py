"""Reads of metrics shared by the dashboard, the API, the management review and "My work".

The dashboard costs a fixed number of queries whatever the table sizes (docs/architecture.md rule
6): the live KPIs of the period and of the one before it (one aggregate per table, FILTER per
period, metrics.kpis), the trend buckets from the daily snapshots and the live charts are read
in one statement (metrics.batch), then the targets and the open alerts.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.postgres.aggregates import ArrayAgg
from django.db import connection
from django.db.models import Aggregate, Count, F, FloatField, Q, Sum
from django.db.models.functions import Trunc
from django.urls import reverse
from django.utils import timezone

from metrics import batch, kpis
from metrics.batch import as_date
from metrics.kpis import (
    DOWN,
    KPI_BY_CODE,
    KPIS,
    LAST,
    RATIO,
    SUM,
    UP,
    Kpi,
    KpiFilters,
    KpiValue,
    Period,
    compute_kpis,
    compute_kpis_for,
    format_value,
    is_breached,
    ratio,
)
from metrics.models import (
    KpiAlert,
    KpiSnapshot,
    KpiTarget,
    ManagementReview,
    ReviewItem,
)
from metrics.workflow import AlertStatus, ReviewItemStatus
from qms import roles as qms_roles
from qms.mywork import WorkSection

# --- tiles ----------------------------------------------------------------------------------


@dataclass
class Tile:
    kpi: Kpi
    current: KpiValue
    previous: KpiValue
    target: KpiTarget | None

    @property
    def formatted(self) -> str:
        return format_value(self.kpi, self.current.value)

    @property
    def counts(self) -> str:
        """What a rate counts, beside it: "0 of 1 due in the period"; for no data, why there is
        none ("nothing fell due in the period"), so that an empty ratio never reads as 0 %."""
        words = RATIO_COUNTS.get(self.kpi.code)
        if words is None:
            return ""
        of, empty = words
        numerator, denominator = self.current.numerator, self.current.denominator
        if not denominator:
            return empty
        return f"{int(numerator or 0):,} of {int(denominator):,} {of}"

    @property
    def previous_formatted(self) -> str:
        return format_value(self.kpi, self.previous.value)

    @property
    def state(self) -> str:
        """ok (target met), warn (between target and threshold), bad (past the threshold)."""
        if self.target is None or self.current.value is None:
            return ""
        if is_breached(self.kpi, self.current.value, self.target.threshold):
            return "bad"
        if is_breached(self.kpi, self.current.value, self.target.target):
            return "warn"
        return "ok"

    @property
    def trend(self) -> str:
        """up / down / flat against the previous period of the same length; "" without data."""
        now, before = self.current.value, self.previous.value
        if now is None or before is None:
            return ""
        if abs(now - before) < 1e-9:
            return "flat"
        return "up" if now > before else "down"

    @property
    def trend_is_good(self) -> bool | None:
        if self.trend in ("", "flat"):
            return None
        return (self.trend == "up") == (self.kpi.direction == UP)

    @property
    def trend_symbol(self) -> str:
        return {"up": "▲", "down": "▼", "flat": "▶"}.get(self.trend, "")


# For the rates: (what "n of m" counts, what to say when m is 0).
RATIO_COUNTS = {
    "sla_first_response_rate": ("due in the period", "nothing fell due in the period"),
    "sla_resolution_rate": ("due in the period", "nothing fell due in the period"),
    "csat": ("answers scored 4 or 5", "no survey answer in the period"),
    "complaint_recurrence_rate": ("complaints recurring", "no complaint received in the period"),
    "capa_on_time_rate": ("closed by their due date", "no CAPA closed in the period"),
    "capa_effectiveness_rate": ("checks found effective", "no check verified in the period"),
}

TILE_GROUPS = (
    ("Customers", ("csat", "csat_mean", "nps", "ces", "survey_responses")),
    ("Complaint handling", (
        "complaint_volume", "complaint_rate", "complaint_recurrence_rate", "open_complaints", "overdue_complaints",
        "sla_first_response_rate", "sla_resolution_rate", "first_response_hours_median", "first_response_hours_p90",
        "resolution_hours_median", "resolution_hours_p90",
    )),
    ("CAPA", ("capa_on_time_rate", "capa_mean_age_days", "open_capas", "capa_effectiveness_rate")),
    ("Training and documents", ("training_compliance_rate", "overdue_training", "documents_overdue_review")),
    ("Service quality", (
        "sq_quality_score", "sq_critical_fail_rate", "sq_auto_coverage", "sq_human_coverage", "sq_coaching_on_time_rate",
    )),
)
assert {code for _g, codes in TILE_GROUPS for code in codes} == {k.code for k in KPIS}, "every KPI has a tile"


def targets_by_kpi() -> dict[str, KpiTarget]:
    return {t.kpi: t for t in KpiTarget.objects.filter(is_active=True)}


def tile_groups(current: dict[str, KpiValue], previous: dict[str, KpiValue], targets: dict[str, KpiTarget]) -> list:
    return [
        (title, [Tile(KPI_BY_CODE[c], current[c], previous[c], targets.get(c)) for c in codes]) for title, codes in TILE_GROUPS
    ]


def kpi_tiles(period: Period, filters: KpiFilters, *, now=None) -> tuple[list[tuple[str, list[Tile]]], dict[str, KpiValue]]:
    # Both periods in the same statement (FILTER per period), not one set of queries each.
    current, previous = compute_kpis_for([period, period.previous()], filters, now=now)
    return tile_groups(current, previous, targets_by_kpi()), current


# --- trends from snapshots ------------------------------------------------------------------

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


# --- live charts ----------------------------------------------------------------------------


def _received_in(period: Period, filters: KpiFilters):
    from complaints.models import Complaint

    return Complaint.objects.filter(filters.complaint_q(), received_at__gte=period.start_at, received_at__lt=period.end_at)


def _complaints_by_category_and_product(period: Period, filters: KpiFilters):
    """Complaints received in the period per (category, product): the Pareto chart and the
    product table in one grouped query. Grouped by the ids alone (named by _named_received):
    joining each complaint to its category and product before grouping cost as much again."""
    return _received_in(period, filters).order_by().values("category_id", "product_id").annotate(count=Count("id"))


def _category_and_product_names() -> dict:
    from complaints.models import Category, Product

    return {
        "categories": Category.objects.order_by().values("id", "name"),
        "products": Product.objects.order_by().values("id", "code", "name"),
    }


def _named_received(rows: list[dict], categories: list[dict], products: list[dict]) -> list[dict]:
    """_complaints_by_category_and_product's rows with the category's name and the product's
    code and name (None where the complaint has none)."""
    category = {c["id"]: c["name"] for c in categories}
    product = {p["id"]: p for p in products}
    return [
        {
            **row, "category__name": category.get(row["category_id"]),
            "product__code": product.get(row["product_id"], {}).get("code"),
            "product__name": product.get(row["product_id"], {}).get("name"),
        }
        for row in rows
    ]


def _pareto(rows: list[dict]) -> list[dict]:
    counts: dict[str, int] = {}
    for row in rows:
        name = row["category__name"] or "Uncategorised"
        counts[name] = counts.get(name, 0) + row["count"]
    total = sum(counts.values())
    running = 0
    result = []
    for name, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        running += count
        result.append({
            "category": name, "count": count,
            "cumulative_percent": round(100.0 * running / total, 1) if total else None,
        })
    return result


def category_pareto(period: Period, filters: KpiFilters) -> list[dict]:
    rows = _received_in(period, filters).order_by().values("category__name").annotate(count=Count("id"))
    return _pareto(list(rows))


def _departments(rows: list[dict], trainees: list[dict], i: int = 0) -> list[dict]:
    """Per department, for the i-th period, from kpis.training_by_trainee rows and
    kpis.trainee_departments rows."""
    department_of = {row["id"]: row["department__name"] or "No department" for row in trainees}
    totals: dict[str, dict] = {}
    for row in rows:
        total = totals.setdefault(department_of.get(row["user_id"], "No department"), {"in_force": 0, "done": 0, "overdue": 0})
        for name in ("in_force", "done", "overdue"):
            total[name] += row[f"{name}__{i}"]
    result = [
        {"department": name, **total, "rate": _one(ratio(total["done"], total["in_force"]))}
        for name, total in totals.items()
        if total["in_force"]
    ]
    return sorted(result, key=lambda r: (r["department"] == "No department", r["department"]))


def training_by_department(period: Period, filters: KpiFilters, *, now=None) -> list[dict]:
    rows = batch.fetch({
        "training": kpis.training_by_trainee([period], filters, now), "trainees": kpis.trainee_departments(),
    })
    return _departments(rows["training"], rows["trainees"])


def _product_rows(units_rows: list[dict], complaint_rows: list[dict], i: int = 0) -> list[dict]:
    """Complaints and units shipped per product (units of the i-th period of the units rows)."""
    units = {r["product_id"]: r for r in units_rows if r[f"units__{i}"] is not None}
    complaints: dict[int, dict] = {}
    for r in complaint_rows:
        if r["product_id"] is None:
            continue
        entry = complaints.setdefault(r["product_id"], {**r, "count": 0})
        entry["count"] += r["count"]
    rows = []
    for product_id in set(units) | set(complaints):
        source = complaints.get(product_id) or units[product_id]
        count = complaints.get(product_id, {}).get("count", 0)
        shipped = units[product_id][f"units__{i}"] if product_id in units else None
        rows.append({
            "code": source["product__code"], "name": source["product__name"], "complaints": count, "units": shipped,
            "rate": ratio(count, shipped, 1000.0) if shipped else None,
        })
    return sorted(rows, key=lambda r: (-(r["rate"] or -1), -r["complaints"], r["code"]))


def product_rates(period: Period, filters: KpiFilters) -> list[dict]:
    """Complaints and units shipped per product over the period (two grouped queries)."""
    units = list(kpis.shipped_units_by_product([period], filters))
    complaints = list(
        _received_in(period, filters).filter(product__isnull=False).order_by()
        .values("category__name", "product_id", "product__code", "product__name").annotate(count=Count("id"))
    )
    return _product_rows(units, complaints)


@dataclass
class Dashboard:
    period: Period
    filters: KpiFilters
    groups: list
    values: dict
    charts: dict
    tables: dict
    open_alerts: list


def chart(kind: str, title: str, labels: list, datasets: list[dict], unit: str = "", **options) -> dict:
    return {"type": kind, "title": title, "labels": labels, "datasets": datasets, "unit": unit, **options}


def dashboard(period: Period, filters: KpiFilters, *, now=None) -> Dashboard:
    """Everything the dashboard shows, live: the KPIs of the period and of the one before it, the
    trend buckets and the live charts are read in one statement (metrics.batch), then the
    targets and the open alerts (two small queries)."""
    # The period, the one before it (the tiles' arrows) and the trend's last bucket (its live
    # point), all three in the same statements.
    periods = [period, period.previous(), last_bucket(period)]
    rows = batch.fetch({
        **kpis.kpi_querysets(periods, filters, now=now),
        "trends": _trend_rows(period),
        "received": _complaints_by_category_and_product(period, filters),
        "trainees": kpis.trainee_departments(),
        **_category_and_product_names(),
    })
    values, previous, live_last = kpis.kpis_from_rows(rows, len(periods))
    groups = tile_groups(values, previous, targets_by_kpi())
    kind = trend_bucket(period)
    buckets, trends = kpi_trends(period, rows=rows["trends"], live=live_last)
    labels = [bucket_label(b, kind) for b in buckets]
    received = _named_received(rows["received"], rows["categories"], rows["products"])
    pareto = _pareto(received)
    training = _departments(rows["training"], rows["trainees"])
    ageing = values["open_capas"].extra["ageing"]
    products = _product_rows(rows["units"], received)
    charts = {
        "chart-volume": chart("bar", "Complaints received", labels, [
            {"label": "Complaints received", "data": trends["complaint_volume"], "type": "bar"},
            {"label": "Open at the end", "data": trends["open_complaints"], "type": "line"},
        ]),
        "chart-sla": chart("line", "SLA compliance", labels, [
            {"label": "Acknowledged on time", "data": trends["sla_first_response_rate"]},
            {"label": "Resolved on time", "data": trends["sla_resolution_rate"]},
        ], unit="%", min=0, max=100),
        "chart-satisfaction": chart("line", "CSAT and NPS", labels, [
            {"label": "CSAT (% satisfied)", "data": trends["csat"]},
            {"label": "NPS", "data": trends["nps"]},
        ], min=-100, max=100),
        "chart-pareto": chart("bar", "Complaint categories (Pareto)", [r["category"] for r in pareto], [
            {"label": "Complaints", "data": [r["count"] for r in pareto], "type": "bar"},
            {"label": "Cumulative %", "data": [r["cumulative_percent"] for r in pareto], "type": "line", "yAxisID": "y1"},
        ], pareto=True),
        "chart-capa-ageing": chart("bar", "Open CAPAs by age", [label for label, _n in ageing], [
            {"label": "Open CAPAs", "data": [n for _label, n in ageing]},
        ]),
        "chart-training": chart("bar", "Training compliance by department", [r["department"] for r in training], [
            {"label": "Compliance %", "data": [r["rate"] for r in training]},
        ], unit="%", min=0, max=100, horizontal=True),
    }
    tables = {
        "trend_rows": [
            {"label": label, **{code: trends[code][i] for code in TREND_KPIS}} for i, label in enumerate(labels)
        ],
        "pareto": pareto, "training": training, "ageing": ageing, "products": products, "bucket": kind,
    }
    alerts = list(KpiAlert.objects.filter(status=AlertStatus.OPEN).select_related("target", "capa").order_by("-raised_at")[:10])
    return Dashboard(period, filters, groups, values, charts, tables, alerts)


# --- alerts, my work ------------------------------------------------------------------------


def alert_list(*, status: str | None = None):
    qs = KpiAlert.objects.select_related("target", "capa").order_by("-raised_at", "-id")
    if status:
        qs = qs.filter(status=status)
    return qs


def my_work(user) -> list[WorkSection]:
    """Managers (and KPI owners) see the open KPI alerts; owners of review actions see theirs."""
    sections = []
    if qms_roles.has_role(user, qms_roles.MANAGER) or user.kpi_targets.exists():
        alerts = list(alert_list(status=AlertStatus.OPEN)[:10])
        sections.append(WorkSection(
            title="Open KPI alerts", template="metrics/_mywork_alerts.html",
            items=[{"alert": a, "kpi": KPI_BY_CODE[a.kpi], "value": format_value(KPI_BY_CODE[a.kpi], a.value)} for a in alerts],
            empty_text="Every KPI is within its threshold.", more_url=reverse("metrics:alerts"), count=len(alerts),
        ))
    actions = list(
        ReviewItem.objects.filter(owner=user, kind="action", status=ReviewItemStatus.OPEN)
        .select_related("review").order_by("due_date", "id")[:10]
    )
    if actions:
        sections.append(WorkSection(
            title="My management review actions", template="metrics/_mywork_review_items.html", items=actions,
            empty_text="No open management review actions.",
        ))
    return sections


# --- management review input pack (ISO 9001 9.3.2) ------------------------------------------


def _iso(value):
    return value.isoformat() if value else None


def _one(value):
    """A rate or mean in the frozen pack: one decimal, None for no data."""
    return None if value is None else round(float(value), 1)


def _count(value):
    return None if value is None else int(value)


def review_status(kpi: Kpi, value, target) -> str:
    """breached (past the alert threshold), missed (on the bad side of the target), met, or ""
    without a target or data."""
    if target is None or value is None:
        return ""
    if is_breached(kpi, value, target.threshold):
        return "breached"
    return "missed" if is_breached(kpi, value, target.target) else "met"


# What a missed target means depends on the KPI's direction: a resolution time over its target
# is "above target", and worse (issue 18: it read "below target").
REVIEW_STATUS_LABELS = {
    ("breached", UP): "below the alert threshold (worse)",
    ("breached", DOWN): "above the alert threshold (worse)",
    ("missed", UP): "below target (worse)",
    ("missed", DOWN): "above target (worse)",
    ("met", UP): "target met",
    ("met", DOWN): "target met",
}


def review_input_pack(review: ManagementReview, *, at=None) -> dict:
    """Everything the product holds for the 9.3.2 inputs over the review's period, as plain JSON
    (frozen on the review when the meeting is held)."""
    from capa.models import Capa, EffectivenessCheck
    from complaints.models import Complaint, Survey
    from documents.models import Document

    at = at or timezone.now()
    period = Period(review.period_start, review.period_end)
    filters = KpiFilters()
    values = compute_kpis(period, filters, now=at)
    targets = targets_by_kpi()
    kpis = []
    for kpi in KPIS:
        target = targets.get(kpi.code)
        value = values[kpi.code].value
        kpis.append({
            "code": kpi.code, "label": kpi.label, "unit": kpi.unit, "value": value,
            "formatted": format_value(kpi, value),
            "target": float(target.target) if target else None,
            "threshold": float(target.threshold) if target else None,
            "status": review_status(kpi, value, target),
            "status_label": REVIEW_STATUS_LABELS.get((review_status(kpi, value, target), kpi.direction), ""),
            "definition": kpi.help,
        })
    in_period = Q(received_at__gte=period.start_at, received_at__lt=period.end_at)
    complaints = Complaint.objects.filter(in_period)
    earlier_items = (
        ReviewItem.objects.filter(review__meeting_on__lt=review.meeting_on, kind="action")
        .exclude(review=review).select_related("review", "owner", "capa").order_by("review__meeting_on", "id")
    )
    comments = (
        Survey.objects.filter(answered_at__gte=period.start_at, answered_at__lt=period.end_at)
        .exclude(comment="").select_related("complaint").order_by("-answered_at")[:15]
    )
    capas = Capa.objects.filter(created_at__gte=period.start_at, created_at__lt=period.end_at)
    return {
        "compiled_at": at.isoformat(),
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat()},
        "previous_actions": [
            {"review": i.review.reference, "description": i.description, "owner": i.owner.get_full_name() if i.owner else "",
             "due_date": _iso(i.due_date), "status": i.status, "completed_at": _iso(i.completed_at),
             "capa": i.capa.reference if i.capa else ""}
            for i in earlier_items
        ],
        "kpis": kpis,
        "customer_feedback": {
            "responses": _count(values["survey_responses"].value),
            "csat": _one(values["csat"].value), "nps": _one(values["nps"].value), "ces": _one(values["ces"].value),
            "comments": [{"complaint": s.complaint.reference, "csat": s.csat, "nps": s.nps, "comment": s.comment[:500]} for s in comments],
        },
        "complaints": {
            "received": _count(values["complaint_volume"].value),
            "open_at_end": _count(values["open_complaints"].value),
            "overdue_at_end": _count(values["overdue_complaints"].value),
            "by_severity": list(complaints.values("severity").annotate(count=Count("id")).order_by("severity")),
            "by_category": category_pareto(period, filters),
            "by_product": product_rates(period, filters),
            "reportable": complaints.filter(is_reportable=True).count(),
        },
        "capa": {
            "opened": capas.count(),
            "opened_by_source": list(capas.values("source").annotate(count=Count("id")).order_by("source")),
            "closed": _count(values["capa_on_time_rate"].denominator),
            "closed_on_time_rate": _one(values["capa_on_time_rate"].value),
            "open_at_end": _count(values["open_capas"].value),
            "effectiveness_checks": list(
                EffectivenessCheck.objects.filter(verified_at__gte=period.start_at, verified_at__lt=period.end_at)
                .values("result").annotate(count=Count("id")).order_by("result")
            ),
        },
        "training": {
            "compliance_rate": _one(values["training_compliance_rate"].value),
            "overdue": _count(values["overdue_training"].value),
            "by_department": training_by_department(period, filters, now=at),
        },
        "documents_overdue_review": [
            {"number": d.number, "title": d.title, "next_review_due": _iso(d.next_review_due)}
            for d in Document.objects.filter(effective_version__isnull=False, next_review_due__lt=timezone.localdate(period.as_of(at)))
            .order_by("next_review_due")[:50]
        ],
        "alerts": [
            {"kpi": KPI_BY_CODE[a.kpi].label, "raised_at": a.raised_at.isoformat(), "value": a.value,
             "threshold": float(a.threshold), "status": a.status, "cleared_at": _iso(a.cleared_at),
             "capa": a.capa.reference if a.capa else ""}
            for a in KpiAlert.objects.filter(raised_at__lt=period.end_at).filter(
                Q(cleared_at__isnull=True) | Q(cleared_at__gte=period.start_at)).select_related("capa").order_by("raised_at")
        ],
    }


def review_pack(review: ManagementReview) -> tuple[dict, bool]:
    """The frozen pack once held; a live preview before. Returns (pack, is_frozen)."""
    if review.input_pack is not None:
        return review.input_pack, True
    return review_input_pack(review), False


REVIEW_SECTIONS = (
    ("previous_actions", "Status of actions from previous reviews (9.3.2 a)"),
    ("kpis", "Quality objectives and KPIs (9.3.2 c 3, 5)"),
    ("customer_feedback", "Customer satisfaction and feedback (9.3.2 c 1)"),
    ("complaints", "Complaints (9.3.2 c 1, 4)"),
    ("capa", "Nonconformities and corrective actions (9.3.2 c 4)"),
    ("training", "Competence and training (9.3.2 d)"),
    ("documents_overdue_review", "Documents overdue for review"),
    ("alerts", "KPI alerts (9.3.2 c)"),
)
