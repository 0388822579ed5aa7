"""Metrics (ISO 9001 9.1 monitoring and measurement, 9.3 management review).

- `KpiTarget`: the target and the alert threshold of one KPI, its evaluation window and the
  people who own it. Regulated: edited by Quality Managers with a reason, history and version.
- `KpiAlert`: a KPI that crossed its threshold. One OPEN alert per target at most (a partial
  unique index), so the evaluation sweep raises it once, not once per run; it clears when the
  KPI recovers. Its status changes through metrics.workflow.
- `KpiSnapshot`: the value of each KPI for one day (with numerator and denominator so months
  roll up exactly); trend charts read these, never the live tables.
- `ShippedUnits`: units shipped per product per month, the denominator of the complaint rate.
- `ManagementReview` and `ReviewItem`: the ISO 9001 9.3 review, its input pack frozen as JSON
  when the meeting is held, and its decisions and actions tracked to completion.

The KPI definitions themselves are code (metrics/kpis.py), not rows: a definition is a
query, and a query belongs in version control.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from metrics.kpi_registry import KPI_CHOICES
from metrics.workflow import AlertStatus, ReviewItemStatus, ReviewStatus
from qms.history import ChainedM2MHistoryBase, regulated_history
from qms.versioning import VersionedModel


class KpiTarget(VersionedModel):
    """`target` is where the KPI should be; `threshold` is the level past which an alert is
    raised (below it for KPIs where higher is better, above it for the others)."""

    kpi = models.CharField(max_length=60, choices=KPI_CHOICES, unique=True)
    target = models.DecimalField(max_digits=12, decimal_places=2)
    threshold = models.DecimalField(max_digits=12, decimal_places=2)
    window_days = models.PositiveSmallIntegerField(
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(366)],
        help_text="The alert evaluation measures the KPI over this many days up to now.",
    )
    owners = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="kpi_targets", blank=True)
    is_active = models.BooleanField(default=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    # The owners over time are hash-chained like the history rows (21 CFR 11.10(e)).
    history = regulated_history(m2m_fields=["owners"], m2m_bases=[ChainedM2MHistoryBase])

    class Meta:
        ordering = ["kpi"]
        verbose_name = "KPI target"

    def __str__(self):
        return f"Target for {self.get_kpi_display()}"

    def get_absolute_url(self):
        return reverse("metrics:target-edit", args=[self.pk])


class KpiAlert(VersionedModel):
    target = models.ForeignKey(KpiTarget, on_delete=models.PROTECT, related_name="alerts")
    kpi = models.CharField(max_length=60, choices=KPI_CHOICES)
    status = models.CharField(max_length=10, choices=AlertStatus.choices, default=AlertStatus.OPEN, editable=False)
    raised_at = models.DateTimeField(default=timezone.now)
    value = models.FloatField(help_text="The KPI's value when the alert was raised.")
    threshold = models.DecimalField(max_digits=12, decimal_places=2)
    window_days = models.PositiveSmallIntegerField()
    cleared_at = models.DateTimeField(null=True, blank=True, editable=False)
    cleared_value = models.FloatField(null=True, blank=True, editable=False)
    capa = models.ForeignKey("capa.Capa", on_delete=models.PROTECT, null=True, blank=True, related_name="kpi_alerts", editable=False)
    notified = models.CharField(max_length=500, blank=True)
    history = regulated_history()

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [
            # Raised once: a second evaluation, a second beat or a retried task finds it open.
            models.UniqueConstraint(fields=["target"], condition=Q(status="open"), name="metrics_one_open_alert_per_target"),
        ]
        indexes = [models.Index(fields=["status", "-raised_at"], name="metrics_alert_status_idx")]

    def __str__(self):
        return f"KPI alert #{self.pk}: {self.get_kpi_display()}"

    def get_absolute_url(self):
        return reverse("metrics:alert-detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status == AlertStatus.OPEN


class KpiSnapshot(models.Model):
    """One KPI on one day. Rebuilt in place by `rebuild_kpi_snapshot` (a derived figure, not a
    regulated record: the live tables and their history are the evidence)."""

    date = models.DateField()
    kpi = models.CharField(max_length=60, choices=KPI_CHOICES)
    value = models.FloatField(null=True, blank=True)
    numerator = models.FloatField(null=True, blank=True)
    denominator = models.FloatField(null=True, blank=True)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["date", "kpi"]
        constraints = [models.UniqueConstraint(fields=["date", "kpi"], name="metrics_snapshot_once_per_day")]

    def __str__(self):
        return f"{self.kpi} on {self.date}: {self.value}"


class ShippedUnits(VersionedModel):
    """Units shipped (or orders) of one product in one calendar month (`month` is its 1st day)."""

    product = models.ForeignKey("complaints.Product", on_delete=models.PROTECT, related_name="shipments")
    month = models.DateField()
    units = models.PositiveIntegerField(validators=[MaxValueValidator(1_000_000_000)])
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False)
    entered_at = models.DateTimeField(default=timezone.now, editable=False)
    history = regulated_history()

    class Meta:
        ordering = ["-month", "product__code"]
        verbose_name = "units shipped"
        verbose_name_plural = "units shipped"
        constraints = [
            models.UniqueConstraint(fields=["product", "month"], name="metrics_shipped_once_per_month"),
            models.CheckConstraint(condition=Q(month__day=1), name="metrics_shipped_month_first_day"),
        ]

    def __str__(self):
        return f"{self.product.code} {self.month:%Y-%m}: {self.units}"


class ManagementReview(VersionedModel):
    """ISO 9001 9.3. The input pack is compiled from live data while the review is planned and
    frozen (stored as JSON) when the meeting is held, so the record shows what the meeting saw."""

    reference = models.CharField(max_length=20, unique=True, editable=False)
    title = models.CharField(max_length=200)
    period_start = models.DateField()
    period_end = models.DateField()
    meeting_on = models.DateField()
    attendees = models.TextField(blank=True, max_length=4000)
    summary = models.TextField("conclusions", blank=True, max_length=20000)
    status = models.CharField(max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.PLANNED, editable=False)
    input_pack = models.JSONField(null=True, blank=True, editable=False)
    held_at = models.DateTimeField(null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    history = regulated_history()

    class Meta:
        ordering = ["-meeting_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(period_end__gte=models.F("period_start")), name="metrics_review_period_order"),
            models.CheckConstraint(
                condition=Q(status="planned") | Q(input_pack__isnull=False), name="metrics_review_held_has_pack"
            ),
        ]

    def __str__(self):
        return f"{self.reference} {self.title}"

    def get_absolute_url(self):
        return reverse("metrics:review-detail", args=[self.pk])


class ReviewItemKind(models.TextChoices):
    DECISION = "decision", "Decision"
    ACTION = "action", "Action"


class ReviewOutputCategory(models.TextChoices):
    # ISO 9001 9.3.3: the outputs of the review.
    IMPROVEMENT = "improvement", "Opportunity for improvement"
    QMS_CHANGE = "qms_change", "Change to the QMS"
    RESOURCES = "resources", "Resource need"


class ReviewItem(VersionedModel):
    """A decision or an action of a management review. Actions have an owner and a due date and
    are tracked to completion; either may link to a CAPA."""

    review = models.ForeignKey(ManagementReview, on_delete=models.PROTECT, related_name="items")
    kind = models.CharField(max_length=10, choices=ReviewItemKind.choices, default=ReviewItemKind.ACTION)
    category = models.CharField(max_length=20, choices=ReviewOutputCategory.choices, default=ReviewOutputCategory.IMPROVEMENT)
    description = models.TextField(max_length=4000)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="review_items")
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=ReviewItemStatus.choices, default=ReviewItemStatus.OPEN, editable=False)
    completed_at = models.DateTimeField(null=True, blank=True, editable=False)
    completion_note = models.TextField(blank=True, max_length=4000, editable=False)
    capa = models.ForeignKey("capa.Capa", on_delete=models.PROTECT, null=True, blank=True, related_name="review_items")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    history = regulated_history()

    class Meta:
        ordering = ["review_id", "kind", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="decision") | Q(owner__isnull=False, due_date__isnull=False),
                name="metrics_review_action_has_owner_and_due",
            ),
        ]
        indexes = [models.Index(fields=["owner", "status"], name="metrics_review_item_owner_idx")]

    def __str__(self):
        return f"{self.review.reference} {self.get_kind_display().lower()} {self.pk}"

    def get_absolute_url(self):
        return reverse("metrics:review-detail", args=[self.review_id]) + f"#item-{self.pk}"

    @property
    def is_overdue(self) -> bool:
        return self.status == ReviewItemStatus.OPEN and self.due_date is not None and self.due_date < timezone.localdate()
