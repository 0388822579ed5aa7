"""A real Celery worker and beat (docs/architecture.md rule 9): a complaint whose first-response
deadline passes is escalated by the beat-triggered sweep exactly once per step, with its
notifications, and two sweeps running at the same time on two worker processes do not
escalate any step twice."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from complaints import services
from complaints.models import Complaint, Customer, Escalation
from complaints.tasks import escalate_complaints
from qms.models import Notification, OutboxMessage
from tests.complaints.conftest import ensure_policies
from tests.conftest import make_user, start_worker, stop_worker, wait_for

pytestmark = [pytest.mark.celery]


@pytest.mark.django_db(transaction=True)
def test_worker_and_beat_escalate_each_step_once_with_notifications(celery_queue):
    ensure_policies(first_response_hours="4", resolution_hours="24")
    staff = make_user("staff", "Quality Staff")
    manager = make_user("manager", "Quality Manager", job_function="Head of Quality")
    customer = Customer.objects.create(name="Hospital", email="hospital@example.org")
    now = timezone.now()
    # Long overdue: all three first-response steps (75%, 100%, 150% of 4 h) are due.
    overdue = services.complaint_create(
        actor=staff, title="Overdue", description="d", customer=customer, assignee=staff, received_at=now - timedelta(hours=7)
    )
    # Its first-response deadline passes 20 seconds into the test, before beat's first tick (60 s).
    passing = services.complaint_create(
        actor=staff, title="About to breach", description="d", customer=customer, assignee=staff,
        received_at=now - timedelta(hours=4) + timedelta(seconds=20),
    )
    assert Complaint.objects.get(pk=passing.pk).escalation_level == 0

    worker = start_worker(celery_queue, beat=True, concurrency=2)
    try:
        # Two sweeps at once, on the two worker processes.
        escalate_complaints.delay()
        escalate_complaints.delay()
        wait_for(lambda: Escalation.objects.filter(complaint=overdue).count() == 3, timeout=60, message="overdue escalated")
        wait_for(
            lambda: Path(worker.log_path).read_text().count("complaints.escalate_complaints") >= 4,
            timeout=60, message="both sweeps finished",
        )
        # The passing complaint's 75% step was due at once; its breach (100%) comes with beat.
        wait_for(
            lambda: Escalation.objects.filter(complaint=passing, level=2).exists(),
            timeout=150, message="beat-triggered sweep escalated the breach",
        )
        wait_for(
            lambda: not OutboxMessage.objects.filter(sent_at__isnull=True).exists(),
            timeout=60, message="escalation e-mails delivered by the worker",
        )
    finally:
        stop_worker(worker)
    log = Path(worker.log_path).read_text()
    assert "Scheduler: Sending due task escalate-complaints" in log, log[-3000:]

    steps = sorted(Escalation.objects.values_list("complaint__title", "kind", "level"))
    assert steps == [
        ("About to breach", "first_response", 1),
        ("About to breach", "first_response", 2),
        ("Overdue", "first_response", 1),
        ("Overdue", "first_response", 2),
        ("Overdue", "first_response", 3),
    ]
    assert Complaint.objects.get(pk=overdue.pk).escalation_level == 3
    assert Complaint.objects.get(pk=passing.pk).escalation_level == 2
    # Level 1 to the assignee, level 2 to the assignee and the managers, level 3 to the head of quality.
    notes = sorted(Notification.objects.filter(subject__startswith="Escalation").values_list("recipient__username", "subject"))
    assert len(notes) == 1 + 2 + 1 + 1 + 2
    assert (manager.username, f"Escalation level 2: {passing.reference} first response deadline breached") in notes
    assert OutboxMessage.objects.filter(to_email="manager@example.com", sent_at__isnull=False).count() == 3
    history = Complaint.objects.get(pk=passing.pk).history.filter(history_action="escalate")
    assert history.count() == 2
