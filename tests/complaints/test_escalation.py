"""The escalation sweep (docs/architecture.md rule 4): due steps taken once per (kind, level), the
level raised with history, notifications written in the same transaction."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from complaints import services
from complaints.models import Complaint, Escalation
from qms.models import Notification, OutboxMessage
from tests.complaints.conftest import advance, ensure_policies, hours_ago

pytestmark = pytest.mark.django_db


def test_nothing_is_escalated_before_it_is_due(complaint):
    assert services.escalate_due_complaints() == 0
    assert not Escalation.objects.exists()


def test_due_steps_are_taken_once_with_notifications(make_complaint, staff, manager):
    manager.job_function = "Head of Quality"
    manager.save()
    complaint = make_complaint(received_at=hours_ago(4.5), assignee=staff)  # first response: 4 h, so 112%
    Notification.objects.all().delete()
    taken = services.escalate_due_complaints()
    assert taken == 2  # 75% and 100% of the first-response time; 150% (6 h) not yet
    complaint.refresh_from_db()
    assert complaint.escalation_level == 2
    rows = list(Escalation.objects.values_list("kind", "level", "notified"))
    assert rows == [("first_response", 1, ["staff"]), ("first_response", 2, ["staff", "manager"])]
    subjects = sorted(Notification.objects.values_list("recipient__username", "subject"))
    assert ("manager", f"Escalation level 2: {complaint.reference} first response deadline breached") in subjects
    assert OutboxMessage.objects.filter(to_email="manager@example.com").exists()
    entry = complaint.history.order_by("-history_id").first()
    assert entry.history_action == "escalate" and entry.history_user.username == "system"
    assert "first_response level 2" in entry.history_change_reason
    assert complaint.next_escalation_at == complaint.received_at + timedelta(hours=6)
    # a second sweep is a no-op
    assert services.escalate_due_complaints() == 0
    assert Escalation.objects.count() == 2


def test_acknowledging_stops_first_response_escalation(make_complaint, staff):
    complaint = make_complaint(received_at=hours_ago(3.5))
    advance(complaint, "acknowledge", actor=staff)
    assert complaint.next_escalation_at == complaint.received_at + timedelta(hours=18)  # 75% of 24 h
    assert services.escalate_due_complaints() == 0


def test_resolution_steps_and_pause(make_complaint, staff):
    complaint = make_complaint(received_at=hours_ago(30))
    advance(complaint, "acknowledge", "investigate", "wait_for_customer", actor=staff)
    assert services.escalate_due_complaints() == 0  # paused: nothing due
    advance(complaint, "resume", actor=staff)
    services.escalate_due_complaints()
    kinds = set(Escalation.objects.filter(complaint=complaint).values_list("kind", "level"))
    assert ("resolution", 2) in kinds  # 30 h > 24 h
    assert ("first_response", 1) not in kinds  # it was acknowledged before the sweep ran


def test_the_unique_constraint_refuses_a_second_row():
    from django.db import IntegrityError, transaction

    ensure_policies()
    from complaints.models import Customer
    from tests.conftest import make_user

    user = make_user("writer", "Quality Staff")
    complaint = services.complaint_create(
        actor=user, title="t", description="d", customer=Customer.objects.create(name="C"), received_at=hours_ago(10)
    )
    Escalation.objects.create(complaint=complaint, kind="first_response", level=1, percent=75, due_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        Escalation.objects.create(complaint=complaint, kind="first_response", level=1, percent=75, due_at=timezone.now())


def test_the_sweep_uses_the_partial_index(complaint):
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT id FROM complaints_complaint WHERE next_escalation_at <= now() "
            "ORDER BY next_escalation_at LIMIT 100 FOR UPDATE SKIP LOCKED"
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET enable_seqscan = on")
    assert "complaints_escalation_due_idx" in plan


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_escalate_each_step_once():
    from tests.conftest import make_user

    ensure_policies()
    staff = make_user("staff", "Quality Staff")
    make_user("manager", "Quality Manager")
    from complaints.models import Customer

    customer = Customer.objects.create(name="Hospital", email="h@example.org")
    for _ in range(12):
        services.complaint_create(actor=staff, title="late", description="d", customer=customer, received_at=hours_ago(7), assignee=staff)
    results, errors = [], []
    barrier = threading.Barrier(2)

    def sweep():
        try:
            barrier.wait()
            results.append(services.escalate_due_complaints(batch_size=3))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    # 12 complaints x 3 first-response steps (7 h > 150% of 4 h) + resolution 75% (18 h) not yet
    assert Escalation.objects.count() == 36
    assert sum(results) == 36
    assert set(Complaint.objects.values_list("escalation_level", flat=True)) == {3}
    # level 3 goes to the head of quality: nobody holds the title, so to the one Quality Manager
    assert Notification.objects.filter(subject__startswith="Escalation level 3").count() == 12
    assert Notification.objects.filter(subject__startswith="Escalation level 1", recipient=staff).count() == 12


@pytest.mark.django_db(transaction=True)
def test_a_row_held_by_a_dying_worker_is_skipped_then_taken_by_the_next_sweep():
    import time

    from django.db import transaction

    from tests.conftest import make_user

    ensure_policies()
    staff = make_user("staff", "Quality Staff")
    from complaints.models import Customer

    complaint = services.complaint_create(
        actor=staff, title="late", description="d", customer=Customer.objects.create(name="C"), received_at=hours_ago(5),
        assignee=staff,
    )
    locked, release = threading.Event(), threading.Event()

    def dying_worker():
        # Claims the row like a sweep would, then "dies": its transaction is rolled back.
        try:
            with transaction.atomic():
                list(Complaint.objects.select_for_update().filter(pk=complaint.pk))
                locked.set()
                release.wait(10)
                raise RuntimeError("worker killed")
        except RuntimeError:
            pass
        finally:
            connection.close()

    thread = threading.Thread(target=dying_worker)
    thread.start()
    assert locked.wait(10)
    started = time.monotonic()
    assert services.escalate_due_complaints() == 0  # skipped, not waited for
    assert time.monotonic() - started < 5
    release.set()
    thread.join()
    assert services.escalate_due_complaints() == 2  # the next sweep picks it up
    assert Complaint.objects.get(pk=complaint.pk).escalation_level == 2
