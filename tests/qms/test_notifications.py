"""Notifications (issue 2 item 6): the in-app row and the outbox e-mail are written in the
caller's transaction; a real Celery worker delivers each e-mail at least once, and the beat
sweep delivers what the on-commit task did not (docs/architecture.md rule 4)."""

from pathlib import Path

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from qms.models import Notification, OutboxMessage
from qms.notifications import email_outside_user, notify, outbox_deliver, outbox_pending_ids
from tests.conftest import start_worker, stop_worker, wait_for


def test_notify_writes_an_inbox_row_per_active_recipient_and_an_outbox_email(staff, manager, employee, django_capture_on_commit_callbacks):
    employee.is_active = False
    employee.save(update_fields=["is_active"])
    with django_capture_on_commit_callbacks() as callbacks:
        notes = notify([staff, manager, staff, None, employee], subject="CMP-2026-00001 needs you", body="Please look.", url="/complaints/1/")
    assert [n.recipient for n in notes] == [staff, manager]
    assert Notification.objects.count() == 2
    messages = OutboxMessage.objects.order_by("to_email")
    assert [m.to_email for m in messages] == ["manager@example.com", "staff@example.com"]
    assert messages[0].body.endswith("/complaints/1/")
    assert messages[0].sent_at is None
    assert len(callbacks) == 2  # one delivery task per message, queued for after the commit


def test_a_rolled_back_change_leaves_no_notification_and_queues_nothing(staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        notify([staff], subject="Never")
        raise RuntimeError("the change failed")
    assert Notification.objects.count() == 0
    assert OutboxMessage.objects.count() == 0
    assert callbacks == []


def test_delivery_is_keyed_on_the_outbox_row_and_sends_once(staff, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    message = email_outside_user(to_email="customer@example.org", subject="Your complaint", body="Thank you.")
    assert outbox_deliver(message.pk) is True
    assert outbox_deliver(message.pk) is False  # a retried or duplicated task is a no-op
    assert len(mail.outbox) == 1
    message.refresh_from_db()
    assert message.sent_at is not None and message.attempts == 1


def test_a_failed_send_is_kept_for_the_sweep(staff, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2
    message = email_outside_user(to_email="customer@example.org", subject="Your complaint", body="Thank you.")
    assert outbox_deliver(message.pk) is False
    message.refresh_from_db()
    assert message.sent_at is None and message.attempts == 1 and message.last_error
    OutboxMessage.objects.filter(pk=message.pk).update(created_at=timezone.now() - timezone.timedelta(minutes=5))
    assert outbox_pending_ids() == [message.pk]


@pytest.mark.celery
def test_a_real_worker_delivers_notifications_after_the_commit(celery_worker, staff, manager):
    with transaction.atomic():
        notify([staff, manager], subject="CAPA-2026-0001 is due", body="Due tomorrow.", url="/capa/1/")

    wait_for(lambda: OutboxMessage.objects.filter(sent_at__isnull=False).count() == 2, message="both e-mails sent")
    assert set(OutboxMessage.objects.values_list("attempts", flat=True)) == {1}
    log = Path(celery_worker.log_path).read_text()
    assert "qms.deliver_outbox_message" in log
    assert log.count("Subject: CAPA-2026-0001 is due") == 2  # the console backend in the worker


@pytest.mark.celery
def test_what_the_worker_could_not_send_is_delivered_by_the_pending_sweep(transactional_db, celery_queue, staff):
    from qms.tasks import deliver_pending_outbox

    # Given a worker whose SMTP server is down: the on-commit task runs and fails.
    broken = start_worker(celery_queue, extra_env={"EMAIL_URL": "smtp://127.0.0.1:1"}, concurrency=1)
    try:
        with transaction.atomic():
            message = email_outside_user(to_email="customer@example.org", subject="Survey", body="How did we do?")
        wait_for(lambda: OutboxMessage.objects.get(pk=message.pk).attempts == 1, message="the failed attempt")
    finally:
        stop_worker(broken)
    # ... and a message whose task the broker lost (written, never queued).
    lost = OutboxMessage.objects.create(to_email="other@example.org", subject="Lost task", body="...")
    old = timezone.now() - timezone.timedelta(minutes=5)
    OutboxMessage.objects.filter(pk__in=[message.pk, lost.pk]).update(created_at=old)
    assert OutboxMessage.objects.get(pk=message.pk).sent_at is None

    # When the mail server is back and beat's sweep runs on a worker.
    worker = start_worker(celery_queue, concurrency=1)
    try:
        deliver_pending_outbox.delay()
        wait_for(
            lambda: OutboxMessage.objects.filter(pk__in=[message.pk, lost.pk], sent_at__isnull=False).count() == 2,
            message="the sweep to deliver both",
        )
    finally:
        stop_worker(worker)
    # Then each was sent exactly once more.
    assert OutboxMessage.objects.get(pk=message.pk).attempts == 2
    assert OutboxMessage.objects.get(pk=lost.pk).attempts == 1


def test_the_sweep_is_in_the_beat_schedule():
    from qms.celery import app

    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "qms.deliver_pending_outbox" in tasks
    assert app.conf.task_acks_late is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.accept_content == ["json"]
