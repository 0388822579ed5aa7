"""Notifications: an in-app row per recipient and an e-mail in the outbox, both written in the
caller's transaction; delivery is a task queued on commit and retried by a beat sweep, so each
e-mail goes out at least once even if the worker or the broker was down (ARCHITECTURE.md rule 4)."""

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from qms.models import Notification, OutboxMessage


def notify(recipients: Iterable, *, subject: str, body: str = "", url: str = "", email: bool = True) -> list[Notification]:
    recipients = [user for user in dict.fromkeys(recipients) if user is not None and user.is_active]
    subject = subject[:200]
    notifications = Notification.objects.bulk_create(
        [Notification(recipient=user, subject=subject, body=body, url=url[:300]) for user in recipients]
    )
    if email:
        link = f"\n\n{settings.SITE_URL}{url}" if url else ""
        messages = OutboxMessage.objects.bulk_create(
            [
                OutboxMessage(notification=note, to_email=note.recipient.email, subject=subject, body=body + link)
                for note in notifications
                if note.recipient.email
            ]
        )
        queue_delivery([m.pk for m in messages])
    return notifications


def email_outside_user(*, to_email: str, subject: str, body: str) -> OutboxMessage:
    """An e-mail to someone without a login (a customer), through the same outbox."""
    message = OutboxMessage.objects.create(to_email=to_email, subject=subject[:200], body=body)
    queue_delivery([message.pk])
    return message


def queue_delivery(message_ids: list[int]) -> None:
    from qms.tasks import deliver_outbox_message

    for message_id in message_ids:
        transaction.on_commit(lambda message_id=message_id: deliver_outbox_message.delay(message_id))


def outbox_deliver(message_id: int) -> bool:
    """Send one outbox message unless it was sent already; True when sent now."""
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, sent_at__isnull=True)
            .first()
        )
        if message is None:
            return False
        message.attempts += 1
        try:
            send_mail(message.subject, message.body, settings.DEFAULT_FROM_EMAIL, [message.to_email])
        except Exception as exc:  # SMTP errors of every kind: keep the row for the next sweep
            message.last_error = str(exc)[:2000]
            message.save(update_fields=["attempts", "last_error"])
            return False
        message.sent_at = timezone.now()
        message.last_error = ""
        message.save(update_fields=["attempts", "sent_at", "last_error"])
        return True


def outbox_pending_ids(*, older_than_seconds: int = 60, limit: int = 500) -> list[int]:
    cutoff = timezone.now() - timezone.timedelta(seconds=older_than_seconds)
    return list(
        OutboxMessage.objects.filter(sent_at__isnull=True, created_at__lte=cutoff, attempts__lt=20)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
