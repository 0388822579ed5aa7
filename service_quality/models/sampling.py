"""Sampling: the rules that draw evaluation tasks, and the tasks drawn for evaluators to do."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from qms.history import regulated_history
from qms.versioning import VersionedModel
from service_quality.models.common import communication_field, complaint_field
from service_quality.models.evaluations import Evaluation
from service_quality.models.scorecards import InteractionKind


class SamplingRule(VersionedModel):
    """N interactions per person per week at random, plus targeted samples, for one scorecard
    (the revision in force when drawn), scoped to a team (department) or a person."""

    name = models.CharField(max_length=120)
    scorecard_code = models.CharField(max_length=20)
    department = models.ForeignKey(
        "qms.Department", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    per_person_per_week = models.PositiveSmallIntegerField(default=2)
    target_detractors = models.BooleanField("detractor NPS (0-6)", default=True)
    target_low_csat = models.BooleanField("CSAT 2 or less", default=True)
    target_escalated = models.BooleanField("escalated", default=True)
    target_reopened = models.BooleanField("reopened", default=True)
    target_sla_breached = models.BooleanField("SLA breached", default=True)
    due_days = models.PositiveSmallIntegerField(default=5)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    history = regulated_history()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(per_person_per_week__lte=50), name="sq_rule_per_week_max_50"
            ),
            models.CheckConstraint(
                condition=Q(due_days__gte=1, due_days__lte=60), name="sq_rule_due_days_1_60"
            ),
        ]

    def __str__(self):
        return self.name


class SampleReason(models.TextChoices):
    RANDOM = "random", "Random sample"
    DETRACTOR = "detractor", "Detractor NPS"
    LOW_CSAT = "low_csat", "CSAT 2 or less"
    ESCALATED = "escalated", "Escalated"
    REOPENED = "reopened", "Reopened"
    SLA_BREACHED = "sla_breached", "SLA breached"
    FOLLOW_UP = "follow_up", "Follow-up after coaching"


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    STARTED = "started", "Started"
    DONE = "done", "Done"


class EvaluationTask(models.Model):
    """One sampled interaction to evaluate, for one evaluator, by a due date. An interaction is
    sampled once only (unique interaction_key), whatever the rules and however many draws run."""

    # A sampled task comes from a rule; a follow-up task from a coaching record (one each).
    rule = models.ForeignKey(
        SamplingRule, on_delete=models.PROTECT, null=True, blank=True, related_name="tasks"
    )
    coaching = models.OneToOneField(
        "CoachingRecord",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="follow_up_task",
    )
    interaction_key = models.CharField(max_length=30, unique=True)
    kind = models.CharField(max_length=20, choices=InteractionKind.choices)
    complaint = complaint_field(related_name="+")
    communication = communication_field(related_name="+")
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    evaluator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="evaluation_tasks"
    )
    reason = models.CharField(max_length=20, choices=SampleReason.choices)
    week_of = models.DateField()  # the Monday of the week the sample belongs to
    due_on = models.DateField()
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    evaluation = models.OneToOneField(
        Evaluation, on_delete=models.PROTECT, null=True, blank=True, related_name="task"
    )
    escalation_level = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(evaluator=F("subject")), name="sq_task_evaluator_not_subject"
            ),
            models.CheckConstraint(
                condition=Q(rule__isnull=False, coaching__isnull=True)
                | Q(rule__isnull=True, coaching__isnull=False, reason="follow_up"),
                name="sq_task_from_rule_or_coaching",
            ),
        ]
        indexes = [
            models.Index(fields=["evaluator", "status", "due_on"], name="sq_task_evaluator_idx"),
            models.Index(fields=["status", "due_on"], name="sq_task_due_idx"),
            models.Index(fields=["rule", "subject", "week_of", "reason"], name="sq_task_quota_idx"),
        ]

    def __str__(self):
        return f"{self.get_reason_display()}: {self.interaction_key}"

    def get_absolute_url(self):
        return f"{reverse('service_quality:task-list')}#task-{self.pk}"

    @property
    def is_overdue(self) -> bool:
        return self.status != TaskStatus.DONE and self.due_on < timezone.localdate()

    @property
    def source_name(self) -> str:
        return self.rule.name if self.rule_id else "Follow-up after coaching"
