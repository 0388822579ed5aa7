"""The CAPA sweeps (docs/architecture.md rule 4): overdue actions, effectiveness checks due and
overdue, and the automatic reopen on recurrence. Each step happens once per (record, kind, level)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from capa import services
from capa.models import Capa, CapaAction, EffectivenessCheck, Escalation
from qms.models import Notification, Transition
from tests.capa.conftest import AFTER_WINDOW, advance, make_capa, make_complaint, today

pytestmark = pytest.mark.django_db


def implementation_with_overdue_action(staff, staff2, days_late=1):
    capa = advance(make_capa(actor=staff), "action_planning", actor=staff, verifier=staff2)
    action = services.action_create(capa, actor=staff, action_type="fix", description="Replace seals", owner=staff2, due_date=today())
    CapaAction.objects.filter(pk=action.pk).update(due_date=today() - timedelta(days=days_late))  # time passes
    return capa, action


def test_overdue_action_is_escalated_once_then_to_managers(staff, staff2, manager):
    capa, action = implementation_with_overdue_action(staff, staff2, days_late=1)
    assert services.escalate_overdue_actions() == 1
    assert services.escalate_overdue_actions() == 0
    row = Escalation.objects.get()
    assert (row.action, row.kind, row.level) == (action, "action_overdue", 1)
    assert set(Notification.objects.filter(subject__startswith="Overdue CAPA action").values_list("recipient__username", flat=True)) == {"staff", "staff2"}
    action.refresh_from_db()
    assert action.escalation_level == 1
    entry = action.history.first()
    assert entry.history_action == "escalate" and entry.history_user.username == "system"
    # Seven more days: level 2 goes to the Quality Managers.
    assert services.escalate_overdue_actions(today=today() + timedelta(days=7)) == 1
    assert Escalation.objects.filter(level=2).get().notified.split(", ") == ["manager", "staff"]
    assert manager.notifications.filter(subject__contains="level 2").exists()
    assert services.escalate_overdue_actions(today=today() + timedelta(days=30)) == 0


def test_done_and_cancelled_actions_are_not_escalated(staff, staff2):
    capa, action = implementation_with_overdue_action(staff, staff2)
    services.action_transition(action, "cancel", actor=staff, reason="Not needed")
    assert services.escalate_overdue_actions() == 0


def test_check_reminder_when_due_then_escalation_when_overdue(staff, staff2, manager):
    capa = advance(make_capa(actor=staff), "effectiveness_check", actor=staff, verifier=staff2)
    check = capa.checks.get()
    assert services.remind_due_checks() == 0  # due in 90 days
    EffectivenessCheck.objects.filter(pk=check.pk).update(due_date=today())
    assert services.remind_due_checks() == 1
    assert services.remind_due_checks() == 0
    assert staff2.notifications.filter(subject__contains="is due").count() == 1
    assert services.remind_due_checks(today=today() + timedelta(days=1)) == 1
    assert Escalation.objects.filter(kind="check_overdue").get().notified == "manager, staff2"
    assert manager.notifications.filter(subject__startswith="Overdue effectiveness check").count() == 1
    assert services.remind_due_checks(today=today() + timedelta(days=5)) == 0


def test_recorded_checks_are_not_reminded(staff, staff2, clock):
    capa = advance(make_capa(actor=staff), "effectiveness_check", actor=staff, verifier=staff2)
    check = capa.checks.get()
    clock.move_to(AFTER_WINDOW)
    services.check_record_result(check, "mark_effective", actor=staff2, evidence="ok")
    EffectivenessCheck.objects.filter(pk=check.pk).update(due_date=today() - timedelta(days=3))
    assert services.remind_due_checks() == 0


def complaint_capa_in_observation(staff, staff2):
    first = make_complaint(actor=staff, received_at=timezone.now() - timedelta(days=30))
    capa = services.capa_create_from_complaint(complaint=first, actor=staff)
    return first, advance(capa, "effectiveness_check", actor=staff, verifier=staff2)


def test_recurrence_during_observation_reopens_the_capa(staff, staff2, manager):
    first, capa = complaint_capa_in_observation(staff, staff2)
    # Complaints that do not count: other category, and one received before implementation.
    from complaints.models import Category

    make_complaint(actor=staff, category=Category.objects.create(name="Noise"))
    make_complaint(actor=staff, received_at=capa.implemented_at - timedelta(minutes=5))
    assert services.detect_recurrences() == 0
    assert Capa.objects.get(pk=capa.pk).status == "effectiveness_check"

    again = make_complaint(actor=staff, title="Seal leaks again")
    assert services.recurrence_complaints(capa).count() == 1
    assert services.detect_recurrences() == 1
    assert services.detect_recurrences() == 0
    capa.refresh_from_db()
    check = capa.checks.get()
    assert capa.status == "action_planning" and capa.reopen_count == 1
    assert check.result == "not_effective" and check.verified_by.username == "system"
    assert again.reference in check.evidence
    reopen = Transition.objects.get(content_type__model="capa", object_id=capa.pk, action="reopen")
    assert reopen.actor.username == "system" and "Recurrence" in reopen.reason
    assert capa.history.filter(history_action="reopen").exists()
    assert staff.notifications.filter(subject__contains="reopened").exists()  # owner
    assert manager.notifications.filter(subject__contains="reopened").exists()
    assert staff2.notifications.filter(subject__contains="recurred").exists()  # verifier
    assert Escalation.objects.get(kind="recurrence").detail.startswith("1 new complaint")


def test_recurrence_after_the_window_does_not_reopen(staff, staff2):
    _, capa = complaint_capa_in_observation(staff, staff2)
    make_complaint(actor=staff)
    assert services.detect_recurrences(today=today() + timedelta(days=91)) == 0
    assert Capa.objects.get(pk=capa.pk).status == "effectiveness_check"


def test_the_capa_page_counts_new_complaints_since_implementation(client_for, staff, staff2):
    _, capa = complaint_capa_in_observation(staff, staff2)
    make_complaint(actor=staff)
    page = client_for(staff).get(capa.get_absolute_url())
    assert page.context["recurrence_count"] == 1
    assert "new complaint with the same problem (recurrence key) since implementation" in page.content.decode()


def test_the_capa_page_counts_recurrences_beyond_the_ten_it_lists(client_for, staff, staff2):
    _first, capa = complaint_capa_in_observation(staff, staff2)
    page = client_for(staff).get(capa.get_absolute_url())
    assert page.context["recurrence_count"] == 0 and page.context["recurrences"] == []
    made = [make_complaint(actor=staff, title=f"Seal leaks again {i}") for i in range(12)]
    page = client_for(staff).get(capa.get_absolute_url())
    assert page.context["recurrence_count"] == 12
    assert [c.pk for c in page.context["recurrences"]] == [c.pk for c in made[:10]]
    assert "<strong>12</strong> new complaints with the same problem" in page.content.decode()
