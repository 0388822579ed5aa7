"""Celery tasks of the complaints app: thin, idempotent wrappers around services."""

from celery import shared_task

from complaints import services


@shared_task(name="complaints.escalate_complaints")
def escalate_complaints() -> int:
    """Beat sweep (every minute): escalate every complaint whose next step is due. Safe to run
    twice at once: rows are claimed with SKIP LOCKED and each step is unique per complaint."""
    return services.escalate_due_complaints()
