"""The shared kernel's data: users and departments, workflow transitions, electronic
signatures, reference counters, notifications with their outbox, and security events."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.urls import reverse
from django.utils import timezone

from qms.history import ChainedM2MHistoryBase, content_hash, regulated_history


class Department(models.Model):
    name = models.CharField(max_length=120, unique=True)
    history = regulated_history()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class User(AbstractUser):
    """A person who logs in. Users are deactivated, never deleted (their names stay on records)."""

    department = models.ForeignKey(Department, on_delete=models.PROTECT, null=True, blank=True, related_name="members")
    job_function = models.CharField(max_length=120, blank=True)
    manager = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="reports")
    # Role membership is a regulated record: who was made a Quality Manager, when, by whom.
    history = regulated_history(
        m2m_fields=["groups"], m2m_bases=[ChainedM2MHistoryBase], excluded_fields=["last_login", "password"]
    )

    class Meta:
        ordering = ["username"]

    @property
    def full_name(self) -> str:
        return self.get_full_name() or self.username

    def __str__(self):
        return self.full_name


class Transition(models.Model):
    """One business step of a record's workflow: who moved it from which state to which, why."""

    qms_append_only = True

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.BigIntegerField()
    action = models.CharField(max_length=40)
    from_state = models.CharField(max_length=40)
    to_state = models.CharField(max_length=40)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)
    signature = models.OneToOneField("Signature", on_delete=models.PROTECT, null=True, blank=True, related_name="transition")

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["content_type", "object_id", "at"], name="qms_transition_record_idx")]

    def __str__(self):
        return f"{self.action}: {self.from_state} -> {self.to_state}"


class Signature(models.Model):
    """An electronic signature (21 CFR 11.50, 11.70): signer, time, meaning, and a SHA-256 of
    the signed record's content, linked to the record. Signatures are never changed or removed."""

    qms_append_only = True

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.BigIntegerField()
    record_repr = models.CharField(max_length=200)
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signatures")
    signer_name = models.CharField(max_length=200)  # the printed name at signing time (11.50(a)(1))
    meaning = models.CharField(max_length=80)
    reason = models.TextField(blank=True)
    signed_at = models.DateTimeField(default=timezone.now)
    content_hash = models.CharField(max_length=64)
    content = models.JSONField(default=dict)  # the canonical content that was hashed
    prev_hash = models.CharField(max_length=64, blank=True, default="")  # tamper-evidence chain
    entry_hash = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["signed_at", "id"]
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="qms_signature_record_idx"),
            # The audit trail reads the newest signatures first (ORDER BY signed_at DESC LIMIT n).
            models.Index(fields=["signed_at"], name="qms_signature_signed_at_idx"),
        ]

    def __str__(self):
        return f"{self.signer_name}: {self.meaning} ({self.signed_at:%Y-%m-%d %H:%M})"

    @property
    def hash_matches(self) -> bool:
        return content_hash(self.content) == self.content_hash


class ReferenceCounter(models.Model):
    """The last number handed out per (prefix, year); incremented in the creating transaction,
    so a rolled-back create gives its number back and references stay gapless."""

    prefix = models.CharField(max_length=20)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prefix", "year"], name="qms_reference_counter_unique")]

    def __str__(self):
        return f"{self.prefix}-{self.year}: {self.last}"


class Notification(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notifications")
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at", "-created_at"], name="qms_notification_inbox_idx")]

    def __str__(self):
        return self.subject


class OutboxMessage(models.Model):
    """An e-mail waiting to be sent, written in the same transaction as the change that caused
    it and delivered at least once by `qms.deliver_outbox_message` (docs/architecture.md rule 4)."""

    notification = models.ForeignKey(Notification, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    to_email = models.EmailField()
    subject = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["created_at"], name="qms_outbox_pending_idx", condition=models.Q(sent_at__isnull=True)
            )
        ]

    def __str__(self):
        return f"{self.to_email}: {self.subject}"


class SecurityEvent(models.Model):
    """Log-in, log-out, lock-out, failed signature and permission-denied events (issue 8)."""

    qms_append_only = True

    class Kind(models.TextChoices):
        LOGIN = "login", "Logged in"
        LOGIN_FAILED = "login_failed", "Log-in failed"
        LOCKED_OUT = "locked_out", "Locked out"
        LOGOUT = "logout", "Logged out"
        SIGNATURE_FAILED = "signature_failed", "Signature password wrong"
        TOKEN_FAILED = "token_failed", "API token request failed"
        TOKEN_ISSUED = "token_issued", "API token issued"
        TOKEN_REVOKED = "token_revoked", "API token revoked"
        PERMISSION_DENIED = "permission_denied", "Permission denied"

    kind = models.CharField(max_length=30, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    username = models.CharField(max_length=150, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    path = models.CharField(max_length=300, blank=True)
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["-at"], name="qms_securityevent_at_idx")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.username}"

    def get_absolute_url(self):
        return reverse("home")


# The audit trail's own model lives with the audit package (issue 8); imported here so that it
# belongs to the qms app's models and migrations.
from qms.audit.models import AuditBreakAcknowledgement, AuditVerification  # noqa: E402, F401


class ApiToken(models.Model):
    """An API token (issue 16 item 7). Only a SHA-256 of the key is stored: the key is shown once,
    when it is issued. A token expires (QMS_API_TOKEN_DAYS after issue) and can be revoked by its
    owner or an administrator; it never works for a deactivated user. Rows are kept, never
    deleted, so the record of who had API access when stays."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField(max_length=100)
    key_prefix = models.CharField(max_length=8, help_text="The first characters of the key, to recognise it.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(expires_at__gt=models.F("created_at")), name="qms_apitoken_expires_after_created"),
            models.CheckConstraint(
                condition=models.Q(revoked_at__isnull=True, revoked_by__isnull=True) | models.Q(revoked_at__isnull=False),
                name="qms_apitoken_revoked_by_needs_revoked_at",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.key_prefix}…)"

    def get_absolute_url(self):
        return reverse("api-tokens")

    def status_at(self, now) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        return "active"


class HandoffNotice(models.Model):
    """One row per hand-off announced: a record entered a state in which it waits for someone,
    and they were told (qms.handoffs). The unique key makes a second call, a retried task or a
    second sweep a no-op, so each hand-off is notified once (docs/architecture.md rule 4)."""

    record_label = models.CharField(max_length=100)  # "capa.capa"
    record_id = models.PositiveBigIntegerField()
    state = models.CharField(max_length=100)  # "awaiting_closure_signature"
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["record_label", "record_id", "state"], name="qms_handoff_once_per_state"),
        ]

    def __str__(self):
        return f"{self.record_label}#{self.record_id} {self.state}"
