"""The CAPA workflow and its guards, through the services (docs/api.md "Workflows")."""

from datetime import timedelta

import pytest

from capa import services
from capa.models import Capa, CapaAction, Escalation
from qms.errors import IllegalTransition, NotAllowed, SignatureRejected, ValidationFailed
from qms.models import Signature, Transition
from tests.capa.conftest import AFTER_WINDOW, advance, conclude, make_capa, make_complaint, today
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_reference_is_sequential_per_year_with_four_digits(staff):
    first = make_capa(actor=staff)
    second = make_capa(actor=staff)
    year = today().year
    assert first.reference == f"CAPA-{year}-0001"
    assert second.reference == f"CAPA-{year}-0002"


def test_risk_level_comes_from_the_5x5_matrix(staff):
    assert make_capa(actor=staff, severity=1, occurrence=4).risk_level == "low"
    assert make_capa(actor=staff, severity=3, occurrence=3).risk_level == "medium"
    assert make_capa(actor=staff, severity=4, occurrence=4).risk_level == "high"
    assert make_capa(actor=staff, severity=5, occurrence=4).risk_level == "critical"


def test_plan_actions_needs_a_root_cause_conclusion(staff):
    capa = make_capa(actor=staff)
    services.capa_transition(capa, "start_investigation", actor=staff)
    with pytest.raises(IllegalTransition, match="root-cause conclusion"):
        services.capa_transition(capa, "plan_actions", actor=staff)
    capa.refresh_from_db()
    assert capa.status == "investigation"
    conclude(capa, actor=staff)
    services.capa_transition(capa, "plan_actions", actor=staff)
    assert Capa.objects.get(pk=capa.pk).status == "action_planning"


def test_implement_needs_an_action(staff):
    capa = make_capa(actor=staff)
    services.capa_transition(capa, "start_investigation", actor=staff)
    conclude(capa, actor=staff)
    services.capa_transition(capa, "plan_actions", actor=staff)
    with pytest.raises(IllegalTransition, match="at least one action"):
        services.capa_transition(capa, "implement", actor=staff)


def test_verify_needs_every_action_done_and_a_planned_check(staff, manager):
    capa = make_capa(actor=staff)
    services.capa_transition(capa, "start_investigation", actor=staff)
    conclude(capa, actor=staff)
    services.capa_transition(capa, "plan_actions", actor=staff)
    one = services.action_create(capa, actor=staff, action_type="fix", description="Replace seals", owner=staff, due_date=today())
    two = services.action_create(capa, actor=staff, action_type="process_change", description="Inspect incoming seals", owner=staff, due_date=today())
    services.capa_transition(capa, "implement", actor=staff)
    services.action_transition(one, "complete", actor=staff, data={"evidence": "Done"})
    with pytest.raises(IllegalTransition, match="still open"):
        services.capa_transition(capa, "verify", actor=staff)
    services.action_transition(two, "complete", actor=staff, data={"evidence": "Work instruction updated"})
    with pytest.raises(IllegalTransition, match="effectiveness check"):
        services.capa_transition(capa, "verify", actor=staff)
    check = services.check_create(capa, actor=staff, criteria="No leak for 90 days", verifier=manager)
    assert check.due_date is None
    services.capa_transition(capa, "verify", actor=staff)
    capa.refresh_from_db()
    check.refresh_from_db()
    assert capa.status == "effectiveness_check"
    assert capa.implemented_at is not None
    assert check.due_date == services.default_check_due_date(capa.implemented_at)
    assert check.due_date == today() + timedelta(days=90)


def test_completing_an_action_needs_evidence(staff):
    capa = make_capa(actor=staff)
    services.capa_transition(capa, "start_investigation", actor=staff)
    conclude(capa, actor=staff)
    services.capa_transition(capa, "plan_actions", actor=staff)
    action = services.action_create(capa, actor=staff, action_type="fix", description="Replace seals", owner=staff, due_date=today())
    with pytest.raises(ValidationFailed) as error:
        services.action_transition(action, "complete", actor=staff)
    assert "evidence" in error.value.field_errors
    action.refresh_from_db()
    assert action.status == "planned"


def test_close_needs_an_effective_check_and_a_managers_signature(staff, manager, staff2, clock):
    capa = advance(make_capa(actor=staff), "effectiveness_check", actor=staff, verifier=staff2)
    with pytest.raises(IllegalTransition, match="still pending"):
        services.capa_transition(capa, "close", actor=manager, password=PASSWORD)
    check = capa.checks.get()
    clock.move_to(AFTER_WINDOW)
    services.check_record_result(check, "mark_effective", actor=staff2, evidence="No complaint since.")
    with pytest.raises(NotAllowed):
        services.capa_transition(capa, "close", actor=staff, password=PASSWORD)
    with pytest.raises(SignatureRejected):
        services.capa_transition(capa, "close", actor=manager, password="wrong-password")
    with pytest.raises(SignatureRejected):
        services.capa_transition(capa, "close", actor=manager)
    capa.refresh_from_db()
    assert capa.status == "effectiveness_check"
    assert not Signature.objects.filter(object_id=capa.pk, meaning="Approved for closure").exists()
    services.capa_transition(capa, "close", actor=manager, password=PASSWORD, reason="Verified effective")
    capa.refresh_from_db()
    assert capa.status == "closed" and capa.closed_at is not None
    signature = Signature.objects.get(object_id=capa.pk, content_type__model="capa")
    assert signature.signer == manager and signature.meaning == "Approved for closure" and signature.hash_matches


def test_a_not_effective_check_reopens_the_capa_with_history(staff, staff2, manager, clock):
    capa = advance(make_capa(actor=staff), "effectiveness_check", actor=staff, verifier=staff2)
    check = capa.checks.get()
    with pytest.raises(ValidationFailed):
        services.check_record_result(check, "mark_not_effective", actor=staff2, evidence="Two new leaks")
    services.check_record_result(check, "mark_not_effective", actor=staff2, reason="Leaks recur", evidence="Two new leaks in October")
    capa.refresh_from_db()
    assert capa.status == "action_planning"
    assert capa.reopen_count == 1 and capa.implemented_at is None
    reopen = Transition.objects.get(object_id=capa.pk, action="reopen", content_type__model="capa")
    assert reopen.actor == staff2 and "Leaks recur" in reopen.reason
    assert capa.history.filter(history_action="reopen").exists()
    assert manager.notifications.filter(subject__contains="reopened").exists()
    # And it goes round again: a new action, a new check, verified effective, closed.
    action = services.action_create(capa, actor=staff, action_type="process_change", description="Inspect every lot", owner=staff, due_date=today())
    services.check_create(capa, actor=staff, criteria="No leak for 90 more days", verifier=staff2)
    services.capa_transition(capa, "implement", actor=staff)
    services.action_transition(action, "complete", actor=staff, data={"evidence": "Inspection in place"})
    services.capa_transition(capa, "verify", actor=staff)
    with pytest.raises(IllegalTransition, match="still pending"):
        services.capa_transition(capa, "reopen", actor=staff, reason="The old check failed")
    clock.move_to(AFTER_WINDOW)
    services.check_record_result(capa.checks.get(result="pending"), "mark_effective", actor=staff2, evidence="No leak since")
    services.capa_transition(capa, "close", actor=manager, password=PASSWORD)
    assert Capa.objects.get(pk=capa.pk).status == "closed"


def test_reopen_by_hand_needs_a_not_effective_check(staff, staff2, clock):
    capa = advance(make_capa(actor=staff), "effectiveness_check", actor=staff, verifier=staff2)
    with pytest.raises(IllegalTransition, match="still pending"):
        services.capa_transition(capa, "reopen", actor=staff, reason="I think so")
    clock.move_to(AFTER_WINDOW)
    services.check_record_result(capa.checks.get(), "mark_effective", actor=staff2, evidence="Fine")
    with pytest.raises(IllegalTransition, match="not effective"):
        services.capa_transition(capa, "reopen", actor=staff, reason="I think so")
    assert Capa.objects.get(pk=capa.pk).status == "effectiveness_check"


def test_owner_cannot_verify_own_capa(staff, staff2):
    capa = advance(make_capa(actor=staff), "effectiveness_check", actor=staff, verifier=staff2)
    check = capa.checks.get()
    with pytest.raises(NotAllowed, match="owner"):
        services.check_record_result(check, "mark_effective", actor=staff, evidence="Looks fine to me")
    check.refresh_from_db()
    assert check.result == "pending"


def test_owner_cannot_be_named_verifier(staff):
    capa = advance(make_capa(actor=staff), "action_planning", actor=staff, verifier=None)
    with pytest.raises(ValidationFailed) as error:
        services.check_create(capa, actor=staff, criteria="No leaks", verifier=staff)
    assert "verifier" in error.value.field_errors


def test_cancel_is_signed_and_needs_a_reason(staff, manager):
    capa = make_capa(actor=staff)
    with pytest.raises(NotAllowed):
        services.capa_transition(capa, "cancel", actor=staff, reason="Duplicate", password=PASSWORD)
    with pytest.raises(ValidationFailed):
        services.capa_transition(capa, "cancel", actor=manager, password=PASSWORD)
    with pytest.raises(SignatureRejected):
        services.capa_transition(capa, "cancel", actor=manager, reason="Duplicate", password="nope")
    capa.refresh_from_db()
    assert capa.status == "open"
    services.capa_transition(capa, "cancel", actor=manager, reason="Duplicate of CAPA-1", password=PASSWORD)
    capa.refresh_from_db()
    assert capa.status == "cancelled"
    assert Signature.objects.filter(object_id=capa.pk, meaning="Cancelled", signer=manager).exists()


def test_auditor_and_employee_cannot_take_any_step(staff, auditor, employee):
    capa = make_capa(actor=staff)
    for user in (auditor, employee):
        with pytest.raises(NotAllowed):
            services.capa_transition(capa, "start_investigation", actor=user)
        with pytest.raises(NotAllowed):
            make_capa(actor=user, owner=staff)


def test_create_from_complaint_links_it_and_carries_the_facts(staff):
    complaint = make_complaint(actor=staff)
    capa = services.capa_create_from_complaint(complaint=complaint, actor=staff)
    assert capa.source == "complaint"
    assert list(capa.complaints.all()) == [complaint]
    assert complaint.reference in capa.problem_statement
    assert capa.severity == 4  # a high-severity complaint
    assert list(complaint.capas.all()) == [capa]


def test_bad_input_changes_nothing(staff):
    for bad in (
        {"title": ""},
        {"title": "x" * 201},
        {"severity": 6},
        {"occurrence": "often"},
        {"due_date": today() - timedelta(days=1)},
        {"owner": None},
        {"problem_statement": "   "},
    ):
        with pytest.raises(ValidationFailed):
            make_capa(actor=staff, **bad)
    assert Capa.objects.count() == 0


def test_root_cause_rejects_hostile_shapes(staff):
    capa = make_capa(actor=staff)
    for whys, fishbone in (
        ("not a list", {}),
        ([{"why": "only a question"}], {}),
        ([{"why": "w", "because": "b"}] * 11, {}),
        ([], {"weather": ["rain"]}),
        ([], {"people": "tired"}),
        ([], {"people": [{"nested": True}]}),
        ([], {"people": ["x" * 201]}),
    ):
        with pytest.raises(ValidationFailed):
            services.root_cause_save(capa, actor=staff, whys=whys, fishbone=fishbone, conclusion="c")
    capa.root_cause.refresh_from_db()
    assert capa.root_cause.conclusion == ""


def test_document_revision_action_is_done_only_when_a_newer_revision_is_effective(staff, staff2):
    from tests.capa.documents import make_effective_document, make_next_revision_effective

    document = make_effective_document(actor=staff)
    capa = advance(make_capa(actor=staff), "action_planning", actor=staff, verifier=staff2)
    action = services.action_create(
        capa, actor=staff, action_type="document_revision", description="Add seal inspection to SOP", owner=staff, due_date=today(), document=document
    )
    assert action.baseline_revision_index == 1
    services.capa_transition(capa, "implement", actor=staff)
    with pytest.raises(IllegalTransition, match="no newer effective revision"):
        services.action_transition(action, "complete", actor=staff, data={"evidence": "SOP revised"})
    make_next_revision_effective(document, actor=staff)
    services.action_transition(action, "complete", actor=staff, data={"evidence": "SOP revised"})
    action.refresh_from_db()
    assert action.status == "done"


def test_no_escalation_rows_for_a_healthy_capa(staff, staff2):
    advance(make_capa(actor=staff), "effectiveness_check", actor=staff, verifier=staff2)
    assert services.escalate_overdue_actions() == 0
    assert services.remind_due_checks() == 0
    assert Escalation.objects.count() == 0


def test_retraining_action_is_done_only_when_the_role_is_trained(staff, staff2, employee):
    from django.contrib.auth.models import Group

    from tests.capa.documents import make_effective_document
    from training.models import TrainingAssignment

    document = make_effective_document(actor=staff)
    role = Group.objects.get(name="Employee")
    capa = advance(make_capa(actor=staff), "action_planning", actor=staff, verifier=staff2)
    action = services.action_create(
        capa, actor=staff, action_type="retraining", description="Retrain assembly on the SOP", owner=staff, due_date=today(), role=role, document=document
    )
    services.capa_transition(capa, "implement", actor=staff)
    with pytest.raises(IllegalTransition, match="0 of 1 in Employee trained"):
        services.action_transition(action, "complete", actor=staff, data={"evidence": "Session held"})
    assignment = TrainingAssignment.objects.create(
        user=employee, document_version=document.effective_version, document=document, source="version_effective", due_date=today()
    )
    with pytest.raises(IllegalTransition):
        services.action_transition(action, "complete", actor=staff, data={"evidence": "Session held"})
    TrainingAssignment.objects.filter(pk=assignment.pk).update(status="completed")  # the trainee signed
    services.action_transition(action, "complete", actor=staff, data={"evidence": "Session held"})
    assert CapaAction.objects.get(pk=action.pk).status == "done"
