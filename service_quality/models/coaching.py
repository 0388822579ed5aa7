"""Coaching on one moment of an evaluated interaction."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from qms.history import regulated_history
from qms.versioning import VersionedModel
from service_quality.models.evaluations import Evaluation
from service_quality.workflow import CoachingStatus


class CoachingRecord(VersionedModel):
    """Coaching on one moment of an evaluated interaction, soon after it happened: what good
    looks like, an agreed action with a due date, acknowledged by the person with a signature,
    and a follow-up evaluation due after it."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.PROTECT, related_name="coaching")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="coaching_received"
    )
    coach = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="coaching_given"
    )
    moment = models.TextField(max_length=4000)
    what_good_looks_like = models.TextField(max_length=4000)
    agreed_action = models.TextField(max_length=4000)
    due_on = models.DateField()
    follow_up_due_on = models.DateField()
    # Optional training on a controlled document, made by training.services.assignment_request.
    training_assignment = models.ForeignKey(
        "training.TrainingAssignment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    status = models.CharField(
        max_length=20, choices=CoachingStatus.choices, default=CoachingStatus.OPEN, editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    acknowledged_at = models.DateTimeField(null=True, blank=True, editable=False)
    completed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Columns added after the table held rows (qms.history.regulated_history, decision 0040).
    history = regulated_history(chain_added_fields=["training_assignment"])

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(coach=F("person")), name="sq_coaching_coach_not_person"
            )
        ]
        indexes = [
            models.Index(fields=["person", "status"], name="sq_coaching_person_idx"),
            # The follow-up sweep: coaching whose agreed action is due (sampling.follow_ups_draw).
            models.Index(fields=["due_on"], name="sq_coaching_due_idx"),
        ]

    def __str__(self):
        return f"Coaching on {self.evaluation.reference}" if self.evaluation_id else "Coaching"

    def get_absolute_url(self):
        return reverse("service_quality:coaching-detail", args=[self.pk])

    @property
    def is_overdue(self) -> bool:
        return self.status != CoachingStatus.COMPLETED and self.due_on < timezone.localdate()
