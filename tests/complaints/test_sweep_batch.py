"""The escalation sweep works a batch of claimed complaints in bulk (issue 9): its number of SQL
queries does not grow with the number of due complaints, its history rows keep the hash chain
intact, and a batch that fails is rolled back as a whole."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from complaints import services
from complaints.models import Complaint, Escalation
from qms.audit.verify import verify_audit_trail
from qms.models import Notification, OutboxMessage
from qms.services import system_user
from tests.complaints.conftest import ensure_policies, hours_ago

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def system(db):
    # Created once, before any sweep is counted (the first sweep would create it).
    return system_user()


def make_due(make_complaint, staff, n):
    """n complaints received 4.5 h ago: the 75 % and 100 % first-response steps (of 4 h) are due."""
    return [
        make_complaint(title=f"Late {i}", assignee=staff, received_at=hours_ago(4.5))
        for i in range(n)
    ]


def sweep_queries(**kwargs):
    with CaptureQueriesContext(connection) as context:
        taken = services.escalate_due_complaints(**kwargs)
    return taken, [q["sql"][:200] for q in context.captured_queries]


def test_the_sweep_costs_the_same_queries_for_5_or_50_due_complaints(
    make_complaint, staff, manager, django_assert_max_num_queries
):
    make_due(make_complaint, staff, 5)
    taken, small = sweep_queries()
    assert taken == 10
    make_due(make_complaint, staff, 50)
    with django_assert_max_num_queries(len(small)):
        taken, large = sweep_queries()
    assert taken == 100
    assert len(small) == len(large), "\n".join(["5 due:", *small, "", "50 due:", *large])
    print(f"escalation sweep: {len(small)} queries for one batch")
    assert services.escalate_due_complaints() == 0


def test_the_queries_grow_with_the_batches_not_with_the_complaints(make_complaint, staff, manager):
    make_due(make_complaint, staff, 5)
    _, one_batch = sweep_queries()
    make_due(make_complaint, staff, 30)
    taken, three_batches = sweep_queries(batch_size=10)
    assert taken == 60
    # Read once per sweep: the system user and the Quality Managers; then three full batches
    # and a fourth claim that finds nothing (inside the test's transaction each batch is a
    # savepoint: SAVEPOINT, claim, RELEASE).
    per_batch = len(one_batch) - 2
    assert len(three_batches) <= 2 + 3 * per_batch + 3, "\n".join(three_batches)


def test_a_bulk_sweep_writes_chained_history_and_the_trail_verifies(make_complaint, staff, manager):
    complaints = make_due(make_complaint, staff, 12)
    versions = {c.pk: c.version for c in complaints}
    history_before = {c.pk: c.history.count() for c in complaints}
    assert services.escalate_due_complaints(batch_size=5) == 24

    for complaint in Complaint.objects.filter(pk__in=versions):
        assert complaint.escalation_level == 2
        assert complaint.version == versions[complaint.pk] + 1
        assert complaint.next_escalation_at == complaint.received_at + timedelta(hours=6)
        assert complaint.history.count() == history_before[complaint.pk] + 1
        entry = complaint.history.order_by("-history_id").first()
        assert entry.history_type == "~"
        assert entry.history_user.username == "system"
        assert entry.history_action == "escalate"
        assert entry.history_change_reason == (
            "SLA escalation: first_response level 1 (75%), first_response level 2 (100%)"
        )
        assert entry.escalation_level == 2 and entry.version == complaint.version
        assert entry.next_escalation_at == complaint.next_escalation_at

    # Same rows as the one-by-one sweep wrote: per complaint, level 1 to the assignee, level 2
    # to the assignee and the managers, with an e-mail each.
    assert Escalation.objects.count() == 24
    assert Notification.objects.filter(subject__startswith="Escalation level 1").count() == 12
    assert Notification.objects.filter(subject__startswith="Escalation level 2").count() == 24
    assert OutboxMessage.objects.filter(subject__startswith="Escalation").count() == 36
    note = Notification.objects.filter(
        subject__startswith="Escalation level 2", recipient=manager
    ).first()
    message = OutboxMessage.objects.get(notification=note)
    assert message.to_email == "manager@example.com" and message.body.startswith(note.body)
    assert message.body.endswith(note.url)

    # Later saves chain onto the bulk-written rows.
    services.complaint_update(
        complaints[0],
        actor=staff,
        reason="lot known",
        version=versions[complaints[0].pk] + 1,
        lot_number="L-1",
    )
    result = verify_audit_trail(store=False)
    assert result.is_intact, result.breaks


def test_a_complaint_with_nothing_due_is_rescheduled_with_history(make_complaint, staff):
    complaint = make_due(make_complaint, staff, 1)[0]
    # A stale schedule: the next step was stored as due now, but it is not.
    Complaint.objects.filter(pk=complaint.pk).update(next_escalation_at=hours_ago(0))
    Escalation.objects.bulk_create(
        [
            Escalation(
                complaint=complaint,
                kind="first_response",
                level=level,
                percent=percent,
                due_at=hours_ago(1),
            )
            for level, percent in ((1, 75), (2, 100))
        ]
    )
    assert services.escalate_due_complaints() == 0
    complaint.refresh_from_db()
    assert complaint.next_escalation_at == complaint.received_at + timedelta(hours=6)
    entry = complaint.history.order_by("-history_id").first()
    assert entry.history_change_reason == "SLA escalation schedule updated"
    assert entry.history_action == ""
    assert verify_audit_trail(store=False).is_intact


def test_a_conflicting_step_falls_back_to_one_by_one(make_complaint, staff):
    # Two steps of the same level collide on the unique constraint inside the bulk INSERT; the
    # batch is then taken one step at a time, as before: the first wins, the second is skipped.
    ensure_policies(
        steps=[
            {"level": 1, "percent": 50, "notify": ["assignee"]},
            {"level": 1, "percent": 75, "notify": ["assignee"]},
        ]
    )
    complaints = make_due(make_complaint, staff, 3)
    assert services.escalate_due_complaints() == 3
    assert sorted(Escalation.objects.values_list("complaint_id", "level", "percent")) == sorted(
        (c.pk, 1, 50) for c in complaints
    )
    assert Notification.objects.filter(subject__startswith="Escalation level 1").count() == 3
    assert set(Complaint.objects.values_list("escalation_level", flat=True)) == {1}
    assert verify_audit_trail(store=False).is_intact


def test_a_batch_that_fails_is_rolled_back_whole(make_complaint, staff, manager, monkeypatch):
    complaints = make_due(make_complaint, staff, 4)
    notes = Notification.objects.count()

    def die(*args, **kwargs):
        raise RuntimeError("worker killed")

    # Dies after the Escalation rows and the notifications were written, before the complaints.
    monkeypatch.setattr(services.escalation, "save_versioned_bulk", die)  # where the sweep calls it
    with pytest.raises(RuntimeError):
        services.escalate_due_complaints()
    assert not Escalation.objects.exists()
    assert Notification.objects.count() == notes
    assert set(Complaint.objects.values_list("escalation_level", flat=True)) == {0}
    monkeypatch.undo()
    assert services.escalate_due_complaints() == 8
    assert {
        c.escalation_level for c in Complaint.objects.filter(pk__in=[c.pk for c in complaints])
    } == {2}


def test_a_batch_mixing_finished_and_rescheduled_complaints(make_complaint, staff, manager):
    # 40 h old: every step of both deadlines is due, nothing is left (next step: none); 4.5 h
    # old: two steps, the next one at 6 h. One UPDATE writes both, the NULL and the time.
    finished = make_complaint(title="Old", assignee=staff, received_at=hours_ago(40))
    pending = make_due(make_complaint, staff, 1)[0]
    assert services.escalate_due_complaints() == 6 + 2
    finished.refresh_from_db()
    pending.refresh_from_db()
    assert (finished.escalation_level, finished.next_escalation_at) == (3, None)
    assert pending.next_escalation_at == pending.received_at + timedelta(hours=6)
    assert finished.history.order_by("-history_id").first().next_escalation_at is None
    assert verify_audit_trail(store=False).is_intact
