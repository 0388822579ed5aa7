"""Outbox e-mail carries a stable Message-ID derived from the outbox row (issue 20 item 5): a
delivery repeated after a failure, or after a crash between the send and the commit (at least
once), is recognisable as the same message."""

import datetime
import re

import pytest
import time_machine
from django.core import mail
from django.db import transaction

from qms.models import OutboxMessage
from qms.notifications import email_outside_user, notify, outbox_deliver, outbox_message_id
from qms.tasks import deliver_pending_outbox
from tests.qms import flaky_mail

pytestmark = pytest.mark.django_db

AT = datetime.datetime(2026, 3, 29, 0, 59, 30, tzinfo=datetime.UTC)


@pytest.fixture
def flaky(settings):
    settings.EMAIL_BACKEND = "tests.qms.flaky_mail.FlakyBackend"
    settings.SITE_URL = "https://qms.example.org"
    flaky_mail.FAILURES[0] = 0
    yield flaky_mail.FAILURES
    flaky_mail.FAILURES[0] = 0


def test_the_message_id_is_derived_from_the_row_and_the_site(flaky):
    with time_machine.travel(AT, tick=False):
        message = email_outside_user(
            to_email="customer@example.org", subject="Your complaint", body="Thank you."
        )
    assert (
        outbox_message_id(message)
        == f"<qms.outbox.{message.pk}.20260329005930000000@qms.example.org>"
    )
    assert outbox_deliver(message.pk) is True
    assert mail.outbox[0].extra_headers["Message-ID"] == outbox_message_id(message)
    assert mail.outbox[0].message()["Message-ID"] == outbox_message_id(message)


def test_a_retry_after_a_failed_send_carries_the_same_message_id(flaky):
    message = email_outside_user(
        to_email="customer@example.org", subject="Your complaint", body="Thank you."
    )
    flaky[0] = 2
    assert outbox_deliver(message.pk) is False
    assert outbox_deliver(message.pk) is False
    OutboxMessage.objects.filter(pk=message.pk).update(
        created_at=message.created_at - datetime.timedelta(minutes=5)
    )
    assert deliver_pending_outbox() == 1  # the beat sweep's retry
    message.refresh_from_db()
    assert message.attempts == 3 and message.sent_at is not None
    assert [m.message()["Message-ID"] for m in mail.outbox] == [outbox_message_id(message)]


def test_a_delivery_repeated_after_a_crash_before_the_commit_is_the_same_message(flaky):
    """The send succeeded but the transaction that marks the row sent was lost (worker killed):
    at-least-once sends it again, with the same Message-ID, so the receiver can drop the copy."""
    message = email_outside_user(
        to_email="customer@example.org", subject="Your complaint", body="Thank you."
    )

    class Crash(Exception):
        pass

    with pytest.raises(Crash), transaction.atomic():
        assert outbox_deliver(message.pk) is True
        raise Crash
    assert OutboxMessage.objects.get(pk=message.pk).sent_at is None
    assert outbox_deliver(message.pk) is True
    ids = [m.message()["Message-ID"] for m in mail.outbox]
    assert len(ids) == 2 and ids[0] == ids[1] == outbox_message_id(message)


def test_each_outbox_row_has_its_own_message_id(flaky, staff, manager, auditor):
    notify(
        [staff, manager, auditor],
        subject="CMP-2026-00001 is overdue",
        body="Act now.",
        url="/complaints/1/",
    )
    for message in OutboxMessage.objects.all():
        outbox_deliver(message.pk)
    ids = [m.message()["Message-ID"] for m in mail.outbox]
    assert len(ids) == 3 == len(set(ids))
    assert all(
        re.fullmatch(r"<qms\.outbox\.\d+\.\d{20}@qms\.example\.org>", value) for value in ids
    )


def test_the_message_id_does_not_depend_on_the_worker_host(flaky, monkeypatch):
    message = email_outside_user(
        to_email="customer@example.org", subject="Your complaint", body="Thank you."
    )
    first = outbox_message_id(message)
    monkeypatch.setattr("socket.getfqdn", lambda *args: "another-worker.internal")
    assert outbox_message_id(OutboxMessage.objects.get(pk=message.pk)) == first
