"""The automatic evaluation of every interaction (service_quality/auto.py): the friction list,
what was measured on an interaction, and the automatic answers an evaluator confirms or overrides."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from qms.history import regulated_history
from service_quality.models.common import answer_is_valid, communication_field, complaint_field
from service_quality.models.scorecards import Criterion, InteractionKind


class FrictionPhrase(models.Model):
    """The managed list of phrases that signal friction ("still waiting", "third time"). A
    trailing * matches any ending ("cancel*": cancel, cancelled, cancellation)."""

    phrase = models.CharField(max_length=100, unique=True)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)
    history = regulated_history()

    class Meta:
        ordering = ["phrase"]

    def __str__(self):
        return self.phrase


class SentimentLabel(models.TextChoices):
    POSITIVE = "positive", "Positive"
    NEUTRAL = "neutral", "Neutral"
    NEGATIVE = "negative", "Negative"


class InteractionAnalysis(models.Model):
    """What the automatic evaluator measured on one interaction: a communication-log entry
    (`c:<id>`) or the handling of a complaint (`h:<id>`), with the ids of the inputs it read."""

    interaction_key = models.CharField(max_length=30, unique=True)
    kind = models.CharField(max_length=20, choices=InteractionKind.choices)
    complaint = complaint_field(related_name="+")
    communication = communication_field(related_name="analysis", one_to_one=True)
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # What the incremental run compares (decision record 0031): the rules in use (method
    # version, automatic criteria, friction list), the complaint's version (handling) and the
    # latest answered survey. A row whose values differ from today's is looked at again.
    rules_key = models.CharField(max_length=64)
    source_version = models.PositiveIntegerField(default=0)
    survey_id = models.BigIntegerField(null=True, blank=True)
    last_communication_id = models.BigIntegerField(
        null=True, blank=True
    )  # handling: newest entry read
    method_version = models.CharField(max_length=60)
    inputs = models.JSONField(default=dict)  # ids (and versions) of what was read
    sentiment_compound = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True)
    sentiment = models.CharField(max_length=10, choices=SentimentLabel.choices, blank=True)
    friction_phrases = models.JSONField(default=list)
    first_response_in_sla = models.BooleanField(null=True)
    resolution_in_sla = models.BooleanField(null=True)
    is_reopened = models.BooleanField(null=True)
    csat = models.PositiveSmallIntegerField(null=True)
    nps = models.PositiveSmallIntegerField(null=True)
    analysed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-analysed_at", "-id"]
        verbose_name_plural = "interaction analyses"
        indexes = [
            models.Index(fields=["complaint"], name="sq_analysis_complaint_idx"),
            models.Index(fields=["subject", "analysed_at"], name="sq_analysis_subject_idx"),
        ]

    def __str__(self):
        return self.interaction_key


class AutoScoreStatus(models.TextChoices):
    SUGGESTED = "suggested", "Suggested"
    CONFIRMED = "confirmed", "Confirmed"
    OVERRIDDEN = "overridden", "Overridden"


class AutoScore(models.Model):
    """One automatic answer for one criterion on one interaction: a suggestion until an
    evaluator confirms it or overrides it with a reason (kept in the history)."""

    analysis = models.ForeignKey(
        InteractionAnalysis, on_delete=models.PROTECT, related_name="auto_scores"
    )
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="auto_scores")
    answer = models.CharField(max_length=3)  # what the machine says
    method = models.CharField(max_length=30)
    method_version = models.CharField(max_length=60)
    inputs = models.JSONField(default=dict)
    evidence = models.CharField(max_length=300, blank=True)
    status = models.CharField(
        max_length=12, choices=AutoScoreStatus.choices, default=AutoScoreStatus.SUGGESTED
    )
    final_answer = models.CharField(max_length=3, blank=True)  # after confirmation or override
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True, max_length=2000)
    computed_at = models.DateTimeField(default=timezone.now)
    history = regulated_history()

    class Meta:
        ordering = ["criterion__position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["analysis", "criterion"], name="sq_autoscore_one_per_criterion"
            ),
            answer_is_valid(name="sq_autoscore_answer_valid"),
            models.CheckConstraint(
                condition=~Q(status="overridden") | ~Q(decision_reason=""),
                name="sq_autoscore_override_has_reason",
            ),
        ]

    def __str__(self):
        return f"{self.analysis} {self.criterion}: {self.answer}"

    @property
    def effective_answer(self) -> str:
        return self.final_answer or self.answer
