"""Effectiveness checks: plan, due dates, results (decision 0025)."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from capa.models import (
    Capa,
    EffectivenessCheck,
)
from capa.services.capas import capa_transition, notify_reopened
from capa.services.common import _quality_user, _require_writer, _text, default_check_due_date
from capa.workflow import (
    CHECK_PLANNING_STATES,
    CHECK_WORKFLOW,
    CapaStatus,
    CheckResult,
)
from qms.errors import IllegalTransition, ValidationFailed
from qms.history import set_history
from qms.notifications import notify
from qms.versioning import check_version, save_versioned
from qms.workflow import transition

# --- effectiveness checks --------------------------------------------------------------------


@transaction.atomic
def check_create(capa: Capa, *, actor, criteria: str, verifier, due_date: date | None = None) -> EffectivenessCheck:
    _require_writer(actor)
    locked = Capa.objects.select_for_update().get(pk=capa.pk)
    if locked.status not in CHECK_PLANNING_STATES:
        raise IllegalTransition(
            f"Effectiveness checks are planned from action planning on; {locked} is {locked.get_status_display().lower()}."
        )
    criteria = _text(criteria, "criteria", required=True)
    _quality_user(verifier, "verifier")
    if verifier.pk == locked.owner_id:
        # Separation of duties (ISO 13485 8.5.2 f).
        raise ValidationFailed.on("verifier", "The verifier must be someone other than the CAPA owner.")
    if due_date is not None and due_date < timezone.localdate():
        raise ValidationFailed.on("due_date", "The due date cannot be in the past.")
    if due_date is None and locked.implemented_at is not None:
        due_date = default_check_due_date(locked.implemented_at)
    check = EffectivenessCheck(capa=locked, criteria=criteria, verifier=verifier, due_date=due_date, created_by=actor)
    set_history(check, user=actor, reason="Effectiveness check planned", action="create")
    check.save()
    if verifier.pk != actor.pk:
        notify([verifier], subject=f"You verify the effectiveness of {locked.reference}", body=criteria[:500], url=check.get_absolute_url())
    return check


@transaction.atomic
def check_update(check: EffectivenessCheck, *, actor, reason: str, version, verifier) -> EffectivenessCheck:
    """Name another verifier for a pending check: an edit with the person's reason in history
    (the named verifier is the only one who records the result, so who it is must not change
    silently). The old and the new verifier are told."""
    _require_writer(actor)
    reason = _text(reason, "reason", required=True, max_length=4000)
    locked = EffectivenessCheck.objects.select_for_update().select_related("capa", "verifier").get(pk=check.pk)
    check_version(locked, version)
    if locked.result != CheckResult.PENDING or not locked.capa.is_open:
        raise IllegalTransition(f"{locked} has its result; its verifier can no longer change.")
    _quality_user(verifier, "verifier")
    if verifier.pk == locked.capa.owner_id:
        # Separation of duties (ISO 13485 8.5.2 f).
        raise ValidationFailed.on("verifier", "The verifier must be someone other than the CAPA owner.")
    if verifier.pk == locked.verifier_id:
        return locked
    previous = locked.verifier
    locked.verifier = verifier
    save_versioned(locked, actor=actor, reason=reason, fields=["verifier"], action="change_verifier")
    url = locked.get_absolute_url()
    notify([verifier], subject=f"You verify the effectiveness of {locked.capa.reference}", body=f"{actor.full_name}: {reason}"[:500], url=url)
    if previous.pk != actor.pk:
        notify([previous], subject=f"You no longer verify {locked.capa.reference}", body=f"{actor.full_name}: {reason}"[:500], url=url)
    return locked


def check_set_due_date(*, check: EffectivenessCheck, due_date: date, actor) -> None:
    check.due_date = due_date
    save_versioned(check, actor=actor, reason="Default due date: 90 days after implementation", fields=["due_date"], action="schedule")


@transaction.atomic
def check_record_result(
    check: EffectivenessCheck, name: str, *, actor, reason: str = "", evidence: str = "", password=None, meaning=None
) -> EffectivenessCheck:
    """Record effective / not effective. A check found not effective sends the CAPA back to
    action planning (`reopen`) in the same transaction, with the check's reason in history.
    `mark_effective_early` (before the observation window ends) is signed with the meaning
    "Early verification" (the engine refuses another, decision 0049), its reason being the
    justification."""
    check = transition(
        CHECK_WORKFLOW, check, name, actor=actor, reason=reason, password=password, meaning=meaning, data={"evidence": evidence}
    )
    if check.result == CheckResult.NOT_EFFECTIVE:
        capa = capa_transition(
            Capa.objects.get(pk=check.capa_id),
            "reopen",
            actor=actor,
            reason=f"Effectiveness check not effective: {reason}",
        )
        notify_reopened(capa, reason=reason)
    elif check.result == CheckResult.EFFECTIVE:
        from capa.handoffs import announce_closure

        capa = Capa.objects.get(pk=check.capa_id)
        if capa.status == CapaStatus.EFFECTIVENESS_CHECK and not capa.checks.filter(result=CheckResult.PENDING).exists():
            announce_closure(capa)
    return check


def check_transition(check: EffectivenessCheck, name: str, *, actor, reason: str = "", password=None, meaning=None, data=None):
    """The API's transitions/ shape for a check: the evidence comes in `data`."""
    evidence = (data or {}).get("evidence", "")
    if not isinstance(evidence, str):
        raise ValidationFailed.on("evidence", "Enter text.")
    return check_record_result(check, name, actor=actor, reason=reason, evidence=evidence, password=password, meaning=meaning)
