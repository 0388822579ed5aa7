"""Celery tasks of the CAPA app: thin wrappers around the services' sweeps, safe to run twice
or at once (the unique (record, kind, level) rows make a repeat a no-op)."""

from celery import shared_task

from capa import services


@shared_task(name="capa.escalate_overdue_actions")
def escalate_overdue_actions() -> int:
    return services.escalate_overdue_actions()


@shared_task(name="capa.remind_effectiveness_checks")
def remind_effectiveness_checks() -> int:
    return services.remind_due_checks()


@shared_task(name="capa.detect_recurrences")
def detect_recurrences() -> int:
    return services.detect_recurrences()


@shared_task(name="capa.sweep")
def sweep() -> dict:
    """The beat entry point: recurrences first (a reopened CAPA needs no reminder), then
    check reminders, then overdue actions."""
    return {
        "reopened": services.detect_recurrences(),
        "recurred_after_closure": services.flag_recurrences_after_closure(),
        "check_reminders": services.remind_due_checks(),
        "action_escalations": services.escalate_overdue_actions(),
    }
