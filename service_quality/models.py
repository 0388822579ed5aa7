"""Service quality (ISO 9001 9.1.2 customer satisfaction, ISO 10002 8.4, ISO 18295-1 5.4
monitoring of customer contact): scorecards of the behaviours and outcomes expected of the
people who handle customers, and evaluations of their interactions against a revision of one.

A scorecard row is one revision of a scorecard (`code` + `revision`); its sections and criteria
belong to that revision and change only while it is a draft. An evaluation keeps the revision
it was scored on. Status values and transitions live in service_quality/workflow.py, the
scoring rules in service_quality/scoring.py.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from qms.history import regulated_history
from qms.versioning import VersionedModel
from service_quality import scoring
from service_quality.workflow import CoachingStatus, EvaluationStatus, ScorecardStatus


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


class Evaluation(VersionedModel):
    reference = models.CharField(max_length=20, unique=True, editable=False)
    scorecard = models.ForeignKey(Scorecard, on_delete=models.PROTECT, related_name="evaluations")
    kind = models.CharField(max_length=20, choices=InteractionKind.choices)
    complaint = models.ForeignKey(
        "complaints.Complaint", on_delete=models.PROTECT, related_name="evaluations"
    )
    communication = models.ForeignKey(
        "complaints.Communication",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="evaluations",
    )
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
            models.CheckConstraint(
                condition=Q(answer__in=["yes", "no", "na", "1", "2", "3", "4", "5"]),
                name="sq_score_answer_valid",
            ),
        ]

    def __str__(self):
        return f"{self.criterion}: {self.answer}"


# --- automatic evaluation of every interaction (service_quality/auto.py) ----------------------


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
    complaint = models.ForeignKey(
        "complaints.Complaint", on_delete=models.PROTECT, related_name="+"
    )
    communication = models.OneToOneField(
        "complaints.Communication",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="analysis",
    )
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
            models.CheckConstraint(
                condition=Q(answer__in=["yes", "no", "na", "1", "2", "3", "4", "5"]),
                name="sq_autoscore_answer_valid",
            ),
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


# --- sampling: evaluation tasks drawn for people to do ------------------------------------------


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
    complaint = models.ForeignKey(
        "complaints.Complaint", on_delete=models.PROTECT, related_name="+"
    )
    communication = models.ForeignKey(
        "complaints.Communication",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
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


# --- coaching ------------------------------------------------------------------------------------


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


# --- calibration -----------------------------------------------------------------------------------


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
    complaint = models.ForeignKey(
        "complaints.Complaint", on_delete=models.PROTECT, related_name="+"
    )
    communication = models.ForeignKey(
        "complaints.Communication",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

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
            models.CheckConstraint(
                condition=Q(answer__in=["yes", "no", "na", "1", "2", "3", "4", "5"]),
                name="sq_calibration_answer_valid",
            ),
        ]

    def __str__(self):
        return (
            f"{self.item} {self.criterion_id}: {self.answer}{' (agreed)' if self.is_agreed else ''}"
        )
