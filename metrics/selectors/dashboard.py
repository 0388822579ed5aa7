"""The dashboard in one read: tiles, trends and live charts in one statement (metrics.batch), then
the targets and the open alerts."""

from __future__ import annotations

from dataclasses import dataclass

from metrics import batch, kpis
from metrics.kpis import KpiFilters, Period
from metrics.models import KpiAlert
from metrics.selectors.charts import (
    _category_and_product_names,
    _complaints_by_category_and_product,
    _departments,
    _named_received,
    _pareto,
    _product_rows,
)
from metrics.selectors.tiles import targets_by_kpi, tile_groups
from metrics.selectors.trends import (
    TREND_KPIS,
    _trend_rows,
    bucket_label,
    kpi_trends,
    last_bucket,
    trend_bucket,
)
from metrics.workflow import AlertStatus


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
