"""Calibration sessions: several evaluators score the same interactions blind; the facilitator
records the agreed answer."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from qms.history import regulated_history
from service_quality.models.common import answer_is_valid, communication_field, complaint_field
from service_quality.models.scorecards import Criterion, Scorecard


class CalibrationSession(models.Model):
    """Several evaluators score the same interactions blind (nobody sees another's answers
    while the session is open); the facilitator records the agreed answer per criterion."""

    class Status(models.TextChoices):
        OPEN = "open", "Open (blind)"
        CLOSED = "closed", "Closed"

    name = models.CharField(max_length=120)
    scorecard = models.ForeignKey(Scorecard, on_delete=models.PROTECT, related_name="calibrations")
    facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    participants = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="calibrations")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    history = regulated_history()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("service_quality:calibration-detail", args=[self.pk])


class CalibrationItem(models.Model):
    session = models.ForeignKey(CalibrationSession, on_delete=models.PROTECT, related_name="items")
    complaint = complaint_field(related_name="+")
    communication = communication_field(related_name="+")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "complaint", "communication"],
                name="sq_calibration_item_uniq",
                nulls_distinct=False,
            )
        ]

    def __str__(self):
        return f"{self.complaint_id}/{self.communication_id or 'handling'}"


class CalibrationScore(models.Model):
    item = models.ForeignKey(CalibrationItem, on_delete=models.PROTECT, related_name="scores")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="+")
    evaluator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    is_agreed = models.BooleanField(
        default=False
    )  # the facilitator's agreed answer (evaluator null)
    answer = models.CharField(max_length=3)
    scored_at = models.DateTimeField(default=timezone.now)
    history = regulated_history()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["item", "criterion", "evaluator"],
                condition=Q(is_agreed=False),
                name="sq_calibration_one_per_rater",
            ),
            models.UniqueConstraint(
                fields=["item", "criterion"],
                condition=Q(is_agreed=True),
                name="sq_calibration_one_agreed",
            ),
            models.CheckConstraint(
                condition=Q(is_agreed=True, evaluator__isnull=True)
                | Q(is_agreed=False, evaluator__isnull=False),
                name="sq_calibration_rater_or_agreed",
            ),
            answer_is_valid(name="sq_calibration_answer_valid"),
        ]

    def __str__(self):
        return (
            f"{self.item} {self.criterion_id}: {self.answer}{' (agreed)' if self.is_agreed else ''}"
        )
