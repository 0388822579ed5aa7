"""Celery tasks of metrics: thin, idempotent wrappers around services.

- metrics.evaluate_kpi_targets: every 5 minutes and after each day ends; the partial unique
  index (one open alert per target) makes a repeat, a second beat or a retry a no-op.
- metrics.snapshot_kpis: after each day ends, yesterday's value of every KPI (an upsert on
  (date, kpi), so a rerun rewrites the same rows)."""

import datetime

from celery import shared_task
from django.utils import timezone

from metrics import services


@shared_task(name="metrics.evaluate_kpi_targets")
def evaluate_kpi_targets() -> dict:
    result = services.evaluate_kpi_targets()
    return {"raised": result.raised, "cleared": result.cleared, "evaluated": result.evaluated}


@shared_task(name="metrics.snapshot_kpis")
def snapshot_kpis(day: str | None = None) -> str:
    """Snapshot `day` (YYYY-MM-DD), by default yesterday (the day that has just ended)."""
    date = datetime.date.fromisoformat(day) if day else timezone.localdate() - datetime.timedelta(days=1)
    services.snapshot_kpis(day=date)
    return date.isoformat()
