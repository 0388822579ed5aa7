"""A Redis outage (issue 20): a redis-server of the test's own is the broker of a real Celery
worker process and of the app; it is stopped (in memory only: the queued messages are gone) and
started again on the same port. The app answers no 5xx before, during or after the outage (the
outbox row is written; the e-mail task that could not be queued is taken up by the
deliver-pending-outbox sweep), escalation steps are neither lost nor doubled, and the same
worker process reconnects by itself."""

import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from complaints.models import Complaint, Customer, Escalation
from complaints.tasks import escalate_complaints
from qms.models import OutboxMessage
from qms.roles import STAFF
from tests.conftest import make_user, start_worker, stop_worker
from tests.reliability.conftest import RedisServer, report, sized
from tests.reliability.test_worker_kill import make_due_complaints

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


@contextmanager
def broker(url):
    """This process's Celery app publishes to `url` (its connection pools made anew)."""
    from qms.celery import app

    names = ("broker_url", "broker_write_url", "broker_read_url")
    saved = {name: app.conf.get(name) for name in names}
    for name in names:
        setattr(app.conf, name, url)
    app._pool = None
    app.amqp._producer_pool = None
    try:
        yield app
    finally:
        for name, value in saved.items():
            setattr(app.conf, name, value)
        app._pool = None
        app.amqp._producer_pool = None


def test_the_app_and_the_worker_ride_out_a_redis_outage(celery_queue, tmp_path):
    redis = RedisServer(tmp_path).start()
    outage_s = sized(4, 20)
    with broker(redis.url):
        worker = start_worker(
            celery_queue, extra_env={"CELERY_BROKER_URL": redis.url, "REDIS_URL": redis.url}
        )
        try:
            make_due_complaints(sized(10, 100), spread=sized(2, 10), lead=2)
            staff_pk = Complaint.objects.first().assignee_id
            customer = Customer.objects.get()
            client = APIClient()
            # Filed by someone else, so that the assignee is notified (an e-mail task queued).
            client.force_authenticate(make_user("outage-filer", STAFF))
            codes = {"before": [], "during": [], "after": []}
            sweeps_lost = 0
            started = time.monotonic()
            phase, stopped_at, restarted_at = "before", None, None
            while True:
                now = time.monotonic() - started
                if phase == "before" and now > 2:
                    redis.stop()
                    phase, stopped_at = "during", now
                elif phase == "during" and now > stopped_at + outage_s:
                    redis.start()
                    phase, restarted_at = "after", now
                try:
                    escalate_complaints.delay()  # beat's role
                except Exception:  # the broker is down: this "look now" is lost, the next one comes
                    sweeps_lost += 1
                if phase != "after" or now < restarted_at + 2:
                    response = client.post(
                        "/api/v1/complaints/",
                        {
                            "title": f"Filed {phase}",
                            "description": "d",
                            "customer": customer.pk,
                            "assignee": staff_pk,
                        },
                        format="json",
                    )
                    codes[phase].append(response.status_code)
                    time.sleep(0.3)
                else:
                    break
            # The steps of what was filed last come due 11 s after it; sweep until they are taken.
            deadline = time.monotonic() + sized(30, 120)
            while (
                Escalation.objects.count() < 3 * Complaint.objects.count()
                and time.monotonic() < deadline
            ):
                escalate_complaints.delay()
                time.sleep(0.5)
            took = time.monotonic() - started
            time.sleep(1)  # the worker's last deliveries
            pending_after = OutboxMessage.objects.filter(sent_at__isnull=True).count()
            assert worker.poll() is None, "the worker died in the outage"
        finally:
            stop_worker(worker)
            redis.stop()

    log = Path(worker.log_path).read_text()
    assert all(code == 201 for phase_codes in codes.values() for code in phase_codes), codes
    expected = 3 * Complaint.objects.count()
    assert Escalation.objects.count() == expected
    steps = set(Escalation.objects.values_list("complaint_id", "kind", "level"))
    assert len(steps) == expected
    assert log.count("Connected to redis://") >= 2, log[-3000:]
    # Every e-mail was delivered: those whose task was queued, and those queued in the outage
    # (their task lost) by the deliver-pending-outbox sweep run once here as beat would.
    from qms import notifications

    for message_id in notifications.outbox_pending_ids(older_than_seconds=0):
        notifications.outbox_deliver(message_id)
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()
    report(
        "redis-outage",
        outage_s=outage_s,
        requests=sum(map(len, codes.values())),
        requests_during_outage=len(codes["during"]),
        server_errors=0,
        sweeps_lost_to_outage=sweeps_lost,
        complaints=Complaint.objects.count(),
        steps=expected,
        lost=0,
        doubled=0,
        outbox_pending_after_outage=pending_after,
        reconnects=log.count("Connected to redis://") - 1,
        duration_s=round(took, 1),
    )
