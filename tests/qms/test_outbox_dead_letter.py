"""An e-mail that failed 20 times is not dropped silently (issue 18 item 3): the sweep stops
retrying it, and the administrators get an in-app notification and the log an error line."""

import logging

import pytest
from django.core.mail.backends.base import BaseEmailBackend

from qms.models import Notification, OutboxMessage
from qms.notifications import MAX_ATTEMPTS, outbox_deliver, outbox_pending_ids

pytestmark = pytest.mark.django_db


class RefusingBackend(BaseEmailBackend):
    """Stands in for an SMTP server that refuses every message (outside the product)."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("550 mailbox unavailable")


@pytest.fixture
def refusing_smtp(settings):
    settings.EMAIL_BACKEND = "tests.qms.test_outbox_dead_letter.RefusingBackend"


def _message(attempts):
    return OutboxMessage.objects.create(
        to_email="ghost@example.com",
        subject="Please approve SOP-001 rev 2",
        body="…",
        attempts=attempts,
    )


def test_the_twentieth_failure_tells_the_administrators_and_the_log(
    refusing_smtp, administrator, staff, caplog
):
    message = _message(MAX_ATTEMPTS - 1)
    with caplog.at_level(logging.ERROR, logger="qms.notifications"):
        assert outbox_deliver(message.pk) is False

    message.refresh_from_db()
    assert message.attempts == MAX_ATTEMPTS and "550" in message.last_error
    told = Notification.objects.filter(subject__contains="ghost@example.com could not be delivered")
    assert [n.recipient for n in told] == [administrator]
    assert (
        "Please approve SOP-001 rev 2" in told.get().body
        and "550 mailbox unavailable" in told.get().body
    )
    # in-app only: an e-mail about a failing e-mail could fail the same way
    assert not OutboxMessage.objects.filter(notification__in=told).exists()
    assert any("failed 20 times" in record.getMessage() for record in caplog.records)
    assert message.pk not in outbox_pending_ids(older_than_seconds=0)


def test_earlier_failures_and_later_attempts_tell_nobody(refusing_smtp, administrator):
    early = _message(3)
    assert outbox_deliver(early.pk) is False
    late = _message(MAX_ATTEMPTS)  # already given up on and reported: a manual retry fails again
    assert outbox_deliver(late.pk) is False
    assert not Notification.objects.filter(recipient=administrator).exists()
    assert early.pk in outbox_pending_ids(older_than_seconds=0)
