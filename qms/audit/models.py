"""Results of the audit-trail verification (issue 8). Kept as evidence, never changed."""

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

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    is_intact = models.BooleanField()
    tables_checked = models.PositiveIntegerField(default=0)
    rows_checked = models.PositiveBigIntegerField(default=0)
    breaks = models.JSONField(default=list, blank=True)  # the first break of each broken table
    anchors = models.JSONField(default=dict, blank=True)  # {table: {"pk", "hash", "rows"}}
    triggered_by = models.CharField(max_length=20, choices=Trigger.choices, default=Trigger.COMMAND)

    class Meta:
        app_label = "qms"
        ordering = ["-started_at", "-id"]
        get_latest_by = "started_at"

    def __str__(self):
        state = "intact" if self.is_intact else "BROKEN"
        return f"Audit trail verification {self.started_at:%Y-%m-%d %H:%M}: {state}"

    @property
    def first_break(self) -> dict | None:
        return self.breaks[0] if self.breaks else None
