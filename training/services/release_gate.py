"""Release gates (decision 0026): a version of a gated type becomes effective only when enough of
its trainees have completed it."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from documents.models import DocumentVersion
from qms import roles as qms_roles
from qms.errors import IllegalTransition, NotAllowed, ValidationFailed
from qms.history import set_history
from qms.versioning import save_versioned
from training.models import (
    AssignmentSource,
    AssignmentStatus,
    ReleaseGate,
    TrainingAssignment,
    TrainingRequirement,
)
from training.services.assignment import _ensure_assignments, required_users
from training.services.common import APPROVED, _enqueue, release_gate_for

# ---------------------------------------------------------------- release gate


@dataclass
class GateStatus:
    required_percent: int
    required_count: int  # people who must train (waived ones excluded)
    completed: int
    needed: int  # completions needed to open the gate
    waived: int = 0
    # Only looked up when nobody must train: does any active requirement name the document?
    has_requirement: bool | None = None

    @property
    def percent(self) -> int:
        return 100 if not self.required_count else int(self.completed * 100 // self.required_count)

    @property
    def is_met(self) -> bool:
        return self.completed >= self.needed

    @property
    def has_trainees(self) -> bool:
        """False: the gate holds nothing back because nobody is required to train (issue 16
        item 6: shown as such to the approver, never as "0 of 0 (100 %)")."""
        return self.required_count > 0

    @property
    def no_trainee_reason(self) -> str:
        if self.has_trainees:
            return ""
        if self.waived:
            return f"everyone required ({self.waived}) has been waived"
        if not self.has_requirement:
            return "no active training requirement names this document"
        return "the roles and job functions its requirements name have no active member"


def release_gate_status(version) -> GateStatus | None:
    """None when the document's type has no active gate. Counts people required now (from the
    requirements, not from assignments, so a gate cannot pass because nobody was assigned)."""
    gate = release_gate_for(version)
    if gate is None:
        return None
    required = set(required_users(version))
    states = dict(
        TrainingAssignment.objects.filter(document_version=version, user_id__in=required).values_list("user_id", "status")
    )
    waived = {uid for uid, s in states.items() if s == AssignmentStatus.WAIVED}
    completed = sum(1 for s in states.values() if s == AssignmentStatus.COMPLETED)
    count = len(required - waived)
    needed = -(-count * gate.required_percent // 100)  # ceiling
    has_requirement = None
    if count == 0:
        has_requirement = TrainingRequirement.objects.filter(document_id=version.document_id, is_active=True).exists()
    return GateStatus(
        required_percent=gate.required_percent,
        required_count=count,
        completed=completed,
        needed=needed,
        waived=len(waived & required),
        has_requirement=has_requirement,
    )


def release_gate_check(version) -> None:
    """The release gate documents' make_effective runs (registered as a release check in
    qms.extensions by TrainingConfig.ready)."""
    status = release_gate_status(version)
    if status is not None and not status.is_met:
        raise IllegalTransition(
            f"Training release gate: {status.completed} of {status.required_count} people have completed training "
            f"on {version} ({status.percent}%); {status.required_percent}% must have before it can become effective."
        )


def release_gate_set(*, actor, doc_type: str, required_percent, is_active: bool, reason: str) -> ReleaseGate:
    from documents.models import DocumentType

    if qms_roles.is_read_only(actor) or not qms_roles.has_role(actor, qms_roles.MANAGER):
        raise NotAllowed("Only a Quality Manager sets release gates.")
    if doc_type not in DocumentType.values:
        raise ValidationFailed.on("doc_type", "Unknown document type.")
    try:
        percent = int(required_percent)
    except (TypeError, ValueError):
        raise ValidationFailed.on("required_percent", "Give a whole percentage.") from None
    if not 1 <= percent <= 100:
        raise ValidationFailed.on("required_percent", "The share is between 1 and 100%.")
    if not (reason or "").strip():
        raise ValidationFailed.on("reason", "Say why the gate changes.")
    with transaction.atomic():
        gate = ReleaseGate.objects.select_for_update().filter(doc_type=doc_type).first()
        if gate is None:
            gate = ReleaseGate(doc_type=doc_type, required_percent=percent, is_active=bool(is_active))
            set_history(gate, user=actor, reason=reason, action="create")
            gate.save()
        else:
            gate.required_percent = percent
            gate.is_active = bool(is_active)
            save_versioned(gate, actor=actor, reason=reason, fields=["required_percent", "is_active"], action="update")
    if gate.is_active:
        transaction.on_commit(lambda: _enqueue("training.prepare_gated_versions"))
    return gate


def release_gate_prepare() -> int:
    """Beat sweep: approved versions of gated types get their assignments before release."""
    gated_types = ReleaseGate.objects.filter(is_active=True).values("doc_type")
    created = 0
    for version_id in DocumentVersion.objects.filter(status=APPROVED, document__doc_type__in=gated_types).values_list("pk", flat=True):
        created += _ensure_assignments(version_id, source=AssignmentSource.RELEASE_GATE).created
    return created
