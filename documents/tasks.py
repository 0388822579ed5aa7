"""Celery tasks of the documents app: thin, idempotent wrappers around services (both sweeps are
in qms.celery.BEAT_SCHEDULE). PostgreSQL holds the dates; beat only says "look now"."""

from celery import shared_task

from documents import services


@shared_task(name="documents.release_due_versions")
def release_due_versions() -> int:
    """Make approved versions effective on their effective date (each superseding its predecessor)."""
    return services.versions_make_due_effective()


@shared_task(name="documents.remind_periodic_reviews")
def remind_periodic_reviews() -> int:
    """Remind owners of periodic reviews falling due; escalate overdue ones."""
    return services.review_reminders_sweep()
