"""Controlled documents (ISO 9001 7.5, ISO 13485 4.2.4, 21 CFR Part 11).

A `Document` is the register entry (SOP-014: its title, owner, review period); its content lives
in `DocumentVersion`s (revision 1, 2, 3 ...), each taken through the version workflow
(documents/workflow.py): draft -> in_review -> approved -> effective -> superseded / obsolete.
The database guarantees at most one effective version per document (a partial unique index)
and at most one revision in progress; PostgreSQL triggers refuse any change to the content of
a version once it has been released (migration 0002).

Other apps link here: training assigns reading of a `DocumentVersion` when it becomes effective
(documents.services.on_version_effective).
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from qms import roles as qms_roles
from qms.history import regulated_history
from qms.versioning import VersionedModel


class DocumentType(models.TextChoices):
    POLICY = "policy", "Policy"
    SOP = "sop", "SOP"
    WORK_INSTRUCTION = "work_instruction", "Work instruction"
    FORM = "form", "Form"
    SPECIFICATION = "specification", "Specification"
    OTHER = "other", "Other"


# The number prefix of each type: SOP-014, WI-003, FRM-021 (allocated by qms.references).
NUMBER_PREFIXES = {
    DocumentType.POLICY: "POL",
    DocumentType.SOP: "SOP",
    DocumentType.WORK_INSTRUCTION: "WI",
    DocumentType.FORM: "FRM",
    DocumentType.SPECIFICATION: "SPEC",
    DocumentType.OTHER: "DOC",
}


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    EFFECTIVE = "effective", "Effective"
    SUPERSEDED = "superseded", "Superseded"
    OBSOLETE = "obsolete", "Obsolete"


# A version in one of these states is "in progress": at most one per document.
OPEN_STATUSES = (VersionStatus.DRAFT, VersionStatus.IN_REVIEW, VersionStatus.APPROVED)
# Released content is frozen: no form, API, admin or SQL UPDATE may change it (trigger in 0002).
FROZEN_STATUSES = (VersionStatus.EFFECTIVE, VersionStatus.SUPERSEDED, VersionStatus.OBSOLETE)


class FileKind(models.TextChoices):
    PDF = "pdf", "PDF"
    DOCX = "docx", "Word (DOCX)"
    XLSX = "xlsx", "Excel (XLSX)"
    TXT = "txt", "Text"
    MD = "md", "Markdown"


class Document(VersionedModel):
    number = models.CharField(max_length=20, unique=True, editable=False)
    title = models.CharField(max_length=200)
    doc_type = models.CharField("type", max_length=20, choices=DocumentType.choices)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_documents")
    department = models.ForeignKey("qms.Department", on_delete=models.PROTECT, null=True, blank=True, related_name="documents")
    review_period_months = models.PositiveSmallIntegerField(
        default=24, validators=[MinValueValidator(1), MaxValueValidator(120)],
        help_text="How often the owner must confirm the document is still right (ISO 9001 7.5.2).",
    )
    # Set when a version becomes effective and when the owner confirms a periodic review;
    # the periodic-review sweep selects on it (docs/architecture.md rule 4: deadlines are columns).
    next_review_due = models.DateField(null=True, blank=True)
    # The released version, kept in the same transaction as the versions' statuses (services).
    effective_version = models.OneToOneField(
        "DocumentVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    history = regulated_history()

    class Meta:
        ordering = ["number"]
        indexes = [
            models.Index(fields=["next_review_due"], name="documents_review_due_idx", condition=models.Q(next_review_due__isnull=False)),
            models.Index(fields=["doc_type", "number"], name="documents_type_number_idx"),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"

    def get_absolute_url(self):
        return reverse("documents:detail", args=[self.pk])


class VersionBaseManager(models.Manager):
    """Related lookups and bulk loads (the audit trail's readable diffs) bring the document
    along: a version's name is "SOP-014 rev 3", and naming many must not cost a query each."""

    def get_queryset(self):
        return super().get_queryset().select_related("document")


class DocumentVersion(VersionedModel):
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="versions")
    # revision_index orders the revisions (1, 2, 3 ...); revision is its label in the
    # installation's scheme (settings.QMS_DOCUMENT_REVISION_SCHEME: "numeric" 1, 2, 3 or "alpha" A, B, C).
    revision_index = models.PositiveIntegerField(editable=False)
    revision = models.CharField(max_length=10, editable=False)
    status = models.CharField(max_length=20, choices=VersionStatus.choices, default=VersionStatus.DRAFT, editable=False)
    change_summary = models.TextField(blank=True, help_text="What changed and why (required from the second revision).")
    # The content: an uploaded file (type checked by content, documents/uploads.py) and/or text
    # written in the browser. The stored file name is random; the original name is kept cleaned.
    file = models.FileField(upload_to="documents/%Y/%m/", blank=True, max_length=200)
    file_name = models.CharField(max_length=200, blank=True)
    file_kind = models.CharField(max_length=10, choices=FileKind.choices, blank=True)
    file_size = models.PositiveIntegerField(null=True, blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True)
    content_text = models.TextField("text", blank=True)
    effective_from = models.DateField(null=True, blank=True, help_text="The day the version may become effective.")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # How many times it was submitted: reviewers and approvers are named per round, and a
    # rejection closes the round (VersionSignoff.round).
    review_round = models.PositiveSmallIntegerField(default=0, editable=False)
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    effective_at = models.DateTimeField(null=True, blank=True, editable=False)
    superseded_at = models.DateTimeField(null=True, blank=True, editable=False)
    obsoleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    superseded_by = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False)
    history = regulated_history()
    trail_parent = "document"  # in the audit trail under its parent (qms.audit.registry)

    objects = models.Manager()
    with_document = VersionBaseManager()

    class Meta:
        ordering = ["document", "-revision_index"]
        base_manager_name = "with_document"
        constraints = [
            # ISO 9001 7.5.3.2: only the current approved version is in use. The database, not
            # the application, guarantees it, so two concurrent releases cannot both win.
            models.UniqueConstraint(
                fields=["document"], condition=models.Q(status="effective"), name="documents_one_effective_version"
            ),
            models.UniqueConstraint(
                fields=["document"],
                condition=models.Q(status__in=["draft", "in_review", "approved"]),
                name="documents_one_open_version",
            ),
            models.UniqueConstraint(fields=["document", "revision_index"], name="documents_version_revision_unique"),
            models.CheckConstraint(
                condition=~models.Q(status="effective") | models.Q(effective_from__isnull=False),
                name="documents_effective_has_date",
            ),
        ]
        indexes = [
            # The beat sweep: approved versions whose effective date has come.
            models.Index(fields=["effective_from"], name="documents_version_due_idx", condition=models.Q(status="approved")),
            models.Index(fields=["status"], name="documents_version_status_idx"),
        ]

    def __str__(self):
        return f"{self.document.number} rev {self.revision}"

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        # Reload through the plain manager: the base manager's select_related("document")
        # cannot be combined with the partial reload of a deferred field.
        if from_queryset is None:
            from_queryset = type(self).objects.all()
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)

    def get_absolute_url(self):
        return reverse("documents:version", args=[self.document_id, self.pk])

    @property
    def is_editable(self) -> bool:
        return self.status == VersionStatus.DRAFT

    @property
    def is_released(self) -> bool:
        return self.status in FROZEN_STATUSES

    @property
    def has_file(self) -> bool:
        return bool(self.file)

    @property
    def has_text(self) -> bool:
        return bool(self.content_text.strip())


# The approval matrix (issue 16, ISO 13485 4.2.4): who may be named reviewer and approver of
# each document type. Only these roles can act in the version workflow at all.
SIGNOFF_ROLES = (qms_roles.STAFF, qms_roles.MANAGER)


class ApprovalRule(VersionedModel):
    """The approval matrix row of one document type, a site's policy kept with its history
    (every change by a Quality Manager with a reason). A type without a row uses STRICT_RULE
    (documents.selectors.approval_rule_for): reviewers and approvers from Quality Staff and
    Quality Managers, and at least one Quality Manager among the approvers."""

    doc_type = models.CharField("type", max_length=20, choices=DocumentType.choices, unique=True)
    # Someone may be named when they hold one of the roles and, if job functions are listed,
    # their job function is one of them (compared without regard to case).
    reviewer_roles = models.JSONField(default=list)
    reviewer_job_functions = models.JSONField(default=list, blank=True)
    approver_roles = models.JSONField(default=list)
    approver_job_functions = models.JSONField(default=list, blank=True)
    # At least one approver of every submission holds this role; blank: no such requirement.
    required_approver_role = models.CharField(max_length=40, blank=True, default=qms_roles.MANAGER)
    history = regulated_history()

    class Meta:
        ordering = ["doc_type"]

    def __str__(self):
        return f"Approval matrix: {self.get_doc_type_display()}"


STRICT_RULE = {
    "reviewer_roles": list(SIGNOFF_ROLES),
    "reviewer_job_functions": [],
    "approver_roles": list(SIGNOFF_ROLES),
    "approver_job_functions": [],
    "required_approver_role": qms_roles.MANAGER,
}


class SignoffKind(models.TextChoices):
    REVIEW = "review", "Review"
    APPROVAL = "approval", "Approval"


class VersionSignoff(models.Model):
    """A named reviewer or approver of one submission round of a version. A reviewer completes
    it by recording a review; an approver by signing "Approved" (the signature is linked).
    The version is approved when every approver of the round has signed."""

    version = models.ForeignKey(DocumentVersion, on_delete=models.PROTECT, related_name="signoffs")
    round = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=10, choices=SignoffKind.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="document_signoffs")
    requested_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)
    signature = models.OneToOneField("qms.Signature", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    history = regulated_history()
    trail_parent = "version"  # in the audit trail under its parent (qms.audit.registry)

    class Meta:
        ordering = ["version", "round", "kind", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "round", "kind", "user"], name="documents_signoff_unique"),
        ]
        indexes = [
            models.Index(fields=["user"], name="documents_signoff_pending_idx", condition=models.Q(completed_at__isnull=True)),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} of {self.version} by {self.user}"

    @property
    def is_done(self) -> bool:
        return self.completed_at is not None


class ReviewOutcome(models.TextChoices):
    NO_CHANGE = "no_change", "Reviewed, no change"
    REVISION_STARTED = "revision_started", "New revision started"


class PeriodicReview(models.Model):
    """The owner's periodic review of an effective document (ISO 9001 7.5.2, 7.5.3)."""

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="periodic_reviews")
    version = models.ForeignKey(DocumentVersion, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(max_length=20, choices=ReviewOutcome.choices)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(default=timezone.now)
    comment = models.TextField(blank=True)
    due_on = models.DateField(null=True, blank=True)  # the review date this review answered
    next_review_due = models.DateField(null=True, blank=True)
    signature = models.OneToOneField("qms.Signature", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    history = regulated_history()
    trail_parent = "document"  # in the audit trail under its parent (qms.audit.registry)

    class Meta:
        ordering = ["-reviewed_at", "-id"]

    def __str__(self):
        return f"{self.document.number}: {self.get_outcome_display()} ({self.reviewed_at:%Y-%m-%d})"


class ReminderKind(models.TextChoices):
    DUE = "due", "Review due"
    OVERDUE = "overdue", "Review overdue"


class ReviewReminder(models.Model):
    """One reminder or escalation of one periodic review date. The unique constraint makes the
    sweep idempotent: a second run, a second beat or a retried task writes nothing."""

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="review_reminders")
    due_on = models.DateField()
    kind = models.CharField(max_length=10, choices=ReminderKind.choices)
    level = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(default=timezone.now)
    recipients = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["document", "due_on", "kind", "level"], name="documents_reminder_unique"),
        ]

    def __str__(self):
        return f"{self.document.number}: {self.get_kind_display()} {self.due_on} (level {self.level})"
