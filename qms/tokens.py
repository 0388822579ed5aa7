"""API tokens (issue 16 item 7): issue, revoke, and check a presented key.

The key is 40 random URL-safe characters (240 bits) shown once; the database keeps its SHA-256.
A salted slow hash (as for passwords) is not needed for keys of that entropy, and a plain digest
lets authentication find the row by an indexed lookup (docs/decisions/0029)."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from qms import roles as qms_roles
from qms.errors import NotAllowed, ValidationFailed
from qms.models import ApiToken, SecurityEvent
from qms.security_events import record_event

# last_used_at is written at most this often per token: not one UPDATE per API request.
LAST_USED_PRECISION = timedelta(minutes=5)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", errors="surrogatepass")).hexdigest()


@transaction.atomic
def api_token_issue(*, user, name: str = "", request=None) -> tuple[ApiToken, str]:
    """A new token for `user`; returns the row and the key (the only time the key is seen)."""
    name = (name or "").strip() or "API token"
    if len(name) > 100:
        raise ValidationFailed.on("name", "At most 100 characters.")
    key = secrets.token_urlsafe(30)
    now = timezone.now()
    token = ApiToken.objects.create(
        user=user,
        name=name,
        key_prefix=key[:8],
        key_hash=hash_key(key),
        created_at=now,
        expires_at=now + timedelta(days=settings.QMS_API_TOKEN_DAYS),
    )
    record_event(
        SecurityEvent.Kind.TOKEN_ISSUED,
        request=request,
        user=user,
        detail=f"{token.name} ({token.key_prefix})",
    )
    return token, key


def can_revoke(actor, token: ApiToken) -> bool:
    return token.user_id == actor.pk or qms_roles.has_role(actor, qms_roles.ADMINISTRATOR)


@transaction.atomic
def api_token_revoke(token: ApiToken, *, actor, request=None) -> ApiToken:
    """Revoke a token: by its owner or by an administrator. Revoking twice changes nothing."""
    locked = ApiToken.objects.select_for_update().get(pk=token.pk)
    if not can_revoke(actor, locked):
        raise NotAllowed("Only the token's owner or an administrator may revoke it.")
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.revoked_by = actor
        locked.save(update_fields=["revoked_at", "revoked_by"])
        record_event(
            SecurityEvent.Kind.TOKEN_REVOKED,
            request=request,
            user=actor,
            detail=f"{locked.name} ({locked.key_prefix}) of {locked.user.get_username()}",
        )
    return locked


def api_token_user(key: str):
    """(user, token) for a presented key, or (None, reason) when it does not authenticate:
    unknown, revoked, expired, or its user is deactivated."""
    token = ApiToken.objects.select_related("user").filter(key_hash=hash_key(key)).first()
    if token is None:
        return None, "Invalid token."
    now = timezone.now()
    if token.revoked_at is not None:
        return None, "This token was revoked."
    if token.expires_at <= now:
        return None, "This token has expired; request a new one."
    if not token.user.is_active:
        # Deactivation ends every token of the user for good, not only while inactive.
        api_tokens_end_for_inactive(token.user)
        return None, "User inactive or deleted."
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token.user, token


def api_tokens_active_for(user):
    return ApiToken.objects.filter(
        user=user, revoked_at__isnull=True, expires_at__gt=timezone.now()
    )


def api_tokens_end_for_inactive(user) -> int:
    """Revoke every live token of a deactivated user (revoked_by empty: no person did it; the
    deactivation did). Called when the admin deactivates a user and at the next use of a token."""
    if user.is_active:
        return 0
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
