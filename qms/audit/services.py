"""Writes of the audit trail itself: a Quality Manager's signed acknowledgement of the breaks a
verification reported (issue 15). Until one exists every later run, the trail page and every
export keep reporting them."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from qms import roles as qms_roles
from qms.audit import anchors as anchor_log
from qms.audit.models import AuditBreakAcknowledgement
from qms.audit.verify import latest_verification
from qms.errors import DomainError, IllegalTransition, NotAllowed, ValidationFailed
from qms.signatures import signature_create, verify_signer_password

ACKNOWLEDGE_MEANING = "Audit trail breaks acknowledged"


def audit_breaks_acknowledge(
    *, actor, password: str | None, reason: str, meaning: str = ACKNOWLEDGE_MEANING
) -> AuditBreakAcknowledgement:
    """Acknowledge every break the latest verification reported, with the actor's electronic
    signature (21 CFR 11.50) and their own reason. The acknowledgement goes to the external
    anchor log too: only the log's copy, signed with the key the database does not hold,
    silences the breaks on later runs, so a row inserted into the database does not."""
    if not qms_roles.has_role(actor, qms_roles.MANAGER) or qms_roles.is_read_only(actor):
        raise NotAllowed("Only a Quality Manager may acknowledge a break of the audit trail.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed.on(
            "reason", "Say why the break is acknowledged: what was found and what was done."
        )
    verification = latest_verification()
    if verification is None or verification.is_intact:
        raise IllegalTransition(
            "The latest verification reported no break: there is nothing to acknowledge."
        )
    verify_signer_password(actor, password)
    keys = [item["key"] for item in verification.breaks]
    with transaction.atomic():
        signature = signature_create(verification, signer=actor, meaning=meaning, reason=reason)
        try:
            seq, _ = anchor_log.append_lines(
                [
                    {
                        "kind": anchor_log.ACKNOWLEDGEMENT,
                        "at": timezone.now().isoformat(),
                        "keys": keys,
                        "by": actor.get_username(),
                        "reason": reason,
                        "verification_id": verification.pk,
                        "signature_id": signature.pk,
                        "signature_hash": signature.entry_hash,
                    }
                ]
            )
        except OSError as error:
            raise DomainError(
                f"The external anchor log could not be written ({error.strerror or error}); nothing was acknowledged."
            ) from error
        return AuditBreakAcknowledgement.objects.create(
            verification=verification,
            break_keys=keys,
            breaks=verification.breaks,
            reason=reason,
            acknowledged_by=actor,
            acknowledged_at=signature.signed_at,
            signature=signature,
            anchor_log_seq=seq,
        )
