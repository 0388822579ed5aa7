"""Record log-in, log-out, failed log-in and lock-out events in the append-only SecurityEvent
table (issue 8). Django and django-axes announce these with signals, so receivers are the way in."""

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.utils import timezone

from qms.models import SecurityEvent


def client_ip(request):
    return request.META.get("REMOTE_ADDR") if request is not None else None


def record_event(kind, *, request=None, user=None, username="", detail=""):
    SecurityEvent.objects.create(
        kind=kind,
        user=user if user is not None and user.pk else None,
        username=(username or (user.get_username() if user is not None else ""))[:150],
        ip_address=client_ip(request),
        path=(request.path if request is not None else "")[:300],
        detail=detail[:300],
    )


@receiver(user_logged_in, dispatch_uid="qms.login")
def on_login(sender, request, user, **kwargs):
    record_event(SecurityEvent.Kind.LOGIN, request=request, user=user)


@receiver(user_logged_out, dispatch_uid="qms.logout")
def on_logout(sender, request, user, **kwargs):
    if user is not None:
        record_event(SecurityEvent.Kind.LOGOUT, request=request, user=user)


@receiver(user_login_failed, dispatch_uid="qms.login_failed")
def on_login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", ""))
    # Signature and token failures are recorded by their own code with their own kind.
    if request is not None and getattr(request, "qms_auth_purpose", "") in {"signature", "token"}:
        return
    user = get_user_model().objects.filter(username=username).first()
    record_event(SecurityEvent.Kind.LOGIN_FAILED, request=request, user=user, username=username)


@receiver(user_locked_out, dispatch_uid="qms.locked_out")
def on_locked_out(sender, request, username, ip_address, **kwargs):
    user = get_user_model().objects.filter(username=username).first()
    record_event(SecurityEvent.Kind.LOCKED_OUT, request=request, user=user, username=username or "")


# Django stamps last_login with a save() on every log-in. last_login is not part of the user's
# regulated history (excluded_fields), yet simple-history would still add an empty "changed"
# entry to the audit trail for each log-in. The log-in itself is the SecurityEvent above.
user_logged_in.disconnect(dispatch_uid="update_last_login")


@receiver(user_logged_in, dispatch_uid="qms.update_last_login")
def update_last_login_without_history(sender, user, **kwargs):
    user.last_login = timezone.now()
    user.skip_history_when_saving = True
    try:
        user.save(update_fields=["last_login"])
    finally:
        del user.skip_history_when_saving
