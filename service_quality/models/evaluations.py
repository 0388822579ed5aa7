"""Evaluations of one interaction against a scorecard revision, and their scores (one answer
per criterion)."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from qms.history import regulated_history
from qms.versioning import VersionedModel
from service_quality.models.common import answer_is_valid, communication_field, complaint_field
from service_quality.models.scorecards import Criterion, InteractionKind, Scorecard
from service_quality.workflow import EvaluationStatus


class Evaluation(VersionedModel):
    reference = models.CharField(max_length=20, unique=True, editable=False)
    scorecard = models.ForeignKey(Scorecard, on_delete=models.PROTECT, related_name="evaluations")
    kind = models.CharField(max_length=20, choices=InteractionKind.choices)
    complaint = complaint_field(related_name="evaluations")
    communication = communication_field(related_name="evaluations")
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="evaluations_received",
        verbose_name="person evaluated",
    )
    evaluator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="evaluations_made"
    )
    status = models.CharField(
        max_length=20,
        choices=EvaluationStatus.choices,
        default=EvaluationStatus.DRAFT,
        editable=False,
    )
    score_percent = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True, editable=False
    )
    is_critical_fail = models.BooleanField(default=False, editable=False)
    is_passed = models.BooleanField(null=True, blank=True, editable=False)
    summary = models.TextField(blank=True, max_length=4000)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    history = regulated_history()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # An evaluator never evaluates their own interaction (independence of the check).
            models.CheckConstraint(
                condition=~Q(evaluator=F("subject")), name="sq_evaluation_evaluator_not_subject"
            ),
            models.CheckConstraint(
                condition=(Q(kind=InteractionKind.COMMUNICATION, communication__isnull=False))
                | (Q(kind=InteractionKind.HANDLING, communication__isnull=True)),
                name="sq_evaluation_kind_matches_interaction",
            ),
        ]
        indexes = [
            models.Index(fields=["subject", "-created_at"], name="sq_eval_subject_idx"),
            models.Index(fields=["evaluator", "status"], name="sq_eval_evaluator_idx"),
            models.Index(fields=["status", "-created_at"], name="sq_eval_status_idx"),
        ]

    def __str__(self):
        return self.reference

    def get_absolute_url(self):
        return reverse("service_quality:evaluation-detail", args=[self.pk])


class Score(models.Model):
    """One criterion's answer in one evaluation. Changes keep their history with the reason."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.PROTECT, related_name="scores")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="scores")
    answer = models.CharField(max_length=3)
    comment = models.TextField(blank=True, max_length=2000)
    scored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    scored_at = models.DateTimeField(default=timezone.now)
    history = regulated_history()

    class Meta:
        ordering = ["criterion__section__position", "criterion__position", "criterion_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["evaluation", "criterion"], name="sq_score_one_per_criterion"
            ),
            answer_is_valid(name="sq_score_answer_valid"),
        ]

    def __str__(self):
        return f"{self.criterion}: {self.answer}"
