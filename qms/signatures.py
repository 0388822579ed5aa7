"""Electronic signatures (21 CFR Part 11 style, docs/architecture.md rule 3).

The signer re-enters the password; only then is a Signature row written, linking user, time,
meaning and the SHA-256 of the record's canonical content. A wrong password changes nothing,
is recorded as a security event and counts towards the log-in lock-out (django-axes).
"""


from django.contrib.auth import authenticate
from django.contrib.contenttypes.models import ContentType
from simple_history.models import HistoricalRecords

from qms.errors import SignatureRejected
from qms.history import chain_link, content_hash  # noqa: F401  (content_hash: named here too)
from qms.models import SecurityEvent, Signature

EXCLUDED_FROM_CONTENT = {"version"}


def signed_content(record) -> dict:
    """The record's own fields as plain JSON values (foreign keys as ids), keys sorted."""
    content = {}
    for field in record._meta.concrete_fields:
        if field.name in EXCLUDED_FROM_CONTENT:
            continue
        value = getattr(record, field.attname)
        content[field.attname] = value if value is None or isinstance(value, bool | int | float | str) else str(value)
    return {"model": record._meta.label_lower, "fields": dict(sorted(content.items()))}


def verify_signer_password(signer, password: str | None) -> None:
    """Check the re-entered password before anything is written.

    Called outside the transaction that makes the change, so the failure record survives the
    rollback. Within a web request the check goes through Django's `authenticate`, so that
    django-axes counts the failure and refuses a locked-out signer.
    """
    request = getattr(HistoricalRecords.context, "request", None)
    if not password:
        raise SignatureRejected("Re-enter your password to sign.", field_errors={"password": ["Re-enter your password to sign."]})
    if request is not None:
        request.qms_auth_purpose = "signature"  # recorded below with its own kind
        user = authenticate(request=request, username=signer.get_username(), password=password)
        ok = user is not None and user.pk == signer.pk
    else:
        ok = signer.is_active and signer.check_password(password)
    if not ok:
        SecurityEvent.objects.create(
            kind=SecurityEvent.Kind.SIGNATURE_FAILED,
            username=signer.get_username(),
            user=signer,
            ip_address=_client_ip(request),
            path=request.path[:300] if request is not None else "",
            detail="wrong password for an electronic signature",
        )
        raise SignatureRejected("The password is not correct; nothing was signed.", field_errors={"password": ["The password is not correct; nothing was signed."]})


def signature_create(record, *, signer, meaning: str, reason: str = "") -> Signature:
    """Write the signature row. The caller has verified the password (verify_signer_password)
    and holds the transaction that changes the record."""
    content = signed_content(record)
    signature = Signature(
        content_type=ContentType.objects.get_for_model(record),
        object_id=record.pk,
        record_repr=str(record)[:200],
        signer=signer,
        signer_name=signer.full_name[:200],
        meaning=meaning,
        reason=reason,
        content=content,
        content_hash=content_hash(content),
    )
    chain_link(signature)
    signature.save()
    return signature


def signatures_for(record):
    return Signature.objects.filter(
        content_type=ContentType.objects.get_for_model(record), object_id=record.pk
    ).select_related("signer")


def _client_ip(request):
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None
