"""Each rule of the complaint workflow (docs/api.md "Workflows") through the services."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from complaints import services
from complaints.models import Complaint, Survey
from qms.errors import IllegalTransition, NotAllowed, SignatureRejected, ValidationFailed
from qms.models import OutboxMessage, Signature, Transition
from tests.complaints.conftest import advance, hours_ago

pytestmark = pytest.mark.django_db


def test_a_new_complaint_gets_reference_deadlines_and_history(complaint, staff):
    assert complaint.reference.startswith(f"CMP-{timezone.localdate().year}-")
    assert complaint.status == "new"
    assert complaint.first_response_due == complaint.received_at + timedelta(hours=4)
    assert complaint.resolution_due == complaint.received_at + timedelta(hours=24)
    assert complaint.next_escalation_at == complaint.received_at + timedelta(hours=3)  # 75% of 4 h
    entry = complaint.history.get()
    assert entry.history_user == staff and entry.history_action == "create"


def test_received_at_may_be_earlier_but_never_in_the_future(make_complaint):
    yesterday = hours_ago(26)
    earlier = make_complaint(received_at=yesterday)
    assert earlier.first_response_due == yesterday + timedelta(hours=4)
    with pytest.raises(ValidationFailed) as error:
        make_complaint(received_at=timezone.now() + timedelta(hours=1))
    assert "received_at" in error.value.field_errors
    assert Complaint.objects.count() == 1


def test_acknowledge_stores_the_first_response_time_once(complaint, staff):
    advance(complaint, "acknowledge", actor=staff)
    assert complaint.status == "acknowledged"
    assert complaint.acknowledged_at is not None
    assert complaint.assignee == staff  # who acknowledges an unassigned complaint takes it
    first = complaint.acknowledged_at
    advance(complaint, "investigate", "resolve", "reopen", "resolve", actor=staff)
    assert complaint.acknowledged_at == first


def test_full_happy_path_records_each_step(complaint, staff, manager):
    advance(complaint, "acknowledge", "investigate", "resolve", actor=staff)
    advance(complaint, "close", actor=manager)
    assert complaint.status == "closed"
    assert complaint.resolved_at and complaint.closed_at
    steps = list(Transition.objects.filter(object_id=complaint.pk).values_list("action", "actor__username"))
    assert steps == [("acknowledge", "staff"), ("investigate", "staff"), ("resolve", "staff"), ("close", "manager")]
    signature = Signature.objects.get(object_id=complaint.pk)
    assert signature.meaning == "Approved for closure" and signature.signer == manager
    assert complaint.reportability_decided_by == manager
    assert complaint.investigation_decided_by == manager


@pytest.mark.parametrize(
    "status_path,action",
    [
        ([], "investigate"),
        ([], "resolve"),
        ([], "close"),
        (["acknowledge"], "resume"),
        (["acknowledge", "investigate"], "acknowledge"),
        (["acknowledge", "investigate"], "reject"),
        (["acknowledge", "investigate", "resolve"], "wait_for_customer"),
    ],
)
def test_illegal_transitions_are_refused_and_change_nothing(complaint, staff, manager, status_path, action):
    advance(complaint, *status_path, actor=staff)
    before = (complaint.status, complaint.version)
    with pytest.raises(IllegalTransition):
        services.complaint_transition(
            complaint, action, actor=manager, reason="try", password="Correct-Horse-9", data={"resolution": "x"}
        )
    complaint.refresh_from_db()
    assert (complaint.status, complaint.version) == before


def test_unknown_action_is_an_illegal_transition(complaint, staff):
    with pytest.raises(IllegalTransition):
        services.complaint_transition(complaint, "delete", actor=staff)


def test_resolve_needs_a_resolution(complaint, staff):
    advance(complaint, "acknowledge", "investigate", actor=staff)
    with pytest.raises(ValidationFailed) as error:
        services.complaint_transition(complaint, "resolve", actor=staff, data={"resolution": "   "})
    assert "resolution" in error.value.field_errors
    complaint.refresh_from_db()
    assert complaint.status == "investigating" and complaint.resolved_at is None


def test_close_needs_the_regulatory_decision(complaint, staff, manager):
    advance(complaint, "acknowledge", "investigate", "resolve", actor=staff)
    with pytest.raises(ValidationFailed) as error:
        services.complaint_transition(complaint, "close", actor=manager, password="Correct-Horse-9", data={})
    assert {"investigation_required", "is_reportable"} <= set(error.value.field_errors)
    with pytest.raises(ValidationFailed) as error:
        services.complaint_transition(
            complaint, "close", actor=manager, password="Correct-Horse-9",
            data={"investigation_required": "no", "is_reportable": "no", "reportability_reason": "No harm"},
        )
    assert "no_investigation_reason" in error.value.field_errors
    complaint.refresh_from_db()
    assert complaint.status == "resolved" and complaint.closed_at is None


def test_close_is_signed_by_a_manager_with_the_right_password(complaint, staff, manager):
    advance(complaint, "acknowledge", "investigate", "resolve", actor=staff)
    data = {"investigation_required": "yes", "is_reportable": "no", "reportability_reason": "No harm possible"}
    with pytest.raises(NotAllowed):
        services.complaint_transition(complaint, "close", actor=staff, password="Correct-Horse-9", data=data)
    with pytest.raises(SignatureRejected):
        services.complaint_transition(complaint, "close", actor=manager, password="wrong", data=data)
    complaint.refresh_from_db()
    assert complaint.status == "resolved"
    assert not Signature.objects.filter(object_id=complaint.pk).exists()


def test_reject_needs_a_reason(complaint, staff):
    with pytest.raises(ValidationFailed):
        services.complaint_transition(complaint, "reject", actor=staff, reason="")
    services.complaint_transition(complaint, "reject", actor=staff, reason="A question about prices, not a complaint")
    complaint.refresh_from_db()
    assert complaint.status == "rejected" and complaint.next_escalation_at is None


def test_reopen_needs_a_reason_and_clears_the_closure(complaint, staff, manager):
    advance(complaint, "acknowledge", "investigate", "resolve", actor=staff)
    advance(complaint, "close", actor=manager)
    with pytest.raises(ValidationFailed):
        services.complaint_transition(complaint, "reopen", actor=staff, reason="")
    advance(complaint, "reopen", actor=staff, reason="Customer reports the fault again")
    assert complaint.status == "investigating"
    assert complaint.closed_at is None and complaint.resolved_at is None


def test_auditor_and_employee_cannot_take_steps(complaint, auditor, employee):
    for user in (auditor, employee):
        with pytest.raises(NotAllowed):
            services.complaint_transition(complaint, "acknowledge", actor=user)
    complaint.refresh_from_db()
    assert complaint.status == "new"


def test_waiting_for_the_customer_pauses_the_resolution_clock(complaint, staff):
    advance(complaint, "acknowledge", "investigate", "wait_for_customer", actor=staff)
    assert complaint.sla_paused_at is not None
    assert complaint.next_escalation_at is None
    original_due = complaint.resolution_due
    # Pretend the customer took 5 hours to answer.
    Complaint.objects.filter(pk=complaint.pk).update(sla_paused_at=timezone.now() - timedelta(hours=5))
    complaint.refresh_from_db()
    advance(complaint, "resume", actor=staff)
    assert complaint.sla_paused_at is None
    assert complaint.sla_paused_hours == Decimal("5.00")
    assert abs((complaint.resolution_due - original_due) - timedelta(hours=5)) < timedelta(seconds=1)
    assert complaint.next_escalation_at is not None
    entry = complaint.history.order_by("-history_id").first()
    assert entry.history_action == "resume"
    assert entry.sla_paused_hours == Decimal("5.00") and entry.resolution_due == complaint.resolution_due


def test_resolving_creates_one_survey_and_emails_it_on_commit(complaint, staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        advance(complaint, "acknowledge", "investigate", actor=staff)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        advance(complaint, "resolve", actor=staff)
    survey = Survey.objects.get(complaint=complaint)
    assert survey.email == "jane.roe@example.org"
    assert survey.expires_at - survey.sent_at == timedelta(days=30)
    message = OutboxMessage.objects.get(to_email="jane.roe@example.org")
    assert "/complaints/survey/" in message.body
    assert callbacks, "the e-mail is queued on commit"
    assert len(mail.outbox) == 0
    advance(complaint, "reopen", "resolve", actor=staff, reason="again")
    assert Survey.objects.filter(complaint=complaint).count() == 1


def test_severity_change_recomputes_deadlines_with_history(complaint, staff, policies):
    from complaints.models import SlaPolicy

    SlaPolicy.objects.filter(severity="critical").update(first_response_hours=1, resolution_hours=8)
    updated = services.complaint_update(complaint, actor=staff, reason="Patient harm possible", version=complaint.version, severity="critical")
    assert updated.first_response_due == complaint.received_at + timedelta(hours=1)
    assert updated.resolution_due == complaint.received_at + timedelta(hours=8)
    entry = updated.history.order_by("-history_id").first()
    assert entry.history_change_reason == "Patient harm possible"
    assert entry.first_response_due == updated.first_response_due


def test_stale_version_is_refused(complaint, staff):
    from qms.errors import StaleVersion

    services.complaint_update(complaint, actor=staff, reason="typo", version=complaint.version, title="Pump alarm silent")
    with pytest.raises(StaleVersion):
        services.complaint_update(complaint, actor=staff, reason="late edit", version=complaint.version, title="Other")
    complaint.refresh_from_db()
    assert complaint.title == "Pump alarm silent"


def test_closed_complaints_cannot_be_edited(complaint, staff, manager):
    advance(complaint, "acknowledge", "investigate", "resolve", actor=staff)
    advance(complaint, "close", actor=manager)
    with pytest.raises(IllegalTransition):
        services.complaint_update(complaint, actor=staff, reason="x", version=complaint.version, title="Changed")


def test_recurrence_links_same_product_and_failure_mode_within_the_window(make_complaint, product, failure_mode, settings):
    first = make_complaint(product=product, failure_mode=failure_mode, received_at=hours_ago(24 * 30))
    other_category = make_complaint(product=product)
    second = make_complaint(product=product, failure_mode=failure_mode)
    assert second.is_recurring and second.recurrence_of == first
    assert not other_category.is_recurring and not first.is_recurring
    settings.COMPLAINT_RECURRENCE_WINDOW_DAYS = 10
    third_outside = make_complaint(product=product, failure_mode=failure_mode, received_at=hours_ago(24 * 20))
    assert third_outside.is_recurring is False or third_outside.recurrence_of == first
    assert services.find_recurrence(third_outside) in (None, first)


def test_recurrence_window_is_respected(make_complaint, product, failure_mode, settings):
    settings.COMPLAINT_RECURRENCE_WINDOW_DAYS = 10
    make_complaint(product=product, failure_mode=failure_mode, received_at=hours_ago(24 * 20))
    late = make_complaint(product=product, failure_mode=failure_mode)
    assert late.is_recurring is False
    settings.COMPLAINT_RECURRENCE_WINDOW_DAYS = 90
    again = make_complaint(product=product, failure_mode=failure_mode)
    assert again.is_recurring is True


def test_history_of_a_complaint_is_append_only(complaint):
    from django.db import connection, transaction
    from django.db.utils import DatabaseError

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE complaints_historicalcomplaint SET title = 'forged'")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM complaints_historicalcomplaint")
