"""The KPI registry (ISO 9001 9.1.1: what is monitored, how it is measured): each KPI's
code, label, unit and direction, how snapshots roll up, and how a value is shown and judged.

Beside the metrics.kpis package, not in it: the models read the codes (their choices) and the
computation reads the models, so the registry sits below both (no circle, issue 21). The
package exports these names too."""

from __future__ import annotations

from dataclasses import dataclass

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
