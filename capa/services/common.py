"""What the CAPA services share: limits, evidence types, the role and text checks, the default
due date of an effectiveness check, the Quality Managers."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from capa.models import (
    DEFAULT_OBSERVATION_DAYS,
)
from qms import roles as qms_roles
from qms.errors import NotAllowed, ValidationFailed
from qms.input import service_text

MAX_WHYS = 10
MAX_CAUSES_PER_CATEGORY = 12
MAX_TEXT = 10000
MAX_SHORT = 500
# Days past the due date after which an open action is escalated to the Quality Managers.
ACTION_SECOND_LEVEL_DAYS = 7
# Evidence files accepted, detected from the content (never from the name).
EVIDENCE_TYPES = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "text/plain": ".txt",
    "text/csv": ".csv",
}


def _require_writer(actor) -> None:
    if qms_roles.is_read_only(actor) or not qms_roles.has_role(actor, *qms_roles.QUALITY):
        raise NotAllowed("Only Quality Staff and Quality Managers may change CAPAs.")


def _quality_user(user, field: str):
    if user is None:
        raise ValidationFailed.on(field, "Choose a person.")
    if not user.is_active or not qms_roles.has_role(user, *qms_roles.QUALITY) or qms_roles.is_read_only(user):
        raise ValidationFailed.on(field, "Choose an active member of the quality team (Quality Staff or Manager).")
    return user


def _text(value, field: str, *, required: bool = False, max_length: int = MAX_TEXT) -> str:
    return service_text(value, field, required=required, max_length=max_length)


def _score(value, field: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed.on(field, "Enter a whole number from 1 to 5.") from None
    if not 1 <= number <= 5:
        raise ValidationFailed.on(field, "Enter a whole number from 1 to 5.")
    return number


def default_check_due_date(implemented_at) -> date:
    return timezone.localdate(implemented_at) + timedelta(days=DEFAULT_OBSERVATION_DAYS)


def quality_managers():
    return qms_roles.users_with_role(qms_roles.MANAGER)
