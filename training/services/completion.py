"""Completing training: assignment steps (read and understood, waive), sessions with signed
attendance."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from documents.models import DocumentVersion
from qms.errors import IllegalTransition, NotAllowed, ValidationFailed
from qms.history import set_history
from qms.notifications import notify
from qms.signatures import signature_create, verify_signer_password
from qms.workflow import transition
from training.models import (
    AssignmentStatus,
    SessionAttendee,
    TrainingAssignment,
    TrainingSession,
)
from training.services.common import APPROVED
from training.services.release_gate import release_gate_status
from training.services.requirements import _require_quality
from training.workflow import ASSIGNMENT_WORKFLOW, SESSION_MEANING

# ---------------------------------------------------------------- completing


PUBLIC_ACTIONS = ("complete", "waive")


def assignment_transition(assignment, action: str, *, actor, reason: str = "", password=None, meaning=None, data=None):
    """`complete` (the trainee signs "Read and understood") or `waive` (a Quality Manager,
    with a reason, signed). The meaning is the action's: the engine refuses another
    (decision 0049); completion from a session goes through `attendance_sign`."""
    if action not in PUBLIC_ACTIONS:
        raise IllegalTransition(f"'{action}' is not an action you can take on a training assignment.")
    result = transition(
        ASSIGNMENT_WORKFLOW, assignment, action, actor=actor, reason=reason, password=password, meaning=meaning
    )
    _after_done(assignment.document_version_id)
    return result


def _after_done(version_id: int) -> None:
    """When the last needed completion opens a release gate, tell the document owner."""
    version = DocumentVersion.objects.select_related("document__owner").get(pk=version_id)
    if version.status != APPROVED:
        return
    status = release_gate_status(version)
    if status is None or not status.is_met or status.completed - 1 >= status.needed:
        return
    with transaction.atomic():
        notify(
            [version.document.owner],
            subject=f"Training gate met: {version} can become effective",
            body=f"{status.completed} of {status.required_count} people have completed training ({status.percent}%).",
            url=version.get_absolute_url(),
        )


def session_record(
    *, actor, document_version, held_on, attendees, password, duration_minutes: int = 60, location: str = "", notes: str = ""
) -> TrainingSession:
    """A trainer records a session they gave and signs "Training delivered"; each attendee
    then signs their own attendance (attendance_sign)."""
    _require_quality(actor)
    if held_on is None:
        raise ValidationFailed.on("held_on", "Give the day the session was held.")
    if held_on > timezone.localdate():
        raise ValidationFailed.on("held_on", "A session is recorded after it was held.")
    attendee_ids = sorted({getattr(a, "pk", a) for a in attendees or []})
    if not attendee_ids:
        raise ValidationFailed.on("attendees", "Name at least one attendee.")
    if len(attendee_ids) > 200:
        raise ValidationFailed.on("attendees", "At most 200 attendees per session.")
    open_assignments = {
        a.user_id: a
        for a in TrainingAssignment.objects.filter(
            document_version=document_version, user_id__in=attendee_ids, status=AssignmentStatus.ASSIGNED
        )
    }
    missing = set(attendee_ids) - set(open_assignments)
    if missing:
        raise ValidationFailed.on("attendees", "Every attendee must have open training on this revision.")
    verify_signer_password(actor, password)
    with transaction.atomic():
        session = TrainingSession(
            document_version=document_version, trainer=actor, held_on=held_on,
            duration_minutes=duration_minutes, location=(location or "")[:120], notes=notes or "",
        )
        set_history(session, user=actor, reason="Session recorded", action="create")
        session.save()
        SessionAttendee.objects.bulk_create(
            [SessionAttendee(session=session, user_id=uid, assignment=open_assignments[uid]) for uid in attendee_ids]
        )
        session.signature = signature_create(session, signer=actor, meaning="Training delivered")
        set_history(session, user=actor, reason="Trainer signed", action="sign")
        session.save(update_fields=["signature"])
        User = get_user_model()
        notify(
            User.objects.filter(pk__in=attendee_ids),
            subject=f"Sign your attendance: {document_version}",
            body=f"{actor.full_name} recorded your attendance at a training session on {held_on:%d %b %Y}. Sign it to complete your training.",
            url=session.get_absolute_url(),
        )
    return session


def attendance_sign(*, attendee: SessionAttendee, actor, password) -> TrainingAssignment:
    """The attendee signs "Attended training session": completes their assignment."""
    if actor.pk != attendee.user_id:
        raise NotAllowed("Only the attendee can sign their own attendance.")
    result = transition(
        ASSIGNMENT_WORKFLOW, attendee.assignment, "complete", actor=actor, password=password,
        meaning=SESSION_MEANING, data={"session": attendee.session},
    )
    _after_done(attendee.assignment.document_version_id)
    return result
