"""What the complaint services share: survey validity, clock skew, the recurrence window, the
quality-role check."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings

from qms import roles as qms_roles
from qms.errors import NotAllowed

SURVEY_VALID_DAYS = 30
CLOCK_SKEW = timedelta(minutes=2)  # a browser clock slightly ahead is not "in the future"


def recurrence_window_days() -> int:
    return int(getattr(settings, "COMPLAINT_RECURRENCE_WINDOW_DAYS", 90))


def _require_quality(actor) -> None:
    if qms_roles.is_read_only(actor) or not qms_roles.has_role(actor, *qms_roles.QUALITY):
        raise NotAllowed("Only Quality Staff and Quality Managers may change complaints.")
