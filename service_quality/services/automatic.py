"""The automatic scores (suggestions an evaluator confirms or overrides with a reason) and the
managed list of friction phrases the automatic evaluator looks for (service_quality/auto.py)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from qms.errors import IllegalTransition, NotAllowed, ValidationFailed
from qms.history import set_history
from service_quality import scoring
from service_quality.models import AutoScore, AutoScoreStatus, FrictionPhrase
from service_quality.permissions import is_evaluator
from service_quality.services.common import _require_scorecard_manager, _text


def _lock_auto_score(auto_score, actor):
    if not is_evaluator(actor):
        raise NotAllowed("Only evaluators confirm or override automatic scores.")
    locked = (
        AutoScore.objects.select_for_update()
        .select_related("analysis", "criterion")
        .get(pk=auto_score.pk)
    )
    if locked.analysis.subject_id == actor.pk:
        raise NotAllowed("Nobody confirms the automatic scores of their own interaction.")
    if locked.status != AutoScoreStatus.SUGGESTED:
        raise IllegalTransition(
            f"This automatic score was {locked.get_status_display().lower()} already."
        )
    return locked


@transaction.atomic
def auto_score_confirm(auto_score, *, actor, reason: str = ""):
    locked = _lock_auto_score(auto_score, actor)
    locked.status, locked.final_answer = AutoScoreStatus.CONFIRMED, locked.answer
    locked.decided_by, locked.decided_at = actor, timezone.now()
    locked.decision_reason = _text(reason, "reason", max_length=2000)
    set_history(locked, user=actor, reason=locked.decision_reason or "Confirmed", action="confirm")
    locked.save(
        update_fields=["status", "final_answer", "decided_by", "decided_at", "decision_reason"]
    )
    return locked


@transaction.atomic
def auto_score_override(auto_score, *, actor, answer: str, reason: str):
    reason = _text(reason, "reason", required=True, max_length=2000)
    locked = _lock_auto_score(auto_score, actor)
    if not scoring.is_valid_answer(locked.criterion.scale, answer):
        raise ValidationFailed.on(
            "answer", f"Answer one of: {', '.join(scoring.ANSWERS[locked.criterion.scale])}."
        )
    if answer == locked.answer:
        raise ValidationFailed.on("answer", "That is the automatic answer: confirm it instead.")
    locked.status, locked.final_answer = AutoScoreStatus.OVERRIDDEN, answer
    locked.decided_by, locked.decided_at, locked.decision_reason = actor, timezone.now(), reason
    set_history(locked, user=actor, reason=reason, action="override")
    locked.save(
        update_fields=["status", "final_answer", "decided_by", "decided_at", "decision_reason"]
    )
    return locked


@transaction.atomic
def friction_phrase_add(*, actor, phrase: str):
    _require_scorecard_manager(actor)
    phrase = _text(phrase, "phrase", required=True, max_length=100).lower()
    if not phrase.rstrip("*").strip() or "*" in phrase.rstrip("*"):
        raise ValidationFailed.on("phrase", "Enter words; a * is allowed only at the end.")
    existing = FrictionPhrase.objects.select_for_update().filter(phrase=phrase).first()
    if existing is not None:
        if existing.is_active:
            raise ValidationFailed.on("phrase", "This phrase is on the list already.")
        existing.is_active = True
        set_history(existing, user=actor, reason="Put back on the list", action="activate")
        existing.save(update_fields=["is_active"])
        return existing
    row = FrictionPhrase(phrase=phrase, created_by=actor)
    set_history(row, user=actor, reason="Added", action="create")
    row.save()
    return row


@transaction.atomic
def friction_phrase_deactivate(row, *, actor, reason: str):
    _require_scorecard_manager(actor)
    reason = _text(reason, "reason", required=True)
    locked = FrictionPhrase.objects.select_for_update().get(pk=row.pk)
    if not locked.is_active:
        raise IllegalTransition("This phrase is off the list already.")
    locked.is_active = False
    set_history(locked, user=actor, reason=reason, action="deactivate")
    locked.save(update_fields=["is_active"])
    return locked
