"""Notifications: an in-app row per recipient and an e-mail in the outbox, both written in the
caller's transaction; delivery is a task queued on commit and retried by a beat sweep, so each
e-mail goes out at least once even if the worker or the broker was down (docs/architecture.md rule 4)."""

import logging
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import connections, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from qms.models import Notification, OutboxMessage

logger = logging.getLogger(__name__)


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


def notify_many(notices: Iterable[dict], *, email: bool = True) -> list[int]:
    """`notify()` for many notices at once, with the same rows in the same order: each notice
    is a dict of notify's arguments (recipients, subject, body, url); one INSERT for all the
    in-app rows and one for all the e-mails, whatever the number of notices. Returns the ids of
    the in-app notifications."""
    pending = []
    for notice in notices:
        recipients = [user for user in dict.fromkeys(notice["recipients"]) if user is not None and user.is_active]
        subject, body, url = notice["subject"][:200], notice.get("body", ""), notice.get("url", "")
        pending.extend((user, subject, body, url) for user in recipients)
    note_ids = _insert_rows(
        Notification,
        recipient=[user.pk for user, _, _, _ in pending],
        subject=[subject for _, subject, _, _ in pending],
        body=[body for _, _, body, _ in pending],
        url=[url[:300] for _, _, _, url in pending],
    )
    if email:
        mails = [(note_id, user, subject, body, url) for note_id, (user, subject, body, url) in zip(note_ids, pending, strict=True) if user.email]
        message_ids = _insert_rows(
            OutboxMessage,
            notification=[note_id for note_id, *_ in mails],
            to_email=[user.email for _, user, _, _, _ in mails],
            subject=[subject for _, _, subject, _, _ in mails],
            body=[body + (f"\n\n{settings.SITE_URL}{url}" if url else "") for _, _, _, body, url in mails],
        )
        queue_delivery_chunks(message_ids)
    return note_ids


def _insert_rows(model, **columns: list) -> list[int]:
    """Insert rows given as one list of values per field (the other fields get their defaults,
    as in a bulk_create) and return their ids in order. On PostgreSQL one INSERT ... SELECT FROM
    unnest(...) without model instances: building and preparing thousands of instances costs a
    sweep more than the INSERT does."""
    count = len(next(iter(columns.values())))
    if not count:
        return []
    connection = connections[model._default_manager.db]
    meta = model._meta
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    values = []
    for field in fields:
        given = columns.pop(field.name, None)
        values.append(given if given is not None else [field.get_default()] * count)
    if columns:
        raise TypeError(f"{meta.label} has no fields {', '.join(columns)}")
    if connection.vendor != "postgresql":
        rows = model._default_manager.bulk_create(
            [model(**{field.attname: value for field, value in zip(fields, row, strict=True)}) for row in zip(*values, strict=True)]
        )
        return [row.pk for row in rows]
    quote = connection.ops.quote_name
    names = ", ".join(quote(field.column) for field in fields)
    arrays = ", ".join(f"%s::{field.cast_db_type(connection)}[]" for field in fields)
    # Only the model's own quoted table, column and type names go into the text; values are bound.
    sql = f"INSERT INTO {quote(meta.db_table)} ({names}) SELECT * FROM unnest({arrays}) RETURNING {quote(meta.pk.column)}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        return [row[0] for row in cursor.fetchall()]


def queued_task(path: str):
    """The Celery task at `path`, imported when it is queued: tasks.py imports the services it
    wraps, so a service names the task it queues by its dotted path (issue 21: no import circle)."""
    return import_string(path)


DELIVERY_CHUNK = 100  # e-mails per delivery task queued by notify_many


def queue_delivery_chunks(message_ids: list[int]) -> None:
    """Like queue_delivery, but one task per chunk of messages: queuing a task costs about a
    millisecond, which a sweep writing thousands of e-mails would pay for each one."""
    deliver_outbox_messages = queued_task("qms.tasks.deliver_outbox_messages")
    for start in range(0, len(message_ids), DELIVERY_CHUNK):
        chunk = message_ids[start : start + DELIVERY_CHUNK]
        # robust: a broker outage must not turn the committed request into a 500; the outbox
        # row is written and deliver-pending-outbox sends it (tests/reliability/test_redis_outage.py).
        transaction.on_commit(lambda chunk=chunk: deliver_outbox_messages.delay(chunk), robust=True)


def email_outside_user(*, to_email: str, subject: str, body: str) -> OutboxMessage:
    """An e-mail to someone without a login (a customer), through the same outbox."""
    message = OutboxMessage.objects.create(to_email=to_email, subject=subject[:200], body=body)
    queue_delivery([message.pk])
    return message


def queue_delivery(message_ids: list[int]) -> None:
    deliver_outbox_message = queued_task("qms.tasks.deliver_outbox_message")
    for message_id in message_ids:
        transaction.on_commit(lambda message_id=message_id: deliver_outbox_message.delay(message_id), robust=True)


def outbox_message_id(message: OutboxMessage) -> str:
    """The Message-ID of an outbox e-mail: the same on every attempt, so that a delivery repeated
    after a crash (at least once, docs/architecture.md rule 4) is recognisable as the same message by
    mail servers and clients (issue 20 item 5). Derived from the row (id and creation instant,
    so ids reused by another database do not collide) and the site's host, never from the
    worker's host name as Django's make_msgid would be."""
    domain = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"<qms.outbox.{message.pk}.{message.created_at:%Y%m%d%H%M%S%f}@{domain}>"


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
            EmailMessage(
                message.subject,
                message.body,
                settings.DEFAULT_FROM_EMAIL,
                [message.to_email],
                headers={"Message-ID": outbox_message_id(message)},
            ).send()
        except Exception as exc:  # SMTP errors of every kind: keep the row for the next sweep
            message.last_error = str(exc)[:2000]
            message.save(update_fields=["attempts", "last_error"])
            if message.attempts == MAX_ATTEMPTS:
                _tell_administrators_undeliverable(message)
            return False
        message.sent_at = timezone.now()
        message.last_error = ""
        message.save(update_fields=["attempts", "sent_at", "last_error"])
        return True


MAX_ATTEMPTS = 20  # the sweep gives up on a message after this many failed attempts


def _tell_administrators_undeliverable(message: OutboxMessage) -> None:
    """A message that failed MAX_ATTEMPTS times is no longer retried: it is not dropped
    silently, the administrators get an in-app notification (not an e-mail, which may fail the
    same way) and the log says so (issue 18 item 3). Runs once: attempts reach the limit once."""
    from qms import roles as qms_roles

    logger.error(
        "outbox message %s to %s failed %s times and is no longer retried: %s",
        message.pk, message.to_email, message.attempts, message.last_error[:300],
    )
    administrators = get_user_model().objects.filter(groups__name=qms_roles.ADMINISTRATOR, is_active=True).distinct()
    notify(
        administrators,
        subject=f"E-mail to {message.to_email} could not be delivered ({message.attempts} attempts)",
        body=f"Subject: {message.subject}\nLast error: {message.last_error[:500]}",
        email=False,
    )


def outbox_pending_ids(*, older_than_seconds: int = 60, limit: int = 500) -> list[int]:
    cutoff = timezone.now() - timezone.timedelta(seconds=older_than_seconds)
    return list(
        OutboxMessage.objects.filter(sent_at__isnull=True, created_at__lte=cutoff, attempts__lt=MAX_ATTEMPTS)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
