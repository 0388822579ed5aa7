"""Results of the audit-trail verification (issue 8). Kept as evidence, never changed."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditVerification(models.Model):
    """One run of `verify_audit_trail`: whether every hash chain was intact, where the first
    break is, and an anchor per table (its newest row and hash) that the next run checks, so
    that removing the newest rows of a table is caught too."""

    qms_append_only = True

    class Trigger(models.TextChoices):
        COMMAND = "command", "Command line"
        SCHEDULE = "schedule", "Nightly schedule"
        TEST = "test", "Test"

    class Kind(models.TextChoices):
        # Decision 0050: a full run re-hashes every row; an incremental one the rows from each
        # chain's last anchor on (nightly), counting those before it.
        FULL = "full", "Full"
        INCREMENTAL = "incremental", "Incremental"

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    is_intact = models.BooleanField()
    tables_checked = models.PositiveIntegerField(default=0)
    rows_checked = models.PositiveBigIntegerField(default=0)  # rows whose hash this run re-computed
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.FULL)
    breaks = models.JSONField(default=list, blank=True)  # the first break of each broken table
    anchors = models.JSONField(default=dict, blank=True)  # {table: {"pk", "hash", "rows"}}
    triggered_by = models.CharField(max_length=20, choices=Trigger.choices, default=Trigger.COMMAND)
    # Breaks a Quality Manager has acknowledged (AuditBreakAcknowledgement) that are still seen.
    acknowledged_breaks = models.JSONField(default=list, blank=True)
    # The last line this run wrote to the external anchor log (qms.audit.anchors): the next run
    # checks that the log still holds it, so cutting lines off the log's end shows too.
    anchor_log_seq = models.PositiveBigIntegerField(default=0)
    anchor_log_hash = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        app_label = "qms"
        ordering = ["-started_at", "-id"]
        get_latest_by = "started_at"

    def __str__(self):
        state = "intact" if self.is_intact else "BROKEN"
        return f"Audit trail verification ({self.kind}) {self.started_at:%Y-%m-%d %H:%M}: {state}"

    @property
    def rows_in_chains(self) -> int:
        """Every row of the chains up to this run's anchors (an incremental run re-hashed only
        `rows_checked` of them)."""
        return sum(anchor.get("rows") or 0 for anchor in (self.anchors or {}).values())

    @property
    def first_break(self) -> dict | None:
        return self.breaks[0] if self.breaks else None


class AuditBreakAcknowledgement(models.Model):
    """A Quality Manager's signed acknowledgement of the breaks a verification reported (issue
    15). Until one exists, every later run keeps reporting them; the acknowledgement is written
    to the external anchor log as well, and only the log's copy silences a break."""

    qms_append_only = True

    verification = models.ForeignKey(AuditVerification, on_delete=models.PROTECT, related_name="acknowledgements")
    break_keys = models.JSONField(default=list)  # the keys of the breaks acknowledged
    breaks = models.JSONField(default=list)  # the breaks as reported, kept with the reason
    reason = models.TextField()
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    acknowledged_at = models.DateTimeField(default=timezone.now)
    signature = models.OneToOneField("qms.Signature", on_delete=models.PROTECT, related_name="audit_acknowledgement")
    anchor_log_seq = models.PositiveBigIntegerField(default=0)

    class Meta:
        app_label = "qms"
        ordering = ["-acknowledged_at", "-id"]

    def __str__(self):
        return f"Acknowledgement of {len(self.break_keys)} audit trail break(s) by {self.acknowledged_by}"
