"""Training requirements and the revision impact of a version (major / minor)."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from qms import roles as qms_roles
from qms.errors import IllegalTransition, NotAllowed, ValidationFailed
from qms.history import set_history
from qms.versioning import check_version, save_versioned
from training.models import (
    RevisionImpact,
    TrainingRequirement,
)
from training.services.common import _enqueue

# ---------------------------------------------------------------- requirements


def _require_quality(actor) -> None:
    if qms_roles.is_read_only(actor) or not qms_roles.has_role(actor, *qms_roles.QUALITY):
        raise NotAllowed("Only Quality Staff and Quality Managers manage training requirements.")


def _clean_due_days(value) -> int:
    try:
        days = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed.on("due_days", "Give the due period as a whole number of days.") from None
    if not 1 <= days <= 365:
        raise ValidationFailed.on("due_days", "The due period is between 1 and 365 days.")
    return days


def requirement_create(
    *, actor, document, role: Group | None = None, job_function: str = "", due_days: int = 30,
    only_major_revisions: bool = False, reason: str = ""
) -> TrainingRequirement:
    _require_quality(actor)
    job_function = (job_function or "").strip()
    if bool(role) == bool(job_function):
        raise ValidationFailed.on("role", "Choose either a role or a job function (one of the two).")
    if len(job_function) > 120:
        raise ValidationFailed.on("job_function", "A job function has at most 120 characters.")
    due_days = _clean_due_days(due_days)
    duplicate = TrainingRequirement.objects.filter(document=document, is_active=True)
    duplicate = duplicate.filter(role=role) if role else duplicate.filter(role__isnull=True, job_function__iexact=job_function)
    with transaction.atomic():
        if duplicate.exists():
            raise ValidationFailed.on("document", "This requirement exists already.")
        requirement = TrainingRequirement(
            role=role, job_function=job_function, document=document, due_days=due_days,
            only_major_revisions=bool(only_major_revisions), created_by=actor,
        )
        set_history(requirement, user=actor, reason=reason or "New training requirement", action="create")
        requirement.save()
        transaction.on_commit(lambda: _enqueue("training.assign_for_requirement", requirement.pk))
    return requirement


def requirement_update(requirement, *, actor, version, reason: str, due_days=None, only_major_revisions=None) -> TrainingRequirement:
    _require_quality(actor)
    if not (reason or "").strip():
        raise ValidationFailed.on("reason", "Say why the requirement changes.")
    with transaction.atomic():
        locked = TrainingRequirement.objects.select_for_update().get(pk=requirement.pk)
        check_version(locked, version)
        fields = []
        if due_days is not None:
            locked.due_days = _clean_due_days(due_days)
            fields.append("due_days")
        if only_major_revisions is not None:
            locked.only_major_revisions = bool(only_major_revisions)
            fields.append("only_major_revisions")
        save_versioned(locked, actor=actor, reason=reason, fields=fields, action="update")
    return locked


def requirement_retire(requirement, *, actor, version, reason: str) -> TrainingRequirement:
    """Requirements are retired, never deleted. Open assignments stay open: a manager decides
    (waive) whether the person still needs the training."""
    _require_quality(actor)
    if not (reason or "").strip():
        raise ValidationFailed.on("reason", "Say why the requirement is retired.")
    with transaction.atomic():
        locked = TrainingRequirement.objects.select_for_update().get(pk=requirement.pk)
        check_version(locked, version)
        if not locked.is_active:
            raise IllegalTransition("This requirement is retired already.")
        locked.is_active = False
        save_versioned(locked, actor=actor, reason=reason, fields=["is_active"], action="retire")
    return locked


def revision_impact_set(*, document_version, is_major: bool, actor, reason: str) -> RevisionImpact:
    """Classify a revision (before it is effective) as major or minor for training."""
    _require_quality(actor)
    if not (reason or "").strip():
        raise ValidationFailed.on("reason", "Say why the revision is major or minor.")
    if document_version.revision_index <= 1 and not is_major:
        raise ValidationFailed.on("is_major", "The first revision of a document is always major.")
    if document_version.status not in ("draft", "in_review", "approved"):
        raise IllegalTransition(f"{document_version} is {document_version.status}: its training impact is settled.")
    with transaction.atomic():
        impact = RevisionImpact.objects.select_for_update().filter(document_version=document_version).first()
        if impact is None:
            impact = RevisionImpact(document_version=document_version, is_major=is_major, decided_by=actor)
            set_history(impact, user=actor, reason=reason, action="classify")
            impact.save()
        else:
            impact.is_major = is_major
            impact.decided_by = actor
            impact.decided_at = timezone.now()
            save_versioned(impact, actor=actor, reason=reason, fields=["is_major", "decided_by", "decided_at"], action="classify")
    return impact
