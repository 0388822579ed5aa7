"""Training (ISO 9001 7.2 competence, ISO 13485 6.2): who must train on which controlled
document, the training each person owes and has done on each document version, and the
reminders and escalations of training that is late.

- `TrainingRequirement`: a role (auth Group) or a named job function (qms.User.job_function)
  must train on a document, within `due_days`, optionally only for major revisions.
- `RevisionImpact`: whether a document version is a major revision for training. Documents
  have no such flag, so the training side records the decision; a version without a row is
  major (the safe default: everybody retrains).
- `TrainingAssignment`: one person owes (or has done) training on one document version; the
  unique (user, document_version) constraint makes every generator idempotent.
- `TrainingNotice`: one reminder or escalation of one assignment; unique (assignment, kind,
  level) makes the overdue sweep a no-op when run twice (docs/architecture.md rule 4).
- `TrainingSession` / `SessionAttendee`: trainer-led sessions, each attendee signs.
- `ReleaseGate`: per document type, the share of trainees that must have completed training
  before a version may become effective.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from qms.history import regulated_history
from qms.versioning import VersionedModel


class TrainingRequirement(VersionedModel):
    """Everyone holding `role`, or whose job function is `job_function`, must be trained on
    `document` (its effective version, or only its major revisions)."""

    role = models.ForeignKey("auth.Group", on_delete=models.PROTECT, null=True, blank=True, related_name="training_requirements")
    job_function = models.CharField(max_length=120, blank=True, help_text="Matches the job function on the user's profile (not case-sensitive).")
    document = models.ForeignKey("documents.Document", on_delete=models.PROTECT, related_name="training_requirements")
    only_major_revisions = models.BooleanField(
        default=False, help_text="Retrain only when a revision is classified as major (minor revisions need no retraining)."
    )
    due_days = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(1), MaxValueValidator(365)], help_text="Days allowed to complete the training."
    )
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    history = regulated_history()
    trail_parent = "document"  # in the audit trail under its parent (qms.audit.registry)

    class Meta:
        ordering = ["document__number", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(role__isnull=False) & models.Q(job_function=""))
                | (models.Q(role__isnull=True) & ~models.Q(job_function="")),
                name="training_requirement_role_xor_function",
            ),
            models.UniqueConstraint(
                fields=["role", "document"], condition=models.Q(is_active=True, role__isnull=False), name="training_requirement_role_unique"
            ),
            models.UniqueConstraint(
                models.functions.Lower("job_function"),
                "document",
                condition=models.Q(is_active=True, role__isnull=True),
                name="training_requirement_function_unique",
            ),
        ]

    def __str__(self):
        return f"{self.audience} → {self.document.number}"

    @property
    def audience(self) -> str:
        return self.role.name if self.role_id else f"Job function: {self.job_function}"

    def get_absolute_url(self):
        return reverse("training:requirement", args=[self.pk])


class RevisionImpact(VersionedModel):
    """The training impact of one document version: major (everyone required retrains) or
    minor (requirements marked "only major revisions" carry the earlier training over)."""

    document_version = models.OneToOneField("documents.DocumentVersion", on_delete=models.PROTECT, related_name="training_impact")
    is_major = models.BooleanField(default=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)
    history = regulated_history()
    trail_parent = "document_version"  # in the audit trail under its parent (qms.audit.registry)

    def __str__(self):
        return f"{self.document_version}: {'major' if self.is_major else 'minor'} revision"


class ReleaseGate(VersionedModel):
    """Training as a release gate for one document type: a version of this type becomes
    effective only when `required_percent` of the people who must train on it have completed."""

    doc_type = models.CharField(max_length=20, unique=True)
    required_percent = models.PositiveSmallIntegerField(default=100, validators=[MinValueValidator(1), MaxValueValidator(100)])
    is_active = models.BooleanField(default=True)
    history = regulated_history()

    class Meta:
        ordering = ["doc_type"]

    def __str__(self):
        return f"Release gate for {self.doc_type}: {self.required_percent}%"


class AssignmentStatus(models.TextChoices):
    ASSIGNED = "assigned", "Assigned"
    COMPLETED = "completed", "Completed"
    WAIVED = "waived", "Waived"
    SUPERSEDED = "superseded", "Superseded"


OPEN_STATUSES = (AssignmentStatus.ASSIGNED,)
DONE_STATUSES = (AssignmentStatus.COMPLETED, AssignmentStatus.WAIVED)


class AssignmentSource(models.TextChoices):
    VERSION_EFFECTIVE = "version_effective", "A new version became effective"
    RELEASE_GATE = "release_gate", "Training before release (release gate)"
    ROLE_JOINED = "role_joined", "Joined a role or job function"
    REQUIREMENT_ADDED = "requirement_added", "A new training requirement"
    CARRIED_OVER = "carried_over", "Open training carried over to a new revision"
    RECONCILED = "reconciled", "Found missing by the hourly check"
    REQUESTED = "requested", "Asked for by a coach or manager"


class CompletionMethod(models.TextChoices):
    READ = "read", "Read and understood"
    SESSION = "session", "Trainer-led session"
    WAIVED = "waived", "Waived"


class TrainingAssignment(VersionedModel):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="training_assignments")
    document_version = models.ForeignKey("documents.DocumentVersion", on_delete=models.PROTECT, related_name="training_assignments")
    # Denormalised from document_version (never changes): the matrix and "my training" filter
    # and group by document without a join.
    document = models.ForeignKey("documents.Document", on_delete=models.PROTECT, related_name="training_assignments")
    status = models.CharField(max_length=20, choices=AssignmentStatus.choices, default=AssignmentStatus.ASSIGNED, editable=False)
    source = models.CharField(max_length=20, choices=AssignmentSource.choices)
    assigned_at = models.DateTimeField(default=timezone.now)
    due_date = models.DateField()
    completed_at = models.DateTimeField(null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    completion_method = models.CharField(max_length=10, choices=CompletionMethod.choices, blank=True, editable=False)
    session = models.ForeignKey("TrainingSession", on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False)
    superseded_by = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False)
    history = regulated_history()
    trail_parent = "document_version"  # in the audit trail under its parent (qms.audit.registry)

    class Meta:
        ordering = ["due_date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "document_version"], name="training_assignment_unique"),
        ]
        indexes = [
            # The overdue sweep and overdue_user_ids(): open assignments by due date. The person
            # and the version ride in the index (INCLUDE), so the "training overdue" flag every
            # record page shows is an index-only scan: 2.9 ms instead of 6.0 ms at 100k (issue 19).
            models.Index(
                fields=["due_date"], include=["user", "document_version"],
                name="training_open_due_cover_idx", condition=models.Q(status="assigned"),
            ),
            models.Index(fields=["user", "document"], name="training_user_document_idx"),
            # The flag for the few people a record page names (overdue_user_ids(among=...)):
            # one index range per person, 0.1 ms (issue 19).
            models.Index(
                fields=["user", "due_date"], include=["document_version"],
                name="training_open_by_user_idx", condition=models.Q(status="assigned"),
            ),
        ]

    def __str__(self):
        return f"{self.document_version} for {self.user}"

    def get_absolute_url(self):
        return reverse("training:assignment", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status == AssignmentStatus.ASSIGNED

    def is_overdue(self, today=None) -> bool:
        return self.is_open and self.due_date < (today or timezone.localdate())


class NoticeKind(models.TextChoices):
    REMINDER = "reminder", "Reminder before the due date"
    ESCALATION = "escalation", "Escalation after the due date"


class TrainingNotice(models.Model):
    """One reminder or escalation of one assignment (written with its notifications)."""

    qms_append_only = True

    assignment = models.ForeignKey(TrainingAssignment, on_delete=models.PROTECT, related_name="notices")
    kind = models.CharField(max_length=12, choices=NoticeKind.choices)
    level = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField(default=timezone.now)
    recipients = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["sent_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "kind", "level"], name="training_notice_unique"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.level}: {self.assignment}"


class TrainingSession(VersionedModel):
    """A trainer-led session on one document version; the trainer signs "Training delivered"
    when recording it, and each attendee signs their own attendance (which completes their
    assignment)."""

    document_version = models.ForeignKey("documents.DocumentVersion", on_delete=models.PROTECT, related_name="training_sessions")
    trainer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="training_sessions_given")
    held_on = models.DateField()
    duration_minutes = models.PositiveSmallIntegerField(default=60, validators=[MinValueValidator(5), MaxValueValidator(600)])
    location = models.CharField(max_length=120, blank=True)
    notes = models.TextField(blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)
    signature = models.OneToOneField("qms.Signature", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    history = regulated_history()
    trail_parent = "document_version"  # in the audit trail under its parent (qms.audit.registry)

    class Meta:
        ordering = ["-held_on", "-id"]

    def __str__(self):
        return f"Session on {self.document_version} ({self.held_on:%d %b %Y})"

    def get_absolute_url(self):
        return reverse("training:session", args=[self.pk])


class SessionAttendee(models.Model):
    """One person at a session, linked to the assignment their signature completes. Written
    once with the session; "signed" is the assignment completed from this session."""

    qms_append_only = True

    session = models.ForeignKey(TrainingSession, on_delete=models.PROTECT, related_name="attendees")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="training_attendances")
    assignment = models.ForeignKey(TrainingAssignment, on_delete=models.PROTECT, related_name="attendances")

    class Meta:
        ordering = ["user__last_name", "user__first_name", "id"]
        constraints = [models.UniqueConstraint(fields=["session", "user"], name="training_attendee_unique")]

    def __str__(self):
        return f"{self.user} at {self.session}"

    @property
    def has_signed(self) -> bool:
        return self.assignment.status == AssignmentStatus.COMPLETED and self.assignment.session_id == self.session_id
