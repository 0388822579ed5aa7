"""Issue 16 item 3: a complaint keeps the SLA terms in force when it was received (or when its
severity changed); a policy edit applies to new complaints only. Seen on main: a paused
complaint with 24 h left got a 31-minute deadline on resume and a false "breached" escalation."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from complaints import services
from complaints.models import Escalation, SlaPolicy
from tests.complaints.conftest import advance

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def policy_48h(policies):
    """Medium complaints: 4 h first response, 48 h resolution, in elapsed hours."""
    policy = SlaPolicy.objects.get(severity="medium")
    SlaPolicy.objects.filter(pk=policy.pk).update(resolution_hours=Decimal("48"))
    return SlaPolicy.objects.get(pk=policy.pk)


def edit_policy(policy, manager, **changes):
    return services.sla_policy_update(
        SlaPolicy.objects.get(pk=policy.pk),
        actor=manager,
        version=SlaPolicy.objects.get(pk=policy.pk).version,
        reason="Tighter targets from the new quality agreement",
        **changes,
    )


def test_resume_after_a_policy_edit_keeps_the_time_left_and_escalates_nothing(
    policy_48h, make_complaint, staff, manager
):
    # given a complaint received at T0 under 48 h, paused after 24 h with 24 h left
    with time_machine.travel(T0, tick=False):
        complaint = make_complaint(severity="medium")
    assert complaint.resolution_due == T0 + timedelta(hours=48)
    with time_machine.travel(T0 + timedelta(minutes=10), tick=False):
        advance(complaint, "acknowledge", "investigate", actor=staff)
    with time_machine.travel(T0 + timedelta(hours=24), tick=False):
        advance(complaint, "wait_for_customer", actor=staff)
    # when the policy is cut to 24 h while it waits, and the customer answers 6 h later
    with time_machine.travel(T0 + timedelta(hours=29, minutes=29), tick=False):
        edit_policy(policy_48h, manager, resolution_hours=Decimal("24"))
    resumed_at = T0 + timedelta(hours=30)
    with time_machine.travel(resumed_at, tick=False):
        advance(complaint, "resume", actor=staff)
        taken = services.escalate_due_complaints(now=resumed_at)
    # then the deadline still leaves 24 h, and no step (least of all "breached") was taken
    complaint.refresh_from_db()
    assert complaint.sla_paused_hours == Decimal("6.00")
    assert complaint.resolution_due - resumed_at == timedelta(hours=24)
    assert taken == 0 and not Escalation.objects.filter(complaint=complaint).exists()
    assert complaint.escalation_level == 0
    # the 75 % step falls at 36 h of working time, the pause added: T0 + 42 h
    assert complaint.next_escalation_at == T0 + timedelta(hours=42)


def test_a_policy_edit_applies_to_new_complaints_only(policy_48h, make_complaint, manager):
    with time_machine.travel(T0, tick=False):
        before = make_complaint(severity="medium")
        edit_policy(
            policy_48h,
            manager,
            resolution_hours=Decimal("8"),
            escalation_steps=[{"level": 1, "percent": 10, "notify": ["quality_managers"]}],
        )
        after = make_complaint(severity="medium")
    assert (
        before.sla_terms["resolution_hours"] == "48.00" and before.sla_terms["policy_version"] == 1
    )
    assert after.sla_terms["resolution_hours"] == "8.00" and after.sla_terms["policy_version"] == 2
    assert after.resolution_due == T0 + timedelta(hours=8)
    # the sweep an hour later escalates the new complaint on its terms, not the old one
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        services.escalate_due_complaints(now=T0 + timedelta(hours=1))
    assert set(Escalation.objects.values_list("complaint_id", "kind", "level")) == {
        (after.pk, "first_response", 1),
        (after.pk, "resolution", 1),
    }
    before.refresh_from_db()
    assert before.resolution_due == T0 + timedelta(hours=48) and before.escalation_level == 0


def test_a_severity_change_takes_the_new_severitys_terms_and_records_them(
    policy_48h, make_complaint, staff, manager
):
    with time_machine.travel(T0, tick=False):
        complaint = make_complaint(severity="medium")
        edit_policy(SlaPolicy.objects.get(severity="high"), manager, resolution_hours=Decimal("12"))
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        services.complaint_update(
            complaint, actor=staff, reason="Patient involved", version=1, severity="high"
        )
    complaint.refresh_from_db()
    assert (
        complaint.sla_terms["severity"] == "high"
        and complaint.sla_terms["resolution_hours"] == "12.00"
    )
    assert complaint.resolution_due == T0 + timedelta(hours=12)
    entry = complaint.history.order_by("-history_id").first()
    assert (
        entry.sla_terms["resolution_hours"] == "12.00"
        and entry.history_change_reason == "Patient involved"
    )


def test_a_corrected_received_time_keeps_the_terms(policy_48h, make_complaint, staff, manager):
    with time_machine.travel(T0, tick=False):
        complaint = make_complaint(severity="medium")
        edit_policy(policy_48h, manager, resolution_hours=Decimal("8"))
        services.complaint_update(
            complaint,
            actor=staff,
            reason="Received by phone earlier",
            version=1,
            received_at=T0 - timedelta(hours=2),
        )
    complaint.refresh_from_db()
    assert complaint.sla_terms["resolution_hours"] == "48.00"
    assert complaint.resolution_due == T0 + timedelta(hours=46)


def test_the_page_shows_the_complaints_terms_not_the_policys(
    policy_48h, make_complaint, client_for, staff, manager
):
    with time_machine.travel(T0, tick=False):
        complaint = make_complaint(severity="medium")
        edit_policy(policy_48h, manager, resolution_hours=Decimal("8"))
        page = client_for(staff).get(complaint.get_absolute_url()).content.decode()
    assert "4 h / 48 h calendar" in page and "/ 8 h" not in page
