"""Complaints (ISO 9001 8.2.1, ISO 10002, ISO 13485 8.2.2, 21 CFR 820.198 / QMSR 820.35(a)):
customers and products, the managed list of categories, SLA policies on business calendars,
complaints with their attachments, communication log, escalations and customer surveys.

Deadlines are columns written when a complaint is received (and when its severity changes or a
pause ends), so the escalation sweep selects what is due with one indexed query
(docs/architecture.md rule 4). Status values and transitions live in complaints/workflow.py.
"""

from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from complaints.expressions import kpi_horizon, next_deadline
from complaints.workflow import ComplaintStatus
from qms.history import regulated_history
from qms.versioning import VersionedModel


def validate_time_zone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"{value!r} is not a known time zone (e.g. Europe/London).") from exc


class Customer(VersionedModel):
    name = models.CharField(max_length=200)
    organisation = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    address = models.TextField(blank=True, max_length=1000)
    created_at = models.DateTimeField(default=timezone.now)
    history = regulated_history()

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["email"], name="complaints_customer_email_idx")]

    def __str__(self):
        return f"{self.name} ({self.organisation})" if self.organisation else self.name


class Product(VersionedModel):
    """A product or a service that complaints are about."""

    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    history = regulated_history()

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"


class Category(VersionedModel):
    """The managed list of complaint categories (a quality manager maintains it)."""

    name = models.CharField(max_length=120, unique=True)
    description = models.CharField(max_length=300, blank=True)
    is_active = models.BooleanField(default=True)
    history = regulated_history()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self):
        return self.name


class FailureMode(VersionedModel):
    """The managed list of failure modes under each category ("no alarm", "display cracked"):
    what a complaint's recurrence is matched on (ISO 9001 10.2.1 c, ISO 13485 8.2.2), so two
    different problems of one product are not counted as a repeat."""

    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="failure_modes")
    name = models.CharField(max_length=120)
    description = models.CharField(max_length=300, blank=True)
    is_active = models.BooleanField(default=True)
    history = regulated_history()

    class Meta:
        ordering = ["category__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["category", "name"], name="complaints_failure_mode_unique_in_category")
        ]

    def __str__(self):
        return f"{self.category.name}: {self.name}"


class BusinessCalendar(VersionedModel):
    """When the complaint team works: a time zone, working weekdays (0 = Monday) and the working
    periods of a day as local wall-clock times; a gap between periods is a break
    (e.g. [["09:00", "12:30"], ["13:30", "17:30"]]). "24:00" ends a period at midnight."""

    name = models.CharField(max_length=120, unique=True)
    time_zone = models.CharField(max_length=64, default="Europe/London", validators=[validate_time_zone])
    working_days = models.JSONField(default=list)
    working_periods = models.JSONField(default=list)
    history = regulated_history()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.time_zone})"

    @property
    def working_days_label(self) -> str:
        names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        days = sorted(set(self.working_days))
        if days and days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
            return f"{names[days[0]]}–{names[days[-1]]}"
        return ", ".join(names[d] for d in days) or "none"

    def clean(self):
        from complaints.sla import parse_periods

        if not isinstance(self.working_days, list) or not all(
            isinstance(d, int) and 0 <= d <= 6 for d in self.working_days
        ):
            raise ValidationError({"working_days": "A list of weekday numbers, 0 (Monday) to 6 (Sunday)."})
        try:
            parse_periods(self.working_periods)
        except ValueError as exc:
            raise ValidationError({"working_periods": str(exc)}) from exc


class Holiday(VersionedModel):
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=120)
    history = regulated_history()

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="complaints_holiday_unique_day")]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.name}"


class Severity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class SlaPolicy(VersionedModel):
    """Response and resolution targets for one severity. Hours are business hours on
    `calendar`, or plain calendar hours when `counts_business_time` is off.

    `escalation_steps` is a list of {"level": 1, "percent": 75, "notify": ["assignee"]}:
    when `percent` of a deadline's time has passed, the complaint is escalated to `level` and
    the targets are notified. Targets: "assignee", "assignee_manager" (the assignee's line
    manager), "quality_managers", "head_of_quality" (Quality Managers whose job function is
    Head of Quality; all Quality Managers when nobody holds it)."""

    severity = models.CharField(max_length=10, choices=Severity.choices, unique=True)
    first_response_hours = models.DecimalField(
        max_digits=7, decimal_places=2, validators=[MinValueValidator(Decimal("0.25"))]
    )
    resolution_hours = models.DecimalField(
        max_digits=7, decimal_places=2, validators=[MinValueValidator(Decimal("0.25"))]
    )
    counts_business_time = models.BooleanField(default=True)
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, related_name="policies")
    escalation_steps = models.JSONField(default=list)
    history = regulated_history()

    class Meta:
        ordering = ["severity"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"

    def __str__(self):
        return f"SLA {self.get_severity_display()}: {self.first_response_hours} h / {self.resolution_hours} h"

    NOTIFY_LABELS = {
        "assignee": "the assignee",
        "assignee_manager": "the assignee's manager",
        "quality_managers": "the Quality Managers",
        "head_of_quality": "the head of quality",
    }

    @property
    def steps_for_display(self) -> list[dict]:
        return [
            {**step, "notify_label": ", ".join(self.NOTIFY_LABELS.get(t, t) for t in step.get("notify", []))}
            for step in sorted(self.escalation_steps, key=lambda step: step.get("percent", 0))
        ]


class Channel(models.TextChoices):
    EMAIL = "email", "E-mail"
    PHONE = "phone", "Phone"
    WEB_FORM = "web_form", "Web form"
    SOCIAL_MEDIA = "social_media", "Social media"
    IN_PERSON = "in_person", "In person"
    OTHER = "other", "Other"


class NoInvestigationBasis(models.TextChoices):
    EARLIER_INVESTIGATION = "earlier_investigation", "Investigated under an earlier complaint"
    JUSTIFICATION = "justification", "Written justification"


OPEN_STATES = (
    ComplaintStatus.NEW,
    ComplaintStatus.ACKNOWLEDGED,
    ComplaintStatus.INVESTIGATING,
    ComplaintStatus.AWAITING_CUSTOMER,
)


class Complaint(VersionedModel):
    reference = models.CharField(max_length=20, unique=True, editable=False)
    title = models.CharField(max_length=200)
    description = models.TextField(max_length=10000)
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.EMAIL)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="complaints")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, null=True, blank=True, related_name="complaints")
    lot_number = models.CharField("lot / serial number", max_length=80, blank=True)
    udi = models.CharField("UDI", max_length=120, blank=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, null=True, blank=True, related_name="complaints")
    failure_mode = models.ForeignKey(
        FailureMode, on_delete=models.PROTECT, null=True, blank=True, related_name="complaints"
    )
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    status = models.CharField(max_length=20, choices=ComplaintStatus.choices, default=ComplaintStatus.NEW, editable=False)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="assigned_complaints"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    # Timestamps of the steps, written when they happen (never recomputed from history).
    received_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolved_at = models.DateTimeField(null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)

    # SLA: deadlines stored as columns (docs/architecture.md rule 4).
    sla_policy = models.ForeignKey(SlaPolicy, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False)
    # The terms in force when the complaint was received or its severity changed (a copy of the
    # policy's hours, calendar and escalation steps, complaints.sla.Terms); every later deadline
    # and escalation is counted on these, never on the policy as it is now (decision 0022).
    sla_terms = models.JSONField(default=dict, blank=True, editable=False)
    first_response_due = models.DateTimeField(null=True, blank=True, editable=False)
    resolution_due = models.DateTimeField(null=True, blank=True, editable=False)
    sla_paused_at = models.DateTimeField(null=True, blank=True, editable=False)
    sla_paused_hours = models.DecimalField(max_digits=9, decimal_places=2, default=Decimal("0"), editable=False)
    escalation_level = models.PositiveSmallIntegerField(default=0, editable=False)
    next_escalation_at = models.DateTimeField(null=True, blank=True, editable=False)

    # Recurrence: the same recurrence key (settings.COMPLAINT_RECURRENCE_KEY, product and failure
    # mode by default) as a complaint received within the window; "" when a part is missing.
    recurrence_key = models.CharField(max_length=200, blank=True, editable=False)
    is_recurring = models.BooleanField(default=False, editable=False)
    recurrence_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="recurrences", editable=False
    )

    # Regulated triage (21 CFR 820.198(b), QMSR 820.35(a), ISO 13485 8.2.2): who decided what, why.
    investigation_required = models.BooleanField(null=True, blank=True)
    no_investigation_reason = models.TextField(blank=True, max_length=4000)
    # QMSR 820.35: a "no investigation" decision names the earlier complaint investigated for the
    # same problem, or gives a written justification; the basis records which one it was.
    no_investigation_basis = models.CharField(
        max_length=30, choices=NoInvestigationBasis.choices, blank=True, editable=False
    )
    no_investigation_reference = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="cited_by_no_investigation",
        verbose_name="earlier investigated complaint",
    )
    investigation_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    is_reportable = models.BooleanField("reportable to a regulator", null=True, blank=True)
    reportability_reason = models.TextField(blank=True, max_length=4000)
    reportability_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )

    # Closed as "not a product problem" (user error, misuse): such a complaint is no repeat of
    # a product problem and repeats nothing (issue 16 item 5).
    is_product_problem = models.BooleanField("a product problem", null=True, blank=True)

    resolution = models.TextField(blank=True, max_length=10000)

    # Columns added after the table held rows (qms.history.regulated_history, decision 0040).
    history = regulated_history(
        chain_added_fields=[
            "no_investigation_basis", "no_investigation_reference", "sla_terms",
            "is_product_problem", "recurrence_key", "failure_mode",
        ]
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-received_at"], name="complaints_status_recv_idx"),
            models.Index(fields=["-received_at"], name="complaints_received_idx"),
            models.Index(fields=["assignee", "status"], name="complaints_assignee_idx"),
            models.Index(
                fields=["recurrence_key", "-received_at"],
                name="complaints_recurrence_key_idx",
                condition=~models.Q(recurrence_key=""),
            ),
            # The list header's counters (open, overdue, new, recurring) are all about open
            # complaints: one index-only scan of this index, never a scan of the whole table.
            # With severity in it, so is the count of a list filtered to open complaints of one
            # severity.
            models.Index(
                fields=["status", "first_response_due", "resolution_due", "is_recurring", "severity"],
                name="complaints_open_counts_idx",
                condition=models.Q(status__in=[state.value for state in OPEN_STATES]),
            ),
            # Complaints sorted by their next deadline (the list's ordering=deadline or -deadline,
            # with or without filters; closed ones have none and sort last): the first page is
            # the first rows of this index, not a sort of every complaint joined to its customer.
            models.Index(next_deadline(), models.F("id"), name="complaints_deadline_idx"),
            # One person's open complaints by deadline ("My work", the list filtered to an
            # assignee): a range of this index. Without it the planner walks the deadline index
            # above through every complaint to find one person's (77 ms at 100k).
            models.Index(
                models.F("assignee"),
                next_deadline(),
                models.F("id"),
                name="complaints_assignee_due_idx",
                condition=models.Q(status__in=[state.value for state in OPEN_STATES]),
            ),
            # The dashboard's complaint KPIs read the complaints whose horizon reaches the period
            # (complaints.expressions.kpi_horizon): a range of this index, not the whole table.
            models.Index(kpi_horizon(), name="complaints_kpi_horizon_idx"),
            # The escalation sweep's one query: what is due now, oldest first.
            models.Index(
                fields=["next_escalation_at"],
                name="complaints_escalation_due_idx",
                condition=models.Q(next_escalation_at__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sla_paused_hours__gte=0), name="complaints_paused_hours_not_negative"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="resolved") | ~models.Q(resolution=""),
                name="complaints_resolved_has_resolution",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="closed") | models.Q(is_reportable__isnull=False),
                name="complaints_closed_has_reportability",
            ),
        ]

    def __str__(self):
        return self.reference or self.title

    def get_absolute_url(self):
        return reverse("complaints:detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES

    @property
    def sla_terms_for_display(self) -> dict:
        """The stored terms with numbers for the page ({} when the complaint has none)."""
        if not self.sla_terms:
            return {}
        return {
            **self.sla_terms,
            "first_response_hours": Decimal(str(self.sla_terms["first_response_hours"])),
            "resolution_hours": Decimal(str(self.sla_terms["resolution_hours"])),
        }

    @property
    def is_paused(self) -> bool:
        return self.sla_paused_at is not None

    def first_response_breached(self, now=None) -> bool:
        now = now or timezone.now()
        if self.first_response_due is None:
            return False
        done = self.acknowledged_at or (now if self.status == ComplaintStatus.NEW else None)
        return done is not None and done > self.first_response_due

    def resolution_breached(self, now=None) -> bool:
        now = now or timezone.now()
        if self.resolution_due is None or self.status == ComplaintStatus.REJECTED:
            return False
        if self.resolved_at:
            return self.resolved_at > self.resolution_due
        return self.is_open and not self.is_paused and now > self.resolution_due


class Attachment(models.Model):
    """A file kept with a complaint (evidence, photos, the customer's letter). Never changed or
    removed; downloads go through a view that checks the reader's role."""

    qms_append_only = True

    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(upload_to="complaints/%Y/%m/", max_length=255)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    description = models.CharField(max_length=300, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)
    # Part of the complaint's file (ISO 13485 4.2.5): in the audit trail under the complaint.
    history = regulated_history()
    trail_parent = "complaint"

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return self.original_name

    def get_absolute_url(self):
        return reverse("complaints:attachment", args=[self.pk])


class Communication(models.Model):
    """One entry of the communication log: what was said to or heard from the customer, so the
    record holds the reply that was sent (ISO 10002 8.4). Entries are never changed."""

    qms_append_only = True

    class Direction(models.TextChoices):
        INBOUND = "inbound", "From the customer"
        OUTBOUND = "outbound", "To the customer"

    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="communications")
    at = models.DateTimeField(default=timezone.now)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    summary = models.TextField(max_length=10000)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    history = regulated_history()
    trail_parent = "complaint"

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["complaint", "at"], name="complaints_comm_idx"),
            # The service-quality KPIs count a period's entries by `at` (sq_auto_coverage,
            # sq_human_coverage): with the id in the index an index-only scan reads only the
            # window, not the whole log (issue 19: 63 -> 10 ms at 100k for the dashboard's window).
            models.Index(fields=["at", "id"], name="complaints_comm_at_idx"),
        ]

    def __str__(self):
        return f"{self.get_direction_display()} {self.at:%Y-%m-%d %H:%M}"


class Escalation(models.Model):
    """One escalation step taken on one deadline of one complaint. The unique constraint on
    (complaint, kind, level) makes a second sweep, a retried task or a second worker a no-op."""

    qms_append_only = True

    class Kind(models.TextChoices):
        FIRST_RESPONSE = "first_response", "First response"
        RESOLUTION = "resolution", "Resolution"

    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="escalations")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    level = models.PositiveSmallIntegerField()
    percent = models.PositiveSmallIntegerField()
    due_at = models.DateTimeField()  # when the step became due
    at = models.DateTimeField(default=timezone.now)  # when it was taken
    notified = models.JSONField(default=list)  # usernames of the people notified
    history = regulated_history()
    trail_parent = "complaint"

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["complaint", "kind", "level"], name="complaints_escalation_once_per_step")
        ]

    def __str__(self):
        return f"{self.complaint} {self.kind} level {self.level}"


class Survey(models.Model):
    """A customer survey invitation (CSAT 1-5, CES 1-7, NPS 0-10) sent when a complaint is
    resolved. Only the SHA-256 of the one-time token is stored; the token is in the e-mail."""

    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="surveys")
    email = models.EmailField()
    token_hash = models.CharField(max_length=64, unique=True)
    sent_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    csat = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)])
    ces = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(7)])
    nps = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MaxValueValidator(10)])
    comment = models.TextField(blank=True, max_length=4000)
    # Sent and answered are both in the trail; the token's hash stays out of it.
    history = regulated_history(excluded_fields=["token_hash"])
    trail_parent = "complaint"

    class Meta:
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(csat__isnull=True) | models.Q(csat__range=(1, 5)), name="complaints_survey_csat_range"),
            models.CheckConstraint(condition=models.Q(ces__isnull=True) | models.Q(ces__range=(1, 7)), name="complaints_survey_ces_range"),
            models.CheckConstraint(condition=models.Q(nps__isnull=True) | models.Q(nps__range=(0, 10)), name="complaints_survey_nps_range"),
            models.CheckConstraint(
                condition=models.Q(answered_at__isnull=True) | models.Q(csat__isnull=False, ces__isnull=False, nps__isnull=False),
                name="complaints_survey_answered_complete",
            ),
        ]
        indexes = [models.Index(fields=["answered_at"], name="complaints_survey_answered_idx")]

    def __str__(self):
        return f"Survey for {self.complaint}"

    @property
    def is_answered(self) -> bool:
        return self.answered_at is not None

    def is_expired(self, now=None) -> bool:
        return (now or timezone.now()) >= self.expires_at
