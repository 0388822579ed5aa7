"""The KPI computation: a handful of aggregate queries in the database, each returning many
KPIs at once (docs/architecture.md rule 6), and the values read from their rows."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import (
    Avg,
    Count,
    F,
    Min,
    Q,
    QuerySet,
    Sum,
)
from django.utils import timezone

from metrics import batch
from metrics.batch import one_row
from metrics.kpi_registry import KPI_BY_CODE, Kpi
from metrics.kpis.periods import NO_FILTERS, KpiFilters, Period
from metrics.kpis.sql import HoursBetween, Percentile, _at

# --- computation ----------------------------------------------------------------------------


@dataclass
class KpiValue:
    code: str
    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    extra: dict = field(default_factory=dict)

    @property
    def kpi(self) -> Kpi:
        return KPI_BY_CODE[self.code]

    @property
    def has_data(self) -> bool:
        return self.value is not None


def ratio(numerator, denominator, scale: float = 100.0) -> float | None:
    if not denominator:
        return None
    return round(float(numerator or 0) * scale / float(denominator), 4)


def _round(value) -> float | None:
    return None if value is None else round(float(value), 4)


def _for_each(periods: list[Period], build) -> dict:
    """The aggregates of several periods for one query: `build(period)` names them, and each
    is aliased `<name>__<i>` for the i-th period (COUNT ... FILTER per period)."""
    return {f"{name}__{i}": expression for i, period in enumerate(periods) for name, expression in build(period).items()}


def _split(row: dict, n: int) -> list[dict]:
    """The inverse of _for_each: one dict of plain names per period."""
    result = [{} for _ in range(n)]
    for key, value in row.items():
        name, _sep, i = key.rpartition("__")
        result[int(i)][name] = value
    return result


def _span(periods: list[Period]) -> tuple[datetime.datetime, datetime.datetime]:
    """From the earliest start to the latest end: the rows any period can read lie in it."""
    return min(p.start_at for p in periods), max(p.end_at for p in periods)


def _complaint_expressions(period: Period, now) -> dict:
    from complaints.selectors import recurring_complaints
    from metrics.models import ShippedUnits

    start, end = period.start_at, period.end_at
    t = period.as_of(now)
    due_end = min(end, t)
    received = Q(received_at__gte=start, received_at__lt=end)
    not_rejected = ~Q(status="rejected")
    open_at_t = Q(received_at__lt=t) & (Q(resolved_at__isnull=True) | Q(resolved_at__gte=t)) & not_rejected
    first_response_late = Q(first_response_due__lt=t) & (Q(acknowledged_at__isnull=True) | Q(acknowledged_at__gte=t))
    resolution_late = Q(resolution_due__lt=t, sla_paused_at__isnull=True)
    acknowledged = Q(acknowledged_at__gte=start, acknowledged_at__lt=end)
    resolved = Q(resolved_at__gte=start, resolved_at__lt=end)
    ack_due = Q(first_response_due__gte=start, first_response_due__lt=due_end) & not_rejected
    res_due = Q(resolution_due__gte=start, resolution_due__lt=due_end) & not_rejected & (
        Q(resolved_at__isnull=False) | Q(sla_paused_at__isnull=True)
    )
    first, last = period.months
    shipped_products = ShippedUnits.objects.filter(month__gte=first, month__lte=last).values("product_id")
    response = HoursBetween(F("acknowledged_at"), F("received_at"))
    resolution = HoursBetween(F("resolved_at"), F("received_at"))
    return {
        "volume": Count("id", filter=received),
        "recurring": Count("id", filter=received & recurring_complaints()),
        "volume_shipped": Count("id", filter=received & Q(product_id__in=shipped_products)),
        "open": Count("id", filter=open_at_t),
        "overdue": Count("id", filter=open_at_t & (first_response_late | resolution_late)),
        "fr_count": Count("id", filter=acknowledged),
        "fr_median": Percentile(response, 0.5, filter=acknowledged),
        "fr_p90": Percentile(response, 0.9, filter=acknowledged),
        "res_count": Count("id", filter=resolved),
        "res_median": Percentile(resolution, 0.5, filter=resolved),
        "res_p90": Percentile(resolution, 0.9, filter=resolved),
        "ack_due": Count("id", filter=ack_due),
        "ack_on_time": Count("id", filter=ack_due & Q(acknowledged_at__lte=F("first_response_due"))),
        "res_due": Count("id", filter=res_due),
        "res_on_time": Count("id", filter=res_due & Q(resolved_at__lte=F("resolution_due"))),
    }


def complaint_horizon():
    """Each complaint's KPI horizon (complaints.expressions.kpi_horizon): the complaints app
    owns the expression and its index, complaints_kpi_horizon_idx."""
    from complaints.expressions import kpi_horizon

    return kpi_horizon()


def complaint_aggregates(periods: list[Period], filters: KpiFilters, now=None) -> QuerySet:
    """One row for every period: volume, recurrence, open, overdue, response and resolution
    times, SLA."""
    from complaints.models import Complaint

    _start, end = _span(periods)
    # Every FILTER below needs an event at or after the period's start, or the complaint open at
    # the moment stock KPIs are measured (which can be before the start for a future period).
    horizon = min(min(p.start_at, p.as_of(now)) for p in periods)
    return one_row(
        Complaint.objects.alias(kpi_horizon=complaint_horizon()).filter(
            filters.complaint_q(), received_at__lt=end, kpi_horizon__gte=horizon
        ),
        **_for_each(periods, lambda p: _complaint_expressions(p, now)),
    )


def survey_aggregates(periods: list[Period], filters: KpiFilters) -> QuerySet:
    from complaints.models import Survey

    def build(period):
        answered = Q(answered_at__gte=period.start_at, answered_at__lt=period.end_at)
        return {
            "responses": Count("id", filter=answered),
            "satisfied": Count("id", filter=answered & Q(csat__gte=4)),
            "csat_sum": Sum("csat", filter=answered),
            "ces_sum": Sum("ces", filter=answered),
            "promoters": Count("id", filter=answered & Q(nps__gte=9)),
            "detractors": Count("id", filter=answered & Q(nps__lte=6)),
        }

    start, end = _span(periods)
    return one_row(
        Survey.objects.filter(filters.complaint_q("complaint__"), answered_at__gte=start, answered_at__lt=end),
        **_for_each(periods, build),
    )


def shipped_units_by_product(periods: list[Period], filters: KpiFilters) -> QuerySet:
    """Units shipped per product in each period's months (the complaint rate's denominator is
    their sum; the dashboard's product table shows them per product)."""
    from metrics.models import ShippedUnits

    qs = ShippedUnits.objects.filter(month__gte=min(p.months[0] for p in periods), month__lte=max(p.months[1] for p in periods))
    if filters.product:
        qs = qs.filter(product_id=filters.product)
    return (
        qs.order_by()
        .values("product_id", "product__code", "product__name")
        .annotate(**_for_each(periods, lambda p: {"units": Sum("units", filter=Q(month__gte=p.months[0], month__lte=p.months[1]))}))
    )


def _capa_expressions(period: Period, now) -> dict:
    start, end = period.start_at, period.end_at
    t = period.as_of(now)
    closed = Q(status="closed", closed_at__gte=start, closed_at__lt=end)
    open_at_t = Q(created_at__lt=t) & (Q(closed_at__isnull=True) | Q(closed_at__gte=t)) & ~Q(status="cancelled")
    age_days = HoursBetween(_at(t), F("created_at")) / 24.0
    days = [t - datetime.timedelta(days=n) for n in (30, 60, 90)]
    return {
        "closed": Count("id", filter=closed),
        "closed_on_time": Count("id", filter=closed & Q(closed_at__date__lte=F("due_date"))),
        "open": Count("id", filter=open_at_t),
        "mean_age": Avg(age_days, filter=open_at_t),
        "age_0_30": Count("id", filter=open_at_t & Q(created_at__gt=days[0])),
        "age_31_60": Count("id", filter=open_at_t & Q(created_at__lte=days[0], created_at__gt=days[1])),
        "age_61_90": Count("id", filter=open_at_t & Q(created_at__lte=days[1], created_at__gt=days[2])),
        "age_over_90": Count("id", filter=open_at_t & Q(created_at__lte=days[2])),
    }


def capa_aggregates(periods: list[Period], filters: KpiFilters, now=None) -> QuerySet:
    from capa.models import Capa

    _start, end = _span(periods)
    # Every FILTER needs the CAPA closed at or after the period's start or the moment the stock
    # is measured, or not closed: the CAPAs closed before all of that (most of the history) are
    # not read.
    horizon = min(min(p.start_at, p.as_of(now)) for p in periods)
    return one_row(
        Capa.objects.filter(filters.department_q("owner__department_id"), created_at__lt=end).filter(
            Q(closed_at__isnull=True) | Q(closed_at__gte=horizon)
        ),
        **_for_each(periods, lambda p: _capa_expressions(p, now)),
    )


def check_aggregates(periods: list[Period], filters: KpiFilters) -> QuerySet:
    from capa.models import EffectivenessCheck

    def build(period):
        verified = Q(verified_at__gte=period.start_at, verified_at__lt=period.end_at)
        return {
            "checks": Count("id", filter=verified & Q(result__in=["effective", "not_effective"])),
            "effective": Count("id", filter=verified & Q(result="effective")),
        }

    start, end = _span(periods)
    return one_row(
        EffectivenessCheck.objects.filter(
            filters.department_q("capa__owner__department_id"), verified_at__gte=start, verified_at__lt=end
        ),
        **_for_each(periods, build),
    )


def training_stock_q(t: datetime.datetime) -> dict[str, Q]:
    in_force = Q(assigned_at__lt=t) & ~(Q(status__in=["waived", "superseded"]) & Q(closed_at__lt=t))
    done = in_force & Q(completed_at__lt=t)
    overdue = in_force & (Q(completed_at__isnull=True) | Q(completed_at__gte=t)) & Q(due_date__lt=timezone.localdate(t))
    return {"in_force": in_force, "done": done, "overdue": overdue}


def training_by_trainee(periods: list[Period], filters: KpiFilters, now=None) -> QuerySet:
    """Assignments in force, done and overdue per trainee, for every period (the training KPIs
    are their sums; the dashboard's chart adds them up per department with trainee_departments).
    Grouped by the trainee's id, with no join: joining every assignment to its trainee and
    department before grouping took a third of this query's time at 60,000 assignments."""
    from training.models import TrainingAssignment

    def build(period):
        q = training_stock_q(period.as_of(now))
        return {name: Count("id", filter=condition) for name, condition in q.items()}

    # Waived or superseded before every moment measured: in force at none of them, not read.
    horizon = min(p.as_of(now) for p in periods)
    return (
        TrainingAssignment.objects.filter(filters.department_q("user__department_id"))
        .exclude(status__in=["waived", "superseded"], closed_at__lt=horizon)
        .order_by()
        .values("user_id")
        .annotate(**_for_each(periods, build))
    )


def trainee_departments() -> QuerySet:
    """Every user's department name (None without one), to add training_by_trainee's rows up
    per department."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.order_by().values("id", "department__name")


def documents_overdue(periods: list[Period], filters: KpiFilters, now=None) -> QuerySet:
    from documents.models import Document

    def build(period):
        t = period.as_of(now)
        return {"overdue": Count("id", filter=Q(next_review_due__lt=timezone.localdate(t), created_at__lt=t))}

    return one_row(
        Document.objects.filter(filters.department_q("department_id"), effective_version__isnull=False),
        **_for_each(periods, build),
    )


# KPIs that an app above metrics computes from its own tables (service_quality's sq_* KPIs,
# registered in ServiceQualityConfig.ready; their codes are in metrics.kpi_registry):
# aggregates(periods) -> {name: queryset} fetched with the others, values(rows, n) -> one
# {code: KpiValue} per period. metrics imports no app above it (issue 21).
KPI_SOURCES: list[tuple[Callable, Callable]] = []


def register_kpi_source(aggregates: Callable, values: Callable) -> None:
    if (aggregates, values) not in KPI_SOURCES:
        KPI_SOURCES.append((aggregates, values))


def kpi_querysets(periods: list[Period], filters: KpiFilters = NO_FILTERS, *, now=None) -> dict[str, QuerySet]:
    """The queries every KPI of every period is computed from: one per table, each reading its
    table once for all the periods (FILTER per period). Fetched together (metrics.batch)."""
    return {
        "complaints": complaint_aggregates(periods, filters, now),
        "surveys": survey_aggregates(periods, filters),
        "units": shipped_units_by_product(periods, filters),
        "capas": capa_aggregates(periods, filters, now),
        "checks": check_aggregates(periods, filters),
        "training": training_by_trainee(periods, filters, now),
        "documents": documents_overdue(periods, filters, now),
        **{name: queryset for aggregates, _values in KPI_SOURCES for name, queryset in aggregates(periods).items()},
    }


def _sum_per_period(rows: list[dict], n: int, names: tuple[str, ...]) -> list[dict]:
    """Totals of grouped counts (a handful of products or departments) for each period."""
    return [{name: sum(row[f"{name}__{i}"] or 0 for row in rows) for name in names} for i in range(n)]


def kpis_from_rows(rows: dict[str, list[dict]], n: int) -> list[dict[str, KpiValue]]:
    """The KPI values of each of the n periods from the rows of kpi_querysets."""
    complaints = _split(rows["complaints"][0], n)
    surveys = _split(rows["surveys"][0], n)
    units = [values["units"] for values in _sum_per_period(rows["units"], n, ("units",))]
    capas = _split(rows["capas"][0], n)
    checks = _split(rows["checks"][0], n)
    training = _sum_per_period(rows["training"], n, ("in_force", "done", "overdue"))
    documents = [values["overdue"] for values in _split(rows["documents"][0], n)]
    result = [
        _kpi_values(c, s, u, {**k, **e}, t, d)
        for c, s, u, k, e, t, d in zip(complaints, surveys, units, capas, checks, training, documents, strict=True)
    ]
    for _aggregates, values_of in KPI_SOURCES:
        for values, more in zip(result, values_of(rows, n), strict=True):
            values.update(more)
    return result


def first_activity_at():
    """When the earliest record any KPI reads was made (None on an empty system): every day
    that ends before it has the empty value of every KPI, so a long range of snapshots needs
    the queries only from there on."""
    from capa.models import Capa
    from complaints.models import Complaint, Survey
    from documents.models import Document
    from training.models import TrainingAssignment

    candidates = [
        Complaint.objects.aggregate(at=Min("received_at"))["at"],
        Survey.objects.aggregate(at=Min("answered_at"))["at"],
        Capa.objects.aggregate(at=Min("created_at"))["at"],
        TrainingAssignment.objects.aggregate(at=Min("assigned_at"))["at"],
        Document.objects.aggregate(at=Min("created_at"))["at"],
    ]
    found = [c for c in candidates if c is not None]
    return min(found) if found else None


def compute_kpis(period: Period, filters: KpiFilters = NO_FILTERS, *, now=None) -> dict[str, KpiValue]:
    """Every KPI of the registry for the period (see compute_kpis_for)."""
    return compute_kpis_for([period], filters, now=now)[0]


def compute_kpis_for(periods: list[Period], filters: KpiFilters = NO_FILTERS, *, now=None) -> list[dict[str, KpiValue]]:
    """Every KPI of the registry for each of the periods (the dashboard's period and the one
    before it; the alert evaluation's windows): one statement whatever the number of periods
    and the data size, reading each table once (kpi_querysets)."""
    periods = list(periods)
    if not periods:
        return []
    return kpis_from_rows(batch.fetch(kpi_querysets(periods, filters, now=now)), len(periods))


def _kpi_values(c: dict, s: dict, units: int, k: dict, t: dict, docs: int) -> dict[str, KpiValue]:
    def v(code, value, numerator=None, denominator=None, **extra):
        return KpiValue(code, _round(value), _round(numerator), _round(denominator), extra)

    net = (s["promoters"] or 0) - (s["detractors"] or 0)
    values = [
        v("complaint_volume", c["volume"], c["volume"], None),
        v("complaint_rate", ratio(c["volume_shipped"], units, 1000.0), c["volume_shipped"], units),
        v("complaint_recurrence_rate", ratio(c["recurring"], c["volume"]), c["recurring"], c["volume"]),
        v("open_complaints", c["open"]),
        v("overdue_complaints", c["overdue"]),
        v("first_response_hours_median", c["fr_median"], None, c["fr_count"]),
        v("first_response_hours_p90", c["fr_p90"], None, c["fr_count"]),
        v("resolution_hours_median", c["res_median"], None, c["res_count"]),
        v("resolution_hours_p90", c["res_p90"], None, c["res_count"]),
        v("sla_first_response_rate", ratio(c["ack_on_time"], c["ack_due"]), c["ack_on_time"], c["ack_due"]),
        v("sla_resolution_rate", ratio(c["res_on_time"], c["res_due"]), c["res_on_time"], c["res_due"]),
        v("csat", ratio(s["satisfied"], s["responses"]), s["satisfied"], s["responses"]),
        v("csat_mean", ratio(s["csat_sum"], s["responses"], 1.0), s["csat_sum"], s["responses"]),
        v("nps", ratio(net, s["responses"]), net, s["responses"]),
        v("ces", ratio(s["ces_sum"], s["responses"], 1.0), s["ces_sum"], s["responses"]),
        v("survey_responses", s["responses"]),
        v("capa_on_time_rate", ratio(k["closed_on_time"], k["closed"]), k["closed_on_time"], k["closed"]),
        v("capa_mean_age_days", k["mean_age"], None, k["open"]),
        v("open_capas", k["open"]),
        v("capa_effectiveness_rate", ratio(k["effective"], k["checks"]), k["effective"], k["checks"]),
        v("training_compliance_rate", ratio(t["done"], t["in_force"]), t["done"], t["in_force"]),
        v("overdue_training", t["overdue"]),
        v("documents_overdue_review", docs),
    ]
    result = {value.code: value for value in values}
    result["open_capas"].extra = {
        "ageing": [
            ("0–30 days", k["age_0_30"]), ("31–60 days", k["age_31_60"]),
            ("61–90 days", k["age_61_90"]), ("over 90 days", k["age_over_90"]),
        ]
    }
    return result
