"""The Celery app. The whole beat schedule is here, in one place (docs/architecture.md rule 4).

Periodic sweeps are short and idempotent; PostgreSQL holds the deadlines, so beat only says
"look now". Managers do not edit the schedule, so a static schedule is enough and we do not run
django-celery-beat's database scheduler (one moving part fewer for `make run`).
"""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qms.settings")

app = Celery("qms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Every periodic task of the product, by its stable task name. Each app adds its sweeps here.
BEAT_SCHEDULE = {
    "deliver-pending-outbox": {"task": "qms.deliver_pending_outbox", "schedule": 60.0},
    # Tamper evidence (issue 8): re-compute the audit-trail hash chains at night, from the last
    # anchors on from Monday to Saturday, every row from the start on Sunday (decision 0050).
    "verify-audit-trail": {
        "task": "qms.verify_audit_trail",
        "schedule": crontab(hour=2, minute=30, day_of_week="mon-sat"),
        "kwargs": {"full": False},
    },
    "verify-audit-trail-full": {
        "task": "qms.verify_audit_trail",
        "schedule": crontab(hour=2, minute=30, day_of_week="sun"),
        "kwargs": {"full": True},
    },
    # capa: recurrence reopen, effectiveness-check reminders, overdue-action escalation.
    "capa-sweep": {"task": "capa.sweep", "schedule": 300.0},
    "escalate-complaints": {"task": "complaints.escalate_complaints", "schedule": 60.0},
    # documents: approved versions become effective on their date; periodic review reminders.
    "documents-release-due-versions": {"task": "documents.release_due_versions", "schedule": 300.0},
    "documents-remind-periodic-reviews": {"task": "documents.remind_periodic_reviews", "schedule": 3600.0},
    # training: reminders before / escalations after the due date; assignments for release-gated
    # approved versions; an hourly reconcile so nobody misses training whatever changed their roles.
    "training-sweep-overdue": {"task": "training.sweep_overdue", "schedule": 3600.0},
    "training-prepare-gated-versions": {"task": "training.prepare_gated_versions", "schedule": 300.0},
    "training-assign-missing": {"task": "training.assign_missing", "schedule": 3600.0},
    # metrics: KPI alerts every 5 minutes and once more after each day ends; yesterday's snapshot.
    "metrics-evaluate-kpi-targets": {"task": "metrics.evaluate_kpi_targets", "schedule": 300.0},
    "metrics-snapshot-kpis": {"task": "metrics.snapshot_kpis", "schedule": crontab(hour=0, minute=5)},
    # service quality: automatic evaluation of new or changed interactions, in batches.
    "service-quality-evaluate-interactions": {"task": "service_quality.evaluate_interactions", "schedule": 300.0},
    # and sampling: evaluation tasks drawn hourly; overdue ones escalated.
    "service-quality-draw-samples": {"task": "service_quality.draw_samples", "schedule": 3600.0},
    "service-quality-escalate-overdue-tasks": {"task": "service_quality.escalate_overdue_tasks", "schedule": 3600.0},
    "metrics-evaluate-after-day-end": {"task": "metrics.evaluate_kpi_targets", "schedule": crontab(hour=0, minute=10)},
}
app.conf.beat_schedule = BEAT_SCHEDULE
