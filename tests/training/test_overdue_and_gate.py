"""The overdue sweep (remind before, escalate after; idempotent) and training as a release gate."""

import datetime

import pytest
from django.utils import timezone

from documents import services as document_services
from documents.models import DocumentType
from qms.errors import IllegalTransition, NotAllowed, ValidationFailed
from qms.models import Notification
from tests.conftest import PASSWORD, make_user
from tests.training.conftest import approve_version, new_revision
from training import selectors, services
from training.models import AssignmentSource, NoticeKind, TrainingAssignment, TrainingNotice

pytestmark = pytest.mark.django_db


def days(n):
    return timezone.localdate() + datetime.timedelta(days=n)


@pytest.fixture
def mine(requirement, employee, manager, sop):
    employee.manager = manager
    employee.save()
    return TrainingAssignment.objects.get(user=employee, document_version=sop.effective_version)


def test_nothing_is_sent_long_before_the_due_date(mine):
    assert services.overdue_sweep(today=mine.due_date - datetime.timedelta(days=20)) == 0
    assert not TrainingNotice.objects.exists()


def test_the_trainee_is_reminded_once_before_the_due_date(mine, employee):
    today = mine.due_date - datetime.timedelta(days=3)
    assert services.overdue_sweep(today=today) >= 1
    notice = TrainingNotice.objects.get(assignment=mine)
    assert (notice.kind, notice.level) == (NoticeKind.REMINDER, 1)
    assert Notification.objects.filter(recipient=employee, subject__startswith="Training due").count() == 1
    services.overdue_sweep(today=today)
    assert TrainingNotice.objects.filter(assignment=mine).count() == 1
    assert Notification.objects.filter(recipient=employee, subject__startswith="Training due").count() == 1


def test_after_the_due_date_the_manager_is_told_then_the_managers_manager(mine, employee, manager):
    boss = make_user("boss")
    manager.manager = boss
    manager.save()
    services.overdue_sweep(today=mine.due_date + datetime.timedelta(days=1))
    # (Trainees without a manager of their own are escalated to the Quality Managers.)
    assert Notification.objects.filter(recipient=manager, subject__contains=f"escalation 1): {employee.full_name}").count() == 1
    assert TrainingNotice.objects.filter(assignment=mine, kind=NoticeKind.ESCALATION, level=1).exists()
    # The reminder that was never sent is recorded with it, not sent late.
    assert TrainingNotice.objects.get(assignment=mine, kind=NoticeKind.REMINDER).recipients.startswith("not sent")
    assert TrainingNotice.objects.get(assignment=mine, kind=NoticeKind.ESCALATION, level=1).recipients == "employee, manager"
    services.overdue_sweep(today=mine.due_date + datetime.timedelta(days=2))
    assert Notification.objects.filter(recipient=manager, subject__contains=employee.full_name).count() == 1
    services.overdue_sweep(today=mine.due_date + datetime.timedelta(days=14))
    assert Notification.objects.filter(recipient=boss, subject__contains="escalation 2").count() == 1
    services.overdue_sweep(today=mine.due_date + datetime.timedelta(days=30))
    assert TrainingNotice.objects.filter(assignment=mine).count() == 3


def test_completed_training_is_never_chased(mine, employee):
    services.assignment_transition(mine, "complete", actor=employee, password=PASSWORD)
    assert services.overdue_sweep(today=mine.due_date + datetime.timedelta(days=5)) == 3  # the three others
    assert not TrainingNotice.objects.filter(assignment=mine).exists()


def test_overdue_user_ids_flags_only_overdue_training_on_effective_versions(mine, employee, trainees):
    assert selectors.overdue_user_ids(today=mine.due_date) == set()
    later = mine.due_date + datetime.timedelta(days=1)
    assert selectors.overdue_user_ids(today=later) == {employee.pk, *(t.pk for t in trainees)}
    services.assignment_transition(mine, "complete", actor=employee, password=PASSWORD)
    assert employee.pk not in selectors.overdue_user_ids(today=later)


def test_overdue_user_ids_is_one_query(mine, django_assert_num_queries):
    with django_assert_num_queries(1):
        selectors.overdue_user_ids()


# ---------------------------------------------------------------- release gate


@pytest.fixture
def gate(manager):
    return services.release_gate_set(actor=manager, doc_type=DocumentType.SOP, required_percent=50, is_active=True, reason="Retrain before release")


def test_only_a_manager_sets_a_gate_and_bad_values_are_refused(staff, manager):
    with pytest.raises(NotAllowed):
        services.release_gate_set(actor=staff, doc_type="sop", required_percent=100, is_active=True, reason="x")
    for bad in (0, 101, "lots", None):
        with pytest.raises(ValidationFailed):
            services.release_gate_set(actor=manager, doc_type="sop", required_percent=bad, is_active=True, reason="x")
    with pytest.raises(ValidationFailed):
        services.release_gate_set(actor=manager, doc_type="<script>", required_percent=50, is_active=True, reason="x")


def test_a_gated_revision_waits_in_approved_until_enough_people_have_trained(requirement, gate, sop, staff, manager, employee, trainees):
    rev2 = approve_version(new_revision(sop, actor=staff), author=staff, approver=manager)
    # Trainees are assigned while the revision is approved (beat sweep), so they can train first.
    assert services.release_gate_prepare() == 4
    pending = TrainingAssignment.objects.filter(document_version=rev2)
    assert {a.source for a in pending} == {AssignmentSource.RELEASE_GATE}
    # The open training on rev 1 stays open until rev 2 is effective.
    assert TrainingAssignment.objects.filter(document_version=sop.effective_version, status="assigned").count() == 4

    with pytest.raises(IllegalTransition, match="0 of 4"):
        document_services.version_transition(rev2, "make_effective", actor=staff)
    rev2.refresh_from_db()
    assert rev2.status == "approved"

    services.assignment_transition(pending.get(user=employee), "complete", actor=employee, password=PASSWORD)
    status = services.release_gate_status(rev2)
    assert (status.completed, status.required_count, status.needed, status.is_met) == (1, 4, 2, False)
    services.assignment_transition(pending.get(user=trainees[0]), "complete", actor=trainees[0], password=PASSWORD)
    assert services.release_gate_status(rev2).is_met
    assert Notification.objects.filter(recipient=sop.owner, subject__startswith="Training gate met").count() == 1

    document_services.version_transition(rev2, "make_effective", actor=staff)
    result = services.assign_for_version(document_version_id=rev2.pk)
    assert result.created == 0  # they were assigned before release
    assert result.superseded == 4  # the rev 1 assignments
    assert TrainingAssignment.objects.filter(document_version=rev2, status="completed").count() == 2


def test_waived_people_do_not_count_against_the_gate(requirement, sop, staff, manager, employee, trainees):
    services.release_gate_set(actor=manager, doc_type="sop", required_percent=100, is_active=True, reason="All")
    rev2 = approve_version(new_revision(sop, actor=staff), author=staff, approver=manager)
    services.release_gate_prepare()
    for person in trainees:
        a = TrainingAssignment.objects.get(document_version=rev2, user=person)
        services.assignment_transition(a, "waive", actor=manager, reason="On leave", password=PASSWORD)
    status = services.release_gate_status(rev2)
    assert (status.required_count, status.completed, status.is_met) == (1, 0, False)
    services.assignment_transition(TrainingAssignment.objects.get(document_version=rev2, user=employee), "complete", actor=employee, password=PASSWORD)
    assert services.release_gate_status(rev2).is_met


def test_without_a_gate_nothing_is_assigned_before_release(requirement, sop, staff, manager):
    approve_version(new_revision(sop, actor=staff), author=staff, approver=manager)
    assert services.release_gate_prepare() == 0


def test_training_on_a_withdrawn_revision_is_neither_chased_nor_left_open(mine, manager, sop):
    from documents import services as document_services

    document_services.version_transition(sop.effective_version, "obsolete", actor=manager, password=PASSWORD, reason="Withdrawn")
    assert services.overdue_sweep(today=mine.due_date + datetime.timedelta(days=3)) == 0
    assert selectors.overdue_user_ids(today=mine.due_date + datetime.timedelta(days=3)) == set()
    services.assign_missing()
    mine.refresh_from_db()
    assert mine.status == "superseded"
    assert "withdrawn" in mine.history.first().history_change_reason


def test_overdue_user_ids_among_asks_about_those_people_only(mine, employee, trainees, manager, django_assert_num_queries):
    later = mine.due_date + datetime.timedelta(days=1)
    with django_assert_num_queries(1):
        assert selectors.overdue_user_ids(today=later, among={employee.pk, manager.pk}) == {employee.pk}
    assert selectors.overdue_user_ids(today=later, among=[manager.pk]) == set()
    assert selectors.overdue_user_ids(today=mine.due_date, among=[employee.pk]) == set()
