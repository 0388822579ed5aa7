"""KPI alerts and the metrics sections of "My work"."""

from __future__ import annotations

from django.urls import reverse

from metrics.kpis import KPI_BY_CODE, format_value
from metrics.models import KpiAlert, ReviewItem
from metrics.workflow import AlertStatus, ReviewItemStatus
from qms import roles as qms_roles
from qms.mywork import WorkSection


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
