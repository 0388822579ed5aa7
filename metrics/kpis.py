"""The KPI registry (ISO 9001 9.1.1: what is monitored, how it is measured) and its computation.

Every KPI is computed by the database: a handful of aggregate queries, each returning many
KPIs at once (COUNT/SUM/AVG with FILTER clauses, percentile_cont for medians and p90), never a
Python loop over rows. A ratio with an empty denominator is "no data" (None), never a division
by zero (NULLIF in SQL, a check here).

Periods are whole local days [start, end]; "stock" KPIs (open complaints, training compliance,
...) are measured at the end of the period, or now when the period ends in the future.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import (
    Avg,
    Count,
    DateTimeField,
    F,
    FloatField,
    Func,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.aggregates import Aggregate
from django.utils import timezone

from metrics import batch
from metrics.batch import one_row

# --- definitions ----------------------------------------------------------------------------

UP = "up"  # higher is better
DOWN = "down"  # lower is better

# How daily snapshots roll up into a longer bucket (a month on a trend chart):
RATIO = "ratio"  # sum(numerator) / sum(denominator) * scale: exact
SUM = "sum"  # sum of the daily values (counts of events)
LAST = "last"  # the value on the last day (stock figures such as open complaints)
WEIGHTED = "weighted"  # daily medians weighted by their counts (an approximation, said so)


@dataclass(frozen=True)
class Kpi:
    code: str
    label: str
    unit: str  # "%", "h", "days", "count", "score", "per 1,000 units"
    direction: str
    rollup: str
    help: str
    group: str  # complaints, surveys, capa, training, documents
    filters: tuple[str, ...] = ()  # which filters apply: product, category, severity, department
    decimals: int = 1


COMPLAINT_FILTERS = ("product", "category", "severity")

KPIS: tuple[Kpi, ...] = (
    Kpi("complaint_volume", "Complaints received", "count", DOWN, SUM,
        "Complaints received in the period (by received time), rejected ones included.",
        "complaints", COMPLAINT_FILTERS, 0),
    Kpi("complaint_rate", "Complaint rate", "per 1,000 units", DOWN, RATIO,
        "Complaints received in the period about products that have units shipped recorded for the "
        "period's months, per 1,000 units shipped in the calendar months the period touches.",
        "complaints", COMPLAINT_FILTERS, 2),
    Kpi("complaint_recurrence_rate", "Recurrence rate", "%", DOWN, RATIO,
        "Share of the complaints received in the period that recur: same product and category as a "
        "complaint received within the recurrence window before them.",
        "complaints", COMPLAINT_FILTERS),
    Kpi("open_complaints", "Open complaints", "count", DOWN, LAST,
        "Complaints received and not yet resolved at the end of the period (rejected ones excluded).",
        "complaints", COMPLAINT_FILTERS, 0),
    Kpi("overdue_complaints", "Overdue complaints", "count", DOWN, LAST,
        "Open complaints at the end of the period whose first-response deadline passed without an "
        "acknowledgement, or whose resolution deadline passed (paused complaints excluded).",
        "complaints", COMPLAINT_FILTERS, 0),
    Kpi("first_response_hours_median", "First response (median)", "h", DOWN, WEIGHTED,
        "Median time from receipt to acknowledgement of the complaints acknowledged in the period, in "
        "elapsed calendar hours (complaints store timestamps, not business-time durations; the SLA "
        "compliance KPIs use the business-time deadlines).",
        "complaints", COMPLAINT_FILTERS),
    Kpi("first_response_hours_p90", "First response (p90)", "h", DOWN, WEIGHTED,
        "90th percentile of the time from receipt to acknowledgement (calendar hours), complaints "
        "acknowledged in the period.",
        "complaints", COMPLAINT_FILTERS),
    Kpi("resolution_hours_median", "Resolution time (median)", "h", DOWN, WEIGHTED,
        "Median time from receipt to resolution of the complaints resolved in the period, in elapsed "
        "calendar hours (waiting for the customer included).",
        "complaints", COMPLAINT_FILTERS),
    Kpi("resolution_hours_p90", "Resolution time (p90)", "h", DOWN, WEIGHTED,
        "90th percentile of the time from receipt to resolution (calendar hours), complaints resolved "
        "in the period.",
        "complaints", COMPLAINT_FILTERS),
    Kpi("sla_first_response_rate", "Acknowledged on time", "%", UP, RATIO,
        "Of the complaints whose first-response deadline (business or calendar time, as the SLA policy "
        "says) fell in the period, the share acknowledged by that deadline.",
        "complaints", COMPLAINT_FILTERS),
    Kpi("sla_resolution_rate", "Resolved on time", "%", UP, RATIO,
        "Of the complaints whose resolution deadline fell in the period (moved by customer pauses), the "
        "share resolved by it. Complaints paused past their deadline are left out until they resume.",
        "complaints", COMPLAINT_FILTERS),
    Kpi("csat", "CSAT", "%", UP, RATIO,
        "Customer satisfaction: share of survey answers in the period scoring 4 or 5 on the 1-5 scale.",
        "surveys", COMPLAINT_FILTERS),
    Kpi("csat_mean", "CSAT (mean)", "score", UP, RATIO,
        "Mean CSAT score (1-5) of the survey answers received in the period.", "surveys", COMPLAINT_FILTERS, 2),
    Kpi("nps", "NPS", "score", UP, RATIO,
        "Net Promoter Score: % promoters (9-10) minus % detractors (0-6) among the survey answers of the "
        "period, from -100 to +100.",
        "surveys", COMPLAINT_FILTERS, 0),
    Kpi("ces", "CES (mean)", "score", DOWN, RATIO,
        "Customer Effort Score: mean answer (1 = very easy ... 7 = very hard) of the survey answers of "
        "the period. Lower is better.",
        "surveys", COMPLAINT_FILTERS, 2),
    Kpi("survey_responses", "Survey answers", "count", UP, SUM,
        "Survey answers received in the period.", "surveys", COMPLAINT_FILTERS, 0),
    Kpi("capa_on_time_rate", "CAPAs closed on time", "%", UP, RATIO,
        "Of the CAPAs closed in the period, the share closed on or before their due date.",
        "capa", ("department",)),
    Kpi("capa_mean_age_days", "Mean age of open CAPAs", "days", DOWN, LAST,
        "Mean age in days (since creation) of the CAPAs open at the end of the period.", "capa", ("department",)),
    Kpi("open_capas", "Open CAPAs", "count", DOWN, LAST,
        "CAPAs created and neither closed nor cancelled at the end of the period.", "capa", ("department",), 0),
    Kpi("capa_effectiveness_rate", "CAPA effectiveness", "%", UP, RATIO,
        "Of the effectiveness checks verified in the period, the share found effective.", "capa", ("department",)),
    Kpi("training_compliance_rate", "Training compliance", "%", UP, LAST,
        "At the end of the period: of the training assignments in force (assigned, not waived or "
        "superseded), the share completed. By the trainee's department.",
        "training", ("department",)),
    Kpi("overdue_training", "Overdue training", "count", DOWN, LAST,
        "Training assignments not completed whose due date has passed at the end of the period.",
        "training", ("department",), 0),
    Kpi("documents_overdue_review", "Documents overdue for review", "count", DOWN, LAST,
        "Effective controlled documents whose periodic review date has passed (ISO 9001 7.5.2). "
        "Measured on the documents' current review dates.",
        "documents", ("department",), 0),
    # service quality (issue 17): evaluations of customer interactions against scorecards.
    Kpi("sq_quality_score", "Quality score (mean)", "score", UP, RATIO,
        "Mean score (0-100) of the evaluations submitted in the period (critical fails included).",
        "service_quality", (), 1),
    Kpi("sq_critical_fail_rate", "Critical-fail rate", "%", DOWN, RATIO,
        "Of the evaluations submitted in the period, the share that failed a critical criterion.",
        "service_quality"),
    Kpi("sq_auto_coverage", "Interactions evaluated automatically", "%", UP, RATIO,
        "Of the communication-log entries of the period, the share the automatic evaluator has analysed.",
        "service_quality"),
    Kpi("sq_human_coverage", "Interactions evaluated by people", "%", UP, RATIO,
        "Of the communication-log entries of the period, the share with a submitted human evaluation.",
        "service_quality"),
    Kpi("sq_coaching_on_time_rate", "Coaching acknowledged on time", "%", UP, RATIO,
        "Of the coaching records due in the period, the share acknowledged by the person on or before the due date.",
        "service_quality"),
)

KPI_BY_CODE = {kpi.code: kpi for kpi in KPIS}
KPI_CHOICES = [(kpi.code, kpi.label) for kpi in KPIS]

# The keys docs/api.md fixes for GET /api/v1/metrics/kpis/; the others are our additions.
API_KEYS = (
    "csat", "nps", "ces", "first_response_hours_median", "resolution_hours_median",
    "complaint_recurrence_rate", "capa_on_time_rate", "training_compliance_rate",
    "open_complaints", "overdue_complaints",
)


# --- periods and filters --------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: datetime.date
    end: datetime.date  # inclusive

    @classmethod
    def last_days(cls, days: int, *, today: datetime.date | None = None) -> Period:
        today = today or timezone.localdate()
        return cls(today - datetime.timedelta(days=days - 1), today)

    @classmethod
    def day(cls, day: datetime.date) -> Period:
        return cls(day, day)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same length just before this one (for the tiles' trend arrows)."""
        end = self.start - datetime.timedelta(days=1)
        return Period(end - datetime.timedelta(days=self.days - 1), end)

    @property
    def start_at(self) -> datetime.datetime:
        return _local_midnight(self.start)

    @property
    def end_at(self) -> datetime.datetime:
        return _local_midnight(self.end + datetime.timedelta(days=1))

    def as_of(self, now: datetime.datetime | None = None) -> datetime.datetime:
        """Where stock KPIs are measured: the end of the period, or now if that is earlier."""
        return min(self.end_at, now or timezone.now())

    @property
    def months(self) -> tuple[datetime.date, datetime.date]:
        """The first days of the first and the last calendar month the period touches."""
        return self.start.replace(day=1), self.end.replace(day=1)

    def __str__(self):
        return f"{self.start:%d %b %Y} – {self.end:%d %b %Y}"


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min), timezone.get_default_timezone())


@dataclass(frozen=True)
class KpiFilters:
    product: int | None = None
    category: int | None = None
    severity: str | None = None
    department: int | None = None

    def complaint_q(self, prefix: str = "") -> Q:
        q = Q()
        if self.product:
            q &= Q(**{f"{prefix}product_id": self.product})
        if self.category:
            q &= Q(**{f"{prefix}category_id": self.category})
        if self.severity:
            q &= Q(**{f"{prefix}severity": self.severity})
        return q

    def department_q(self, path: str) -> Q:
        return Q(**{path: self.department}) if self.department else Q()

    @property
    def is_empty(self) -> bool:
        return not (self.product or self.category or self.severity or self.department)


NO_FILTERS = KpiFilters()


# --- SQL helpers ----------------------------------------------------------------------------


class Percentile(Aggregate):
    """PostgreSQL's percentile_cont(fraction) WITHIN GROUP (ORDER BY expr), FILTER-able."""

    function = "percentile_cont"
    name = "Percentile"
    output_field = FloatField()
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, fraction: float, **extra):
        if not 0 <= fraction <= 1:
            raise ValueError("fraction must be between 0 and 1")
        super().__init__(expression, fraction=repr(float(fraction)), **extra)

    def as_sqlite(self, compiler, connection, **extra_context):
        # make run's embedded SQLite: the same continuous percentile, as the Python aggregate
        # qms_percentile_cont registered on every SQLite connection (metrics/apps.py).
        clone = self.copy()
        clone.template = "qms_percentile_cont(%(expressions)s, %(fraction)s)"
        return clone.as_sql(compiler, connection, **extra_context)


class HoursBetween(Func):
    """Elapsed hours from the first expression to the second, as a float."""

    # date_part gives a double; EXTRACT gives a numeric since PostgreSQL 14, and numeric
    # arithmetic and sorting made the dashboard's percentiles a quarter slower (measured at
    # 100k complaints: the complaint KPI query 71 -> 56 ms, same figures).
    template = "(date_part('epoch', %(expressions)s) / 3600.0)"
    arg_joiner = " - "
    output_field = FloatField()

    def __init__(self, later, earlier, **extra):
        super().__init__(later, earlier, **extra)

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler, connection, template="((julianday(%(expressions)s)) * 24.0)", arg_joiner=") - julianday(", **extra_context
        )


def _at(value: datetime.datetime) -> Value:
    return Value(value, output_field=DateTimeField())


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


def service_quality_aggregates(periods: list[Period]) -> dict[str, QuerySet]:
    """Evaluations submitted, communications and their coverage, coaching due: one row each."""
    from complaints.models import Communication
    from service_quality.models import CoachingRecord, Evaluation

    def evaluations(period):
        submitted = Q(submitted_at__gte=period.start_at, submitted_at__lt=period.end_at)
        return {
            "submitted": Count("id", filter=submitted & Q(score_percent__isnull=False)),
            "score_sum": Sum("score_percent", filter=submitted),
            "critical": Count("id", filter=submitted & Q(is_critical_fail=True)),
            "all_submitted": Count("id", filter=submitted),
        }

    def interactions(period):
        inside = Q(at__gte=period.start_at, at__lt=period.end_at)
        return {
            "entries": Count("id", filter=inside),
            "analysed": Count("id", filter=inside & Q(analysis__isnull=False)),
        }

    def human(period):
        inside = Q(communication__at__gte=period.start_at, communication__at__lt=period.end_at, submitted_at__isnull=False)
        return {"evaluated": Count("communication_id", filter=inside, distinct=True)}

    def coaching(period):
        due = Q(due_on__gte=period.start, due_on__lte=period.end)
        return {"due": Count("id", filter=due), "on_time": Count("id", filter=due & Q(acknowledged_at__date__lte=F("due_on")))}

    start, end = _span(periods)
    return {
        "sq_evaluations": one_row(Evaluation.objects.filter(submitted_at__gte=start, submitted_at__lt=end), **_for_each(periods, evaluations)),
        "sq_interactions": one_row(Communication.objects.filter(at__gte=start, at__lt=end), **_for_each(periods, interactions)),
        "sq_human": one_row(Evaluation.objects.filter(communication__at__gte=start, communication__at__lt=end), **_for_each(periods, human)),
        "sq_coaching": one_row(
            CoachingRecord.objects.filter(due_on__gte=min(p.start for p in periods), due_on__lte=max(p.end for p in periods)),
            **_for_each(periods, coaching),
        ),
    }


def _service_quality_values(e: dict, i: dict, h: dict, k: dict) -> list[KpiValue]:
    def v(code, value, numerator=None, denominator=None):
        return KpiValue(code, _round(value), _round(numerator), _round(denominator))

    return [
        v("sq_quality_score", ratio(e["score_sum"], e["submitted"], 1.0), e["score_sum"], e["submitted"]),
        v("sq_critical_fail_rate", ratio(e["critical"], e["all_submitted"]), e["critical"], e["all_submitted"]),
        v("sq_auto_coverage", ratio(i["analysed"], i["entries"]), i["analysed"], i["entries"]),
        v("sq_human_coverage", ratio(h["evaluated"], i["entries"]), h["evaluated"], i["entries"]),
        v("sq_coaching_on_time_rate", ratio(k["on_time"], k["due"]), k["on_time"], k["due"]),
    ]


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
        **service_quality_aggregates(periods),
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
    for values, sq in zip(result, service_quality_values(rows, n), strict=True):
        values.update(sq)
    return result


def service_quality_values(rows: dict[str, list[dict]], n: int) -> list[dict[str, KpiValue]]:
    """The sq_* KPIs of each of the n periods from the rows of service_quality_aggregates (also
    fetched by the service-quality dashboard with its own parts, so its figures are these)."""
    sq = [_split(rows[name][0], n) for name in ("sq_evaluations", "sq_interactions", "sq_human", "sq_coaching")]
    return [{value.code: value for value in _service_quality_values(*parts)} for parts in zip(*sq, strict=True)]


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


def is_breached(kpi: Kpi, value: float | None, threshold) -> bool:
    """Past the threshold on the bad side. No data is not a breach."""
    if value is None:
        return False
    return value < float(threshold) if kpi.direction == UP else value > float(threshold)


def format_value(kpi: Kpi, value: float | None) -> str:
    if value is None:
        return "no data"
    text = f"{value:,.{kpi.decimals}f}"
    if kpi.code == "nps" and value > 0:
        text = f"+{text}"
    if kpi.unit == "%":
        return f"{text}%"
    if kpi.unit in ("h", "days"):
        return f"{text} {kpi.unit}"
    return text
