"""Completing training: the trainee signs "Read and understood"; a manager waives with a
reason (signed); a trainer records a session and each attendee signs their attendance."""

import datetime

import pytest
from django.utils import timezone

from qms.errors import IllegalTransition, NotAllowed, SignatureRejected, ValidationFailed
from qms.models import SecurityEvent, Transition
from qms.signatures import signatures_for
from tests.conftest import PASSWORD
from tests.training.conftest import new_revision, release_version
from training import services
from training.models import AssignmentStatus, CompletionMethod, TrainingAssignment

pytestmark = pytest.mark.django_db


@pytest.fixture
def mine(requirement, employee, sop):
    return TrainingAssignment.objects.get(user=employee, document_version=sop.effective_version)


def test_another_meaning_than_the_actions_is_refused_and_signs_nothing(mine, employee):
    """Decision 0049: the engine refuses a meaning other than the step's (it used to be
    replaced silently here, so the client believed it had signed what it sent)."""
    with pytest.raises(ValidationFailed) as refused:
        services.assignment_transition(mine, "complete", actor=employee, password=PASSWORD, meaning="Whatever the client says")
    assert "Read and understood" in refused.value.field_errors["meaning"][0]
    mine.refresh_from_db()
    assert mine.status != AssignmentStatus.COMPLETED and not signatures_for(mine).exists()


def test_the_trainee_signs_read_and_understood(mine, employee):
    services.assignment_transition(mine, "complete", actor=employee, password=PASSWORD)
    mine.refresh_from_db()
    assert mine.status == AssignmentStatus.COMPLETED
    assert mine.completion_method == CompletionMethod.READ
    assert mine.completed_at is not None
    signature = signatures_for(mine).get()
    assert signature.signer == employee
    assert signature.meaning == "Read and understood"  # fixed by the action, not by the client
    assert signature.hash_matches
    assert Transition.objects.get(object_id=mine.pk, action="complete").signature == signature
    assert mine.history.first().history_action == "complete"


def test_a_wrong_password_signs_nothing_and_is_recorded(mine, employee):
    with pytest.raises(SignatureRejected):
        services.assignment_transition(mine, "complete", actor=employee, password="wrong")
    mine.refresh_from_db()
    assert mine.status == AssignmentStatus.ASSIGNED
    assert not signatures_for(mine).exists()
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SIGNATURE_FAILED, user=employee).exists()


def test_nobody_signs_for_someone_else(mine, manager, staff):
    for other in (manager, staff):
        with pytest.raises(NotAllowed):
            services.assignment_transition(mine, "complete", actor=other, password=PASSWORD)
    mine.refresh_from_db()
    assert mine.status == AssignmentStatus.ASSIGNED


def test_completing_twice_is_an_illegal_transition(mine, employee):
    services.assignment_transition(mine, "complete", actor=employee, password=PASSWORD)
    with pytest.raises(IllegalTransition):
        services.assignment_transition(mine, "complete", actor=employee, password=PASSWORD)


def test_a_manager_waives_with_a_reason_and_a_signature(mine, manager, staff):
    with pytest.raises(ValidationFailed):
        services.assignment_transition(mine, "waive", actor=manager, password=PASSWORD)
    with pytest.raises(NotAllowed):
        services.assignment_transition(mine, "waive", actor=staff, reason="Not needed", password=PASSWORD)
    services.assignment_transition(mine, "waive", actor=manager, reason="Works nights only, not on this line", password=PASSWORD)
    mine.refresh_from_db()
    assert mine.status == AssignmentStatus.WAIVED
    signature = signatures_for(mine).get()
    assert (signature.signer, signature.meaning) == (manager, "Training waived")
    assert mine.history.first().history_change_reason == "Works nights only, not on this line"


def test_the_system_step_supersede_cannot_be_requested(mine, manager):
    with pytest.raises(IllegalTransition):
        services.assignment_transition(mine, "supersede", actor=manager, reason="Try")


def test_an_auditor_never_signs(mine, auditor):
    with pytest.raises(NotAllowed):
        services.assignment_transition(mine, "waive", actor=auditor, reason="x", password=PASSWORD)


def test_training_on_a_superseded_revision_cannot_be_completed(requirement, sop, staff, manager, employee):
    old = TrainingAssignment.objects.get(user=employee, document_version=sop.effective_version)
    release_version(new_revision(sop, actor=staff), author=staff, approver=manager)
    old.refresh_from_db()
    assert old.status == AssignmentStatus.SUPERSEDED
    with pytest.raises(IllegalTransition):
        services.assignment_transition(old, "complete", actor=employee, password=PASSWORD)


def test_a_session_is_signed_by_the_trainer_and_each_attendee(requirement, sop, staff, employee, trainees):
    version = sop.effective_version
    session = services.session_record(
        actor=staff, document_version=version, held_on=timezone.localdate(), attendees=[employee, trainees[0]],
        password=PASSWORD, location="Line 2", duration_minutes=45,
    )
    assert (session.signature.signer, session.signature.meaning) == (staff, "Training delivered")
    attendee = session.attendees.get(user=employee)
    assert not attendee.has_signed
    with pytest.raises(NotAllowed):
        services.attendance_sign(attendee=attendee, actor=trainees[0], password=PASSWORD)
    services.attendance_sign(attendee=attendee, actor=employee, password=PASSWORD)
    attendee.refresh_from_db()
    attendee.assignment.refresh_from_db()
    assert attendee.has_signed
    assert attendee.assignment.completion_method == CompletionMethod.SESSION
    assert signatures_for(attendee.assignment).get().meaning == "Attended training session"
    other = session.attendees.get(user=trainees[0])
    assert other.assignment.status == AssignmentStatus.ASSIGNED


def test_a_session_refuses_bad_input(requirement, sop, staff, employee, outsider):
    version = sop.effective_version
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(ValidationFailed):
        services.session_record(actor=staff, document_version=version, held_on=tomorrow, attendees=[employee], password=PASSWORD)
    with pytest.raises(ValidationFailed):
        services.session_record(actor=staff, document_version=version, held_on=timezone.localdate(), attendees=[], password=PASSWORD)
    with pytest.raises(ValidationFailed):  # an outsider owes no training on it
        services.session_record(actor=staff, document_version=version, held_on=timezone.localdate(), attendees=[outsider], password=PASSWORD)
    with pytest.raises(NotAllowed):
        services.session_record(actor=employee, document_version=version, held_on=timezone.localdate(), attendees=[employee], password=PASSWORD)
    with pytest.raises(SignatureRejected):
        services.session_record(actor=staff, document_version=version, held_on=timezone.localdate(), attendees=[employee], password="nope")
    assert not version.training_sessions.exists()
