"""The management review input pack (ISO 9001 9.3.2), frozen on the review when it is held."""

from __future__ import annotations

from django.db.models import Count, Q
from django.utils import timezone

from metrics.kpis import (
    DOWN,
    KPI_BY_CODE,
    KPIS,
    UP,
    Kpi,
    KpiFilters,
    Period,
    compute_kpis,
    format_value,
    is_breached,
)
from metrics.models import KpiAlert, ManagementReview, ReviewItem
from metrics.selectors.charts import _one, category_pareto, product_rates, training_by_department
from metrics.selectors.tiles import targets_by_kpi


def _iso(value):
    return value.isoformat() if value else None


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
