"""CAPA records (ISO 9001 10.2, ISO 13485 8.5.2, 21 CFR 820.100): the CAPA, its root cause
analysis (5 Whys and fishbone), its planned actions with evidence, its effectiveness checks,
and the reminders and escalations the Celery sweep sends about them."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from capa.workflow import ActionStatus, CapaStatus, CheckResult
from qms.history import ChainedM2MHistoryBase, regulated_history
from qms.versioning import VersionedModel


class Kind(models.TextChoices):
    CORRECTIVE = "corrective", "Corrective"
    PREVENTIVE = "preventive", "Preventive"


class Source(models.TextChoices):
    COMPLAINT = "complaint", "Complaint"
    INTERNAL_AUDIT = "internal_audit", "Internal audit finding"
    NONCONFORMANCE = "nonconformance", "Nonconformance"
    KPI_TREND = "kpi_trend", "KPI trend alert"
    OTHER = "other", "Other"


class RiskLevel(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


SEVERITY_LABELS = {1: "Negligible", 2: "Minor", 3: "Moderate", 4: "Major", 5: "Catastrophic"}
OCCURRENCE_LABELS = {1: "Rare", 2: "Unlikely", 3: "Possible", 4: "Likely", 5: "Almost certain"}


def risk_level_for(severity: int, occurrence: int) -> str:
    """The 5x5 matrix: score = severity x occurrence; 1-4 low, 5-9 medium, 10-16 high, 20-25 critical."""
    score = severity * occurrence
    if score >= 20:
        return RiskLevel.CRITICAL
    if score >= 10:
        return RiskLevel.HIGH
    if score >= 5:
        return RiskLevel.MEDIUM
    return RiskLevel.LOW


class Capa(VersionedModel):
    reference = models.CharField(max_length=20, unique=True, editable=False)
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.CORRECTIVE)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.OTHER)
    complaints = models.ManyToManyField("complaints.Complaint", related_name="capas", blank=True)
    problem_statement = models.TextField()
    severity = models.PositiveSmallIntegerField(
        default=3, help_text="1 negligible ... 5 catastrophic"
    )
    occurrence = models.PositiveSmallIntegerField(
        default=3, help_text="1 rare ... 5 almost certain"
    )
    risk_level = models.CharField(max_length=10, choices=RiskLevel.choices, editable=False)
    containment_action = models.TextField(
        blank=True, help_text="Immediate action taken to contain the problem."
    )
    containment_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    containment_at = models.DateTimeField(null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_capas"
    )
    due_date = models.DateField()
    status = models.CharField(
        max_length=30, choices=CapaStatus.choices, default=CapaStatus.OPEN, editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    implemented_at = models.DateTimeField(null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    reopen_count = models.PositiveSmallIntegerField(default=0, editable=False)
    # Set once by the recurrence sweep when a complaint repeats the problem of this closed CAPA
    # (complaints.selectors.complaint_repeats): the CAPA shows it, its owner is told.
    recurred_after_closure_at = models.DateTimeField(null=True, blank=True, editable=False)
    recurrence_after_closure = models.CharField(max_length=300, blank=True, editable=False)
    history = regulated_history(
        m2m_fields=["complaints"],
        m2m_bases=[ChainedM2MHistoryBase],
        chain_added_fields=["recurred_after_closure_at", "recurrence_after_closure"],  # decision 0040
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "CAPA"
        constraints = [
            models.CheckConstraint(
                condition=Q(severity__gte=1, severity__lte=5), name="capa_severity_1_5"
            ),
            models.CheckConstraint(
                condition=Q(occurrence__gte=1, occurrence__lte=5), name="capa_occurrence_1_5"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="capa_status_created_idx"),
            models.Index(fields=["owner", "status"], name="capa_owner_status_idx"),
        ]

    def __str__(self):
        return self.reference

    def get_absolute_url(self):
        return reverse("capa:detail", args=[self.pk])

    @property
    def risk_score(self) -> int:
        return self.severity * self.occurrence

    @property
    def is_open(self) -> bool:
        return self.status not in (CapaStatus.CLOSED, CapaStatus.CANCELLED)

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_date < timezone.localdate()


class RootCauseMethod(models.TextChoices):
    FIVE_WHYS = "five_whys", "5 Whys"
    FISHBONE = "fishbone", "Fishbone (Ishikawa)"
    BOTH = "both", "5 Whys and fishbone"


class FishboneCategory(models.TextChoices):
    PEOPLE = "people", "People"
    METHOD = "method", "Method"
    MACHINE = "machine", "Machine"
    MATERIAL = "material", "Material"
    MEASUREMENT = "measurement", "Measurement"
    ENVIRONMENT = "environment", "Environment"


class RootCauseAnalysis(VersionedModel):
    """One per CAPA. `whys` is the ordered chain [{"why": ..., "because": ...}]; `fishbone` maps
    each of the six categories to its list of causes. Both are small and always read whole, so
    they live as JSON on the analysis (and its history shows every edit of the chain)."""

    capa = models.OneToOneField(Capa, on_delete=models.PROTECT, related_name="root_cause")
    method = models.CharField(
        max_length=20, choices=RootCauseMethod.choices, default=RootCauseMethod.BOTH
    )
    whys = models.JSONField(default=list, blank=True)
    fishbone = models.JSONField(default=dict, blank=True)
    conclusion = models.TextField(blank=True)
    analysed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    analysed_at = models.DateTimeField(null=True, blank=True)
    history = regulated_history()
    trail_parent = "capa"  # in the audit trail under its parent (qms.audit.registry)

    class Meta:
        verbose_name = "root cause analysis"
        verbose_name_plural = "root cause analyses"

    def __str__(self):
        return f"Root cause analysis of {self.capa}"

    def get_absolute_url(self):
        return reverse("capa:detail", args=[self.capa_id])

    def fishbone_items(self) -> list[tuple[str, str, list[str]]]:
        return [
            (value, label, list(self.fishbone.get(value, [])))
            for value, label in FishboneCategory.choices
        ]


class ActionType(models.TextChoices):
    FIX = "fix", "Fix"
    PROCESS_CHANGE = "process_change", "Process change"
    DOCUMENT_REVISION = "document_revision", "Revise a controlled document"
    RETRAINING = "retraining", "Retrain a role"
    OTHER = "other", "Other"


class CapaAction(VersionedModel):
    capa = models.ForeignKey(Capa, on_delete=models.PROTECT, related_name="actions")
    number = models.PositiveSmallIntegerField(editable=False)
    action_type = models.CharField(
        max_length=30, choices=ActionType.choices, default=ActionType.FIX
    )
    description = models.TextField()
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="capa_actions"
    )
    due_date = models.DateField()
    status = models.CharField(
        max_length=20, choices=ActionStatus.choices, default=ActionStatus.PLANNED, editable=False
    )
    evidence = models.TextField(blank=True)
    completed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # "Revise a controlled document": done only when a newer revision than the one effective at
    # planning time is effective (baseline_revision is that planning-time revision).
    document = models.ForeignKey(
        "documents.Document",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="capa_actions",
    )
    baseline_revision = models.CharField(max_length=20, blank=True, editable=False)
    baseline_revision_index = models.PositiveIntegerField(default=0, editable=False)
    # "Retrain a role": checked by hand until the training app can answer (role and document kept).
    role = models.ForeignKey(
        "auth.Group", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    escalation_level = models.PositiveSmallIntegerField(default=0, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    history = regulated_history(chain_added_fields=["document"])  # decision 0040
    trail_parent = "capa"  # in the audit trail under its parent (qms.audit.registry)

    class Meta:
        ordering = ["capa_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["capa", "number"], name="capa_action_number_unique")
        ]
        indexes = [
            # The overdue sweep: open actions by due date.
            models.Index(
                fields=["due_date"],
                name="capa_action_open_due_idx",
                condition=Q(status__in=["planned", "in_progress"]),
            ),
            models.Index(fields=["owner", "status", "due_date"], name="capa_action_owner_idx"),
        ]

    def __str__(self):
        return (
            f"{self.capa.reference} action {self.number}"
            if self.capa_id
            else f"action {self.number}"
        )

    def get_absolute_url(self):
        return reverse("capa:detail", args=[self.capa_id]) + f"#action-{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in (ActionStatus.PLANNED, ActionStatus.IN_PROGRESS)

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_date < timezone.localdate()


def evidence_upload_to(instance, filename):
    return f"capa/evidence/{timezone.now():%Y/%m}/{instance.stored_name}"


class ActionEvidence(models.Model):
    """A file proving an action was done. Files are kept, never replaced or removed."""

    action = models.ForeignKey(CapaAction, on_delete=models.PROTECT, related_name="evidence_files")
    file = models.FileField(upload_to=evidence_upload_to, max_length=300)
    stored_name = models.CharField(max_length=80, editable=False)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)
    history = regulated_history()
    trail_parent = "action"  # in the audit trail under its parent (qms.audit.registry)

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name_plural = "action evidence"

    def __str__(self):
        return self.original_name

    def get_absolute_url(self):
        return reverse("capa:evidence-download", args=[self.pk])


DEFAULT_OBSERVATION_DAYS = 90


class EffectivenessCheck(VersionedModel):
    capa = models.ForeignKey(Capa, on_delete=models.PROTECT, related_name="checks")
    criteria = models.TextField(help_text="What must be true for the CAPA to count as effective.")
    # Null until the CAPA is implemented: the default is 90 days after implementation.
    due_date = models.DateField(null=True, blank=True)
    verifier = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="capa_checks_to_verify"
    )
    result = models.CharField(
        max_length=20, choices=CheckResult.choices, default=CheckResult.PENDING, editable=False
    )
    evidence = models.TextField(blank=True, editable=False)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    verified_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    history = regulated_history()
    trail_parent = "capa"  # in the audit trail under its parent (qms.audit.registry)

    class Meta:
        ordering = ["capa_id", "created_at", "id"]
        indexes = [
            # The reminder / escalation sweep: pending checks by due date.
            models.Index(
                fields=["due_date"],
                name="capa_check_pending_due_idx",
                condition=Q(result="pending"),
            ),
        ]

    def __str__(self):
        return (
            f"{self.capa.reference} effectiveness check" if self.capa_id else "effectiveness check"
        )

    def get_absolute_url(self):
        return reverse("capa:detail", args=[self.capa_id]) + f"#check-{self.pk}"

    @property
    def is_overdue(self) -> bool:
        return (
            self.result == CheckResult.PENDING
            and self.due_date is not None
            and self.due_date < timezone.localdate()
        )


class Escalation(models.Model):
    """A reminder or escalation sent once by the sweep. The unique constraints on
    (record, kind, level) make a second sweep, a second beat or a retried task a no-op."""

    class Kind(models.TextChoices):
        ACTION_OVERDUE = "action_overdue", "Action overdue"
        CHECK_DUE = "check_due", "Effectiveness check due"
        CHECK_OVERDUE = "check_overdue", "Effectiveness check overdue"
        RECURRENCE = "recurrence", "Recurrence during observation"

    capa = models.ForeignKey(Capa, on_delete=models.PROTECT, related_name="escalations")
    action = models.ForeignKey(
        CapaAction, on_delete=models.PROTECT, null=True, blank=True, related_name="escalations"
    )
    check_record = models.ForeignKey(
        EffectivenessCheck,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="escalations",
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    level = models.PositiveSmallIntegerField(default=1)
    at = models.DateTimeField(default=timezone.now)
    notified = models.CharField(max_length=500, blank=True)
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["action", "kind", "level"],
                name="capa_escalation_action_once",
                condition=Q(action__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["check_record", "kind", "level"],
                name="capa_escalation_check_once",
                condition=Q(check_record__isnull=False),
            ),
            models.CheckConstraint(
                condition=Q(action__isnull=False) | Q(check_record__isnull=False),
                name="capa_escalation_has_subject",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} (level {self.level})"
