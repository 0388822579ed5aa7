"""Recurrence (decision 0023): the key a complaint is matched on and the earlier complaint it repeats."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from complaints.models import (
    Complaint,
)
from complaints.services.common import recurrence_window_days
from complaints.services.deadlines import _set
from complaints.workflow import ComplaintStatus
from qms.versioning import save_versioned

RECURRENCE_KEY_PARTS = {"product": "product_id", "failure_mode": "failure_mode_id", "category": "category_id", "lot": "lot_number"}


def recurrence_key_parts() -> list[str]:
    """The parts of the recurrence key, from settings.COMPLAINT_RECURRENCE_KEY (decision 0023)."""
    parts = [part.strip() for part in str(settings.COMPLAINT_RECURRENCE_KEY).split(",") if part.strip()]
    unknown = set(parts) - set(RECURRENCE_KEY_PARTS)
    if not parts or unknown:
        raise ImproperlyConfigured(
            f"COMPLAINT_RECURRENCE_KEY lists some of {', '.join(RECURRENCE_KEY_PARTS)}; got {settings.COMPLAINT_RECURRENCE_KEY!r}."
        )
    return parts


def recurrence_key_for(complaint: Complaint) -> str:
    """"product=3|failure_mode=12" (the configured parts, in that order); "" when a part is
    missing, so a complaint without a failure mode is matched with nothing."""
    values = []
    for part in recurrence_key_parts():
        value = getattr(complaint, RECURRENCE_KEY_PARTS[part])
        value = value.strip().upper() if isinstance(value, str) else value
        if value in (None, ""):
            return ""
        values.append(f"{part}={value}")
    return "|".join(values)[:200]


def counts_for_recurrence(complaint: Complaint, *, status: str | None = None) -> bool:
    """selectors.recurrence_counted() on one row: not rejected, not closed as no product problem.
    `status`: the state the complaint is entering, when a workflow step asks."""
    status = status or complaint.status
    if status == ComplaintStatus.REJECTED:
        return False
    return not (status == ComplaintStatus.CLOSED and complaint.is_product_problem is False)


def find_recurrence(complaint: Complaint, *, status: str | None = None, excluding=()) -> Complaint | None:
    """The latest complaint with the same recurrence key received within the window before this
    one (ISO 9001 10.2.1 c: determine whether similar nonconformities exist)."""
    from complaints.selectors import complaint_repeats

    key = recurrence_key_for(complaint)
    if not key or not counts_for_recurrence(complaint, status=status):
        return None
    since = complaint.received_at - timedelta(days=recurrence_window_days())
    return (
        complaint_repeats({key}, since=since, until=complaint.received_at)
        .exclude(pk__in=[complaint.pk, *excluding])
        .order_by("-received_at", "-id")
        .first()
    )


def refresh_recurrence(complaint: Complaint, *, fields, status: str | None = None, excluding=()) -> None:
    """Recompute the key and the link to the earlier complaint it repeats (on intake, when the
    key's fields change, and when the complaint is rejected, closed or reopened)."""
    key = recurrence_key_for(complaint)
    if complaint.recurrence_key != key:
        _set(complaint, fields, "recurrence_key", key)
    earlier = find_recurrence(complaint, status=status, excluding=excluding)
    if complaint.recurrence_of_id != (earlier.pk if earlier else None):
        _set(complaint, fields, "recurrence_of", earlier)
    if complaint.is_recurring != (earlier is not None):
        _set(complaint, fields, "is_recurring", earlier is not None)


def relink_repeats_of(complaint: Complaint, *, actor, status: str) -> None:
    """A complaint that stops counting (rejected, closed as no product problem) is no longer
    the earlier occurrence of the complaints linked to it: link them again, with history."""
    if counts_for_recurrence(complaint, status=status):
        return
    for later in Complaint.objects.select_for_update().filter(recurrence_of_id=complaint.pk).order_by("received_at", "id"):
        fields: list[str] = []
        refresh_recurrence(later, fields=fields, excluding=(complaint.pk,))
        if fields:
            save_versioned(
                later, actor=actor, reason=f"Recurrence link updated: {complaint.reference} no longer counts", fields=fields,
                action="update",
            )
