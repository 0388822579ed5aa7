"""Scorecards: one row per revision (`code` + `revision`), its sections and criteria, which
change only while the revision is a draft; what kinds of interaction and answer scales there are."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from qms.history import regulated_history
from qms.versioning import VersionedModel
from service_quality import scoring
from service_quality.workflow import ScorecardStatus


class InteractionKind(models.TextChoices):
    COMMUNICATION = "communication", "Communication-log entry"
    HANDLING = "handling", "Handling of a complaint as a whole"


class Scale(models.TextChoices):
    YES_NO = scoring.SCALE_YES_NO, "Yes / no / not applicable"
    ONE_TO_FIVE = scoring.SCALE_FIVE, "1 to 5 (or not applicable)"


class Scorecard(VersionedModel):
    code = models.CharField(max_length=20, editable=False)  # SQC-001, the same for every revision
    revision = models.PositiveSmallIntegerField(default=1, editable=False)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=4000)
    applies_to = models.CharField(
        max_length=20, choices=InteractionKind.choices, default=InteractionKind.COMMUNICATION
    )
    pass_mark = models.PositiveSmallIntegerField(
        default=80, help_text="Score (0-100) at or above which an evaluation passes."
    )
    status = models.CharField(
        max_length=20,
        choices=ScorecardStatus.choices,
        default=ScorecardStatus.DRAFT,
        editable=False,
    )
    previous_revision = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="next_revision",
        editable=False,
    )
    change_summary = models.TextField(blank=True, max_length=4000)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    in_force_at = models.DateTimeField(null=True, blank=True, editable=False)
    superseded_at = models.DateTimeField(null=True, blank=True, editable=False)
    history = regulated_history()

    class Meta:
        ordering = ["code", "-revision"]
        constraints = [
            models.UniqueConstraint(
                fields=["code", "revision"], name="sq_scorecard_code_revision_uniq"
            ),
            models.UniqueConstraint(
                fields=["code"],
                condition=Q(status=ScorecardStatus.IN_FORCE),
                name="sq_scorecard_one_in_force",
            ),
            models.CheckConstraint(
                condition=Q(pass_mark__lte=100), name="sq_scorecard_pass_mark_0_100"
            ),
        ]

    def __str__(self):
        return f"{self.code} rev {self.revision}: {self.name}"

    def get_absolute_url(self):
        return reverse("service_quality:scorecard-detail", args=[self.pk])

    @property
    def is_draft(self) -> bool:
        return self.status == ScorecardStatus.DRAFT


class ScorecardSection(models.Model):
    scorecard = models.ForeignKey(Scorecard, on_delete=models.PROTECT, related_name="sections")
    title = models.CharField(max_length=120)
    position = models.PositiveSmallIntegerField(default=0)
    history = regulated_history()

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["scorecard", "title"], name="sq_section_title_uniq")
        ]

    def __str__(self):
        return self.title


class AutoRule(models.TextChoices):
    """What the automatic evaluator can measure for a criterion (service_quality/auto.py)."""

    NONE = "", "Not measured automatically"
    SENTIMENT = "sentiment", "Customer sentiment not negative"
    NO_FRICTION = "no_friction", "No friction phrase"
    REQUIRED_PHRASE = "required_phrase", "Required statement present"
    FIRST_RESPONSE_SLA = "first_response_sla", "First response within the SLA"
    RESOLUTION_SLA = "resolution_sla", "Resolved within the SLA"
    NOT_REOPENED = "not_reopened", "Not reopened"
    SURVEY = "survey", "Customer survey score"


class Criterion(models.Model):
    scorecard = models.ForeignKey(Scorecard, on_delete=models.PROTECT, related_name="criteria")
    section = models.ForeignKey(ScorecardSection, on_delete=models.PROTECT, related_name="criteria")
    label = models.CharField(max_length=200)
    guidance = models.TextField(blank=True, max_length=4000)
    scale = models.CharField(max_length=20, choices=Scale.choices, default=Scale.YES_NO)
    weight = models.PositiveSmallIntegerField(default=1)
    is_critical = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)
    auto_rule = models.CharField(
        max_length=30, choices=AutoRule.choices, blank=True, default=AutoRule.NONE
    )
    # For REQUIRED_PHRASE: any of these phrases (case-insensitive) satisfies the criterion.
    phrases = models.JSONField(default=list, blank=True)
    history = regulated_history()

    class Meta:
        ordering = ["section__position", "position", "id"]
        verbose_name_plural = "criteria"
        constraints = [
            models.CheckConstraint(
                condition=Q(weight__gte=1, weight__lte=100), name="sq_criterion_weight_1_100"
            ),
            models.CheckConstraint(
                condition=Q(scale__in=[c for c, _ in Scale.choices]),
                name="sq_criterion_scale_valid",
            ),
        ]

    def __str__(self):
        return self.label

    @property
    def scale_answers(self) -> tuple[str, ...]:
        return scoring.ANSWERS[self.scale]
