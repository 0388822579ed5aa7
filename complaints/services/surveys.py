"""Customer surveys after resolution: the one-time link, its state, the answer."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from complaints.models import (
    Complaint,
    Survey,
)
from complaints.services.common import SURVEY_VALID_DAYS
from qms.errors import IllegalTransition, ValidationFailed
from qms.history import set_history
from qms.notifications import email_outside_user
from qms.services import system_user

# --- Surveys -------------------------------------------------------------------------------


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def survey_invite(*, complaint: Complaint, now=None) -> Survey | None:
    """Create the one-time survey invitation and queue its e-mail (outbox, sent on commit).
    One survey per complaint: a complaint resolved again after a reopen is not surveyed twice."""
    now = now or timezone.now()
    email = complaint.customer.email
    if not email or complaint.surveys.exists():
        return None
    token = secrets.token_urlsafe(32)
    survey = Survey(
        complaint=complaint, email=email, token_hash=token_digest(token), sent_at=now,
        expires_at=now + timedelta(days=SURVEY_VALID_DAYS),
    )
    set_history(survey, user=system_user(), reason=f"Survey invitation e-mailed to {email}")
    survey.save()
    link = f"{settings.SITE_URL}{reverse('complaints:survey', args=[token])}"
    email_outside_user(
        to_email=email,
        subject=f"How did we handle your complaint {complaint.reference}?",
        body=(
            f"Dear {complaint.customer.name},\n\nyour complaint {complaint.reference} ({complaint.title}) has been "
            f"resolved. Please tell us in one minute how we did:\n\n{link}\n\nThe link works once and "
            f"expires on {timezone.localtime(survey.expires_at):%d %B %Y}.\n\n{settings.QMS_ORGANISATION_NAME}"
        ),
    )
    return survey


class SurveyState:
    OPEN = "open"
    UNKNOWN = "unknown"
    ANSWERED = "answered"
    EXPIRED = "expired"


def survey_by_token(token: str, *, now=None, lock: bool = False) -> tuple[Survey | None, str]:
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        return None, SurveyState.UNKNOWN
    queryset = Survey.objects.select_related("complaint")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    survey = queryset.filter(token_hash=token_digest(token)).first()
    if survey is None:
        return None, SurveyState.UNKNOWN
    if survey.is_answered:
        return survey, SurveyState.ANSWERED
    if survey.is_expired(now):
        return survey, SurveyState.EXPIRED
    return survey, SurveyState.OPEN


def _score(value, name: str, low: int, high: int) -> int:
    """A whole number in [low, high], sent as a number or as its digits."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 2:
        number = int(value.strip())
    else:
        raise ValidationFailed.on(name, f"Choose a number from {low} to {high}.")
    if not low <= number <= high:
        raise ValidationFailed.on(name, f"Choose a number from {low} to {high}.")
    return number


@transaction.atomic
def survey_answer(*, token: str, csat, ces, nps, comment: str = "", now=None) -> Survey:
    """Record the customer's answer once; a used or expired token is refused (IllegalTransition)."""
    now = now or timezone.now()
    survey, state = survey_by_token(token, now=now, lock=True)
    if state == SurveyState.UNKNOWN:
        raise ValidationFailed("This survey link is not valid.")
    if state != SurveyState.OPEN:
        raise IllegalTransition(f"This survey is {state}.")
    errors = {}
    values = {}
    for name, low, high, value in (("csat", 1, 5, csat), ("ces", 1, 7, ces), ("nps", 0, 10, nps)):
        try:
            values[name] = _score(value, name, low, high)
        except ValidationFailed as exc:
            errors.update(exc.field_errors)
    comment = (comment or "").strip()
    if len(comment) > 4000:
        errors["comment"] = ["At most 4000 characters."]
    if errors:
        raise ValidationFailed("Please answer every question.", field_errors=errors)
    survey.csat, survey.ces, survey.nps = values["csat"], values["ces"], values["nps"]
    survey.comment = comment
    survey.answered_at = now
    # The customer has no login: the named system user writes what they answered.
    set_history(survey, user=system_user(), reason="Answered by the customer through the one-time survey link")
    survey.save(update_fields=["csat", "ces", "nps", "comment", "answered_at"])
    return survey
