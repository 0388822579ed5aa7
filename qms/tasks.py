from celery import shared_task

from qms import notifications


@shared_task(name="qms.deliver_outbox_message")
def deliver_outbox_message(message_id: int) -> bool:
    return notifications.outbox_deliver(message_id)


@shared_task(name="qms.deliver_outbox_messages")
def deliver_outbox_messages(message_ids: list[int]) -> int:
    """Deliver a chunk of outbox messages written together (a bulk notify_many): one broker
    message for many e-mails. Each is still sent at most once here (outbox_deliver skips sent
    and locked rows), and a lost or interrupted chunk is picked up by deliver_pending_outbox."""
    return sum(notifications.outbox_deliver(message_id) for message_id in message_ids)


@shared_task(name="qms.deliver_pending_outbox")
def deliver_pending_outbox() -> int:
    """Beat sweep: deliver what the on-commit task did not (worker down, broker lost it)."""
    sent = 0
    for message_id in notifications.outbox_pending_ids():
        sent += notifications.outbox_deliver(message_id)
    return sent


@shared_task(name="qms.verify_audit_trail")
def verify_audit_trail(full: bool = False) -> bool:
    """Beat: re-compute the hash chains and store the result for the audit trail page; nightly
    from the last anchors on, weekly `full` from every chain's first row (decision 0050)."""
    from qms.audit.models import AuditVerification
    from qms.audit.verify import verify_audit_trail as verify

    return verify(triggered_by=AuditVerification.Trigger.SCHEDULE, incremental=not full).is_intact
