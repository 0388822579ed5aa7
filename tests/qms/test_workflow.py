"""The workflow engine (issue 2 item 6, docs/architecture.md rule 1): one transition() that locks,
checks state, role, reason, guard and signature, and writes everything or nothing."""

import hashlib
import json

import pytest
from django.db import transaction

from qms.errors import IllegalTransition, NotAllowed, SignatureRejected, ValidationFailed
from qms.models import SecurityEvent, Signature, Transition
from qms.signatures import signatures_for
from qms.workflow import transitions_for
from tests.conftest import PASSWORD
from tests.kernel_app import workflow as specimen_workflow
from tests.kernel_app.models import Specimen
from tests.kernel_app.services import specimen_transition


def snapshot(record):
    """Everything a transition may write, to prove that a refused one wrote nothing."""
    fresh = Specimen.objects.get(pk=record.pk)
    return {
        "status": fresh.status,
        "version": fresh.version,
        "approved_at": fresh.approved_at,
        "history": fresh.history.count(),
        "transitions": Transition.objects.count(),
        "signatures": Signature.objects.count(),
    }


def test_an_action_the_workflow_does_not_know_is_an_illegal_transition(specimen, staff):
    before = snapshot(specimen)
    with pytest.raises(IllegalTransition, match="'teleport' is not an action"):
        specimen_transition(specimen, "teleport", actor=staff)
    assert snapshot(specimen) == before


def test_an_action_from_the_wrong_state_is_an_illegal_transition_naming_the_state(
    specimen, manager
):
    before = snapshot(specimen)
    with pytest.raises(IllegalTransition, match="it is draft"):
        specimen_transition(specimen, "approve", actor=manager, password=PASSWORD)
    assert snapshot(specimen) == before


def test_a_role_without_the_action_is_refused(specimen, staff, employee, auditor):
    specimen_transition(specimen, "submit", actor=staff)
    before = snapshot(specimen)
    for user in (staff, employee, auditor):
        with pytest.raises(NotAllowed):
            specimen_transition(specimen, "approve", actor=user, password=PASSWORD)
    assert snapshot(specimen) == before


def test_an_auditor_is_refused_even_when_also_holding_a_writing_role(specimen, auditor):
    from django.contrib.auth.models import Group

    auditor.groups.add(Group.objects.get(name="Quality Staff"))
    auditor._qms_roles = None
    before = snapshot(specimen)
    with pytest.raises(NotAllowed):
        specimen_transition(specimen, "submit", actor=auditor)
    assert snapshot(specimen) == before


def test_an_action_that_needs_a_reason_is_refused_without_one(specimen, staff):
    before = snapshot(specimen)
    for blank in ("", "   ", None):
        with pytest.raises(ValidationFailed) as refused:
            specimen_transition(specimen, "withdraw", actor=staff, reason=blank)
        assert "reason" in refused.value.field_errors
    assert snapshot(specimen) == before


def test_a_failing_guard_refuses_the_step_and_writes_nothing(make_specimen, staff):
    specimen = make_specimen(staff, summary="")
    before = snapshot(specimen)
    with pytest.raises(IllegalTransition, match="Write a summary"):
        specimen_transition(specimen, "submit", actor=staff)
    assert snapshot(specimen) == before


def test_a_signed_action_from_the_wrong_state_is_a_conflict_before_the_password_is_checked(
    specimen, manager
):
    """A stale page's signed step answers 409 (wrong state), not 403 (bad signature), whatever
    password was typed; and no failed-signature event is recorded for it."""
    before = snapshot(specimen)
    for password in (PASSWORD, "not-my-password", None):
        with pytest.raises(IllegalTransition, match="it is draft"):
            specimen_transition(specimen, "approve", actor=manager, password=password)
    assert snapshot(specimen) == before
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SIGNATURE_FAILED).exists()


def test_a_wrong_signature_password_changes_nothing_and_is_recorded(specimen, staff, manager):
    specimen_transition(specimen, "submit", actor=staff)
    before = snapshot(specimen)
    for password in ("not-my-password", "", None):
        with pytest.raises(SignatureRejected):
            specimen_transition(
                specimen, "approve", actor=manager, password=password, reason="Looks right"
            )
    assert snapshot(specimen) == before
    # An empty password is a missing input; a wrong one is a security event.
    events = SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SIGNATURE_FAILED, user=manager)
    assert events.count() == 1
    assert specimen_workflow.SIDE_EFFECTS == []


def test_a_successful_step_writes_status_version_transition_and_history(specimen, staff):
    specimen_transition(specimen, "submit", actor=staff, reason="Ready for review")
    # The caller's object is updated too.
    assert specimen.status == "in_review"
    assert specimen.version == 2
    fresh = Specimen.objects.get(pk=specimen.pk)
    assert (fresh.status, fresh.version) == ("in_review", 2)

    (step,) = transitions_for(fresh)
    assert (step.action, step.from_state, step.to_state, step.actor, step.reason) == (
        "submit",
        "draft",
        "in_review",
        staff,
        "Ready for review",
    )
    assert step.signature is None

    latest = fresh.history.order_by("-history_id").first()
    assert latest.history_user == staff
    assert latest.history_change_reason == "Ready for review"
    assert latest.history_action == "submit"
    assert latest.status == "in_review"
    assert fresh.history.count() == 2  # created, submitted


def test_a_signed_step_writes_a_signature_with_the_sha256_of_the_signed_content(
    specimen, staff, manager
):
    specimen_transition(specimen, "submit", actor=staff)
    specimen_transition(
        specimen, "approve", actor=manager, password=PASSWORD, reason="Meets the spec"
    )
    fresh = Specimen.objects.get(pk=specimen.pk)
    assert fresh.status == "approved" and fresh.approved_at is not None and fresh.version == 3

    (signature,) = signatures_for(fresh)
    assert signature.signer == manager
    assert signature.signer_name == "Manager Tester"
    assert signature.meaning == "Approved"
    assert signature.reason == "Meets the spec"
    # The hash covers the record as approved, recomputed here independently of the kernel.
    assert signature.content["model"] == "kernel_app.specimen"
    fields = signature.content["fields"]
    assert fields["status"] == "approved"
    assert fields["title"] == fresh.title and fields["reference"] == fresh.reference
    assert fields["approved_at"] == str(fresh.approved_at)
    canonical = json.dumps(
        signature.content, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert signature.content_hash == hashlib.sha256(canonical.encode()).hexdigest()
    assert signature.hash_matches

    step = transitions_for(fresh).get(action="approve")
    assert step.signature == signature
    assert fresh.history.order_by("-history_id").first().history_action == "approve"


def test_a_signature_with_a_different_meaning_is_refused_and_changes_nothing(specimen, staff, manager):
    """Decision 0049: the signature says what the step is; another meaning is refused."""
    specimen_transition(specimen, "submit", actor=staff)
    with pytest.raises(ValidationFailed) as refused:
        specimen_transition(
            specimen, "approve", actor=manager, password=PASSWORD, meaning="Reviewed and approved"
        )
    assert "meaning" in refused.value.field_errors
    assert not signatures_for(specimen).exists()
    assert not transitions_for(specimen).filter(action="approve").exists()
    assert not SecurityEvent.objects.exists()  # refused before the password is checked
    specimen_transition(specimen, "approve", actor=manager, password=PASSWORD, meaning=" APPROVED ")
    assert signatures_for(specimen).get().meaning == "Approved"


def test_available_actions_follow_state_and_role(specimen, staff, manager, auditor, employee):
    wf = specimen_workflow.SPECIMEN_WORKFLOW
    assert [a.name for a in wf.available(specimen, staff)] == ["submit", "withdraw"]
    assert wf.available(specimen, auditor) == []
    assert wf.available(specimen, employee) == []
    specimen_transition(specimen, "submit", actor=staff)
    assert [a.name for a in wf.available(specimen, manager)] == ["approve", "send_back", "withdraw"]


@pytest.mark.django_db(transaction=True)
def test_side_effects_run_only_after_the_commit(staff, manager, make_specimen):
    specimen = make_specimen(staff)
    specimen_transition(specimen, "submit", actor=staff)

    # Rolled back: the side effect never happens.
    with pytest.raises(RuntimeError), transaction.atomic():
        specimen_transition(specimen, "approve", actor=manager, password=PASSWORD)
        raise RuntimeError("the caller fails after the transition")
    assert specimen_workflow.SIDE_EFFECTS == []
    assert Specimen.objects.get(pk=specimen.pk).status == "in_review"

    # Committed: it happens once, and not before the commit.
    with transaction.atomic():
        specimen_transition(specimen, "approve", actor=manager, password=PASSWORD)
        assert specimen_workflow.SIDE_EFFECTS == []
    assert [("approved", specimen.pk)] == specimen_workflow.SIDE_EFFECTS


def test_workflow_declarations_are_checked():
    from qms.workflow import Action, Workflow
    from tests.kernel_app.models import SpecimenStatus

    with pytest.raises(ValueError, match="unknown states"):
        Workflow(
            states=SpecimenStatus,
            actions=[Action("x", sources=["draft"], target="nowhere", roles=set())],
        )
    with pytest.raises(ValueError, match="duplicate"):
        Workflow(
            states=SpecimenStatus,
            actions=[Action("x", sources=["draft"], target="approved", roles=set())] * 2,
        )
    with pytest.raises(ValueError, match="needs a meaning"):
        Action("sign", sources=["draft"], target="approved", roles=set(), needs_signature=True)
