"""Worker kill (issue 20): escalation steps fall due while real Celery worker processes run the
sweep; their pool children are SIGKILLed at intervals and the main process too (then a new
worker is started, as a supervisor would). Afterwards every step exists exactly once: a killed
sweep's batch was rolled back and taken up by the next one (acks_late, SKIP LOCKED, the
unique step)."""

import os
import random
import signal
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from complaints import services
from complaints.models import Complaint, Customer, Escalation
from complaints.tasks import escalate_complaints
from qms.roles import STAFF
from tests.complaints.conftest import ensure_policies
from tests.conftest import make_user, start_worker, stop_worker
from tests.reliability.conftest import report, sized, worker_children

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]

# Policy hours have two decimals (36 s at the least): short steps come from small percents.
HOURS = "0.01"  # 36 s to the first-response deadline
PERCENTS = (10, 20, 30)  # steps 3.6 s apart
STEPS = [{"level": i + 1, "percent": p, "notify": ["assignee"]} for i, p in enumerate(PERCENTS)]


def make_due_complaints(count, spread, lead):
    """Complaints whose three first-response steps fall due `lead` to `lead + spread` seconds
    after their creation, and 3.6 and 7.2 s after that."""
    ensure_policies(first_response_hours=HOURS, resolution_hours="240", steps=STEPS)
    staff = make_user("kill-staff", STAFF)
    customer = Customer.objects.create(name="Hospital", email="hospital@example.org")
    first = timedelta(hours=float(Decimal(HOURS)) * PERCENTS[0] / 100)
    rng = random.Random(20)
    for index in range(count):
        due_in = timedelta(seconds=lead + rng.uniform(0, spread))
        services.complaint_create(
            actor=staff,
            title=f"Kill {index}",
            description="d",
            customer=customer,
            assignee=staff,
            received_at=timezone.now() - first + due_in,
        )
    return count * len(PERCENTS)


def lateness(steps):
    values = sorted((e.at - e.due_at).total_seconds() for e in steps)
    pick = lambda q: round(values[min(len(values) - 1, int(q * len(values)))], 1)  # noqa: E731
    return {"late_p50_s": pick(0.5), "late_p95_s": pick(0.95), "late_max_s": round(values[-1], 1)}


def test_sigkilled_workers_lose_and_double_no_escalation_step(celery_queue):
    count = sized(40, 1000)
    spread, kill_every, timeout = sized(3, 40), sized(1.5, 4.0), sized(60, 400)
    workers = [start_worker(celery_queue, concurrency=2)]
    expected = make_due_complaints(count, spread, lead=sized(4, 60))
    started = time.monotonic()
    kills = {"child": 0, "main": 0}
    rng = random.Random(7)
    next_kill = time.monotonic() + kill_every
    sweeps = 0
    try:
        while Escalation.objects.count() < expected:
            assert time.monotonic() - started < timeout, (
                f"{Escalation.objects.count()} of {expected} steps"
            )
            escalate_complaints.delay()  # beat's role, every half second instead of every minute
            sweeps += 1
            time.sleep(0.5)
            if time.monotonic() >= next_kill:
                worker = workers[-1]
                children = worker_children(worker.pid)
                if kills["child"] % 3 == 1 or not children:
                    for pid in [worker.pid, *children]:
                        os.kill(pid, signal.SIGKILL)
                    worker.wait()
                    kills["main"] += 1
                    workers.append(start_worker(celery_queue, concurrency=2))
                else:
                    os.kill(rng.choice(children), signal.SIGKILL)
                kills["child"] += 1
                next_kill = time.monotonic() + kill_every
    finally:
        for worker in workers:
            if worker.poll() is None:
                for pid in worker_children(worker.pid):
                    os.kill(pid, signal.SIGKILL)
                stop_worker(worker)
    took = time.monotonic() - started

    steps = list(Escalation.objects.all())
    assert len(steps) == expected
    per_step = {}
    for step in steps:
        per_step[(step.complaint_id, step.kind, step.level)] = (
            per_step.get((step.complaint_id, step.kind, step.level), 0) + 1
        )
    assert set(per_step.values()) == {1}
    assert sorted({level for _, _, level in per_step}) == [1, 2, 3]
    assert set(Complaint.objects.values_list("escalation_level", flat=True)) == {3}
    history = {
        c.pk: c.history.filter(history_action="escalate").count() for c in Complaint.objects.all()
    }
    assert all(1 <= n <= 3 for n in history.values()), history
    assert kills["main"] >= 1 and kills["child"] >= 1
    report(
        "worker-kill",
        complaints=count,
        steps=expected,
        lost=0,
        doubled=0,
        sweeps_sent=sweeps,
        child_kills=kills["child"] - kills["main"],
        main_kills=kills["main"],
        workers_started=len(workers),
        escalate_history_rows=sum(history.values()),
        duration_s=round(took, 1),
        **lateness(steps),
    )
