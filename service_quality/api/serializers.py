"""REST representations of scorecards and evaluations. Writes go through
service_quality.services; statuses change only through POST .../transitions/."""

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from complaints.models import Communication, Complaint
from documents.models import Document
from qms.api.mixins import VersionedSerializerMixin
from service_quality.models import (
    AutoRule,
    Criterion,
    Evaluation,
    InteractionKind,
    Scale,
    Score,
    Scorecard,
    ScorecardSection,
)


class CriterionSerializer(serializers.ModelSerializer):
    section = serializers.PrimaryKeyRelatedField(queryset=ScorecardSection.objects.all())
    scale = serializers.ChoiceField(choices=Scale.choices, default=Scale.YES_NO)
    auto_rule = serializers.ChoiceField(
        choices=AutoRule.choices, required=False, allow_blank=True, default=""
    )
    phrases = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, max_length=50, default=list
    )
    weight = serializers.IntegerField(min_value=1, max_value=100, default=1)
    position = serializers.IntegerField(min_value=0, max_value=999, required=False)

    class Meta:
        model = Criterion
        fields = [
            "id",
            "section",
            "label",
            "guidance",
            "scale",
            "weight",
            "is_critical",
            "position",
            "auto_rule",
            "phrases",
        ]


class SectionSerializer(serializers.ModelSerializer):
    criteria = CriterionSerializer(many=True, read_only=True)
    position = serializers.IntegerField(min_value=0, max_value=999, required=False)

    class Meta:
        model = ScorecardSection
        fields = ["id", "title", "position", "criteria"]


class ScorecardSerializer(VersionedSerializerMixin, serializers.ModelSerializer):
    sections = SectionSerializer(many=True, read_only=True)
    applies_to = serializers.ChoiceField(
        choices=InteractionKind.choices, default=InteractionKind.COMMUNICATION
    )
    pass_mark = serializers.IntegerField(min_value=0, max_value=100, default=80)
    reason = serializers.CharField(
        write_only=True, required=False, max_length=4000, help_text="Why (on update)."
    )

    class Meta:
        model = Scorecard
        fields = [
            "id",
            "code",
            "revision",
            "name",
            "description",
            "applies_to",
            "pass_mark",
            "status",
            "previous_revision",
            "change_summary",
            "approved_at",
            "in_force_at",
            "superseded_at",
            "sections",
            "version",
            "reason",
        ]
        read_only_fields = [
            "code",
            "revision",
            "status",
            "previous_revision",
            "change_summary",
            "approved_at",
            "in_force_at",
            "superseded_at",
        ]


class RevisionRequestSerializer(serializers.Serializer):
    change_summary = serializers.CharField(max_length=4000)


class ScoreSerializer(serializers.ModelSerializer):
    scored_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Score
        fields = ["criterion", "answer", "comment", "scored_by", "scored_at"]


class AnswerSerializer(serializers.Serializer):
    answer = serializers.CharField(max_length=3)
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ScoresRequestSerializer(serializers.Serializer):
    answers = serializers.DictField(
        child=AnswerSerializer(), allow_empty=False, help_text="{criterion id: {answer, comment}}"
    )
    reason = serializers.CharField(
        max_length=4000,
        required=False,
        allow_blank=True,
        default="",
        help_text="Needed when an answer changes.",
    )


class EvaluationSerializer(VersionedSerializerMixin, serializers.ModelSerializer):
    scorecard = serializers.PrimaryKeyRelatedField(queryset=Scorecard.objects.all())
    complaint = serializers.PrimaryKeyRelatedField(queryset=Complaint.objects.all())
    communication = serializers.PrimaryKeyRelatedField(
        queryset=Communication.objects.all(), required=False, allow_null=True
    )
    subject = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_active=True), required=False, allow_null=True
    )
    evaluator = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_active=True), required=False, allow_null=True
    )
    complaint_reference = serializers.CharField(source="complaint.reference", read_only=True)
    scores = ScoreSerializer(many=True, read_only=True)

    class Meta:
        model = Evaluation
        fields = [
            "id",
            "reference",
            "scorecard",
            "kind",
            "complaint",
            "complaint_reference",
            "communication",
            "subject",
            "evaluator",
            "status",
            "score_percent",
            "is_critical_fail",
            "is_passed",
            "summary",
            "created_at",
            "submitted_at",
            "scores",
            "version",
        ]
        read_only_fields = [
            "reference",
            "kind",
            "status",
            "score_percent",
            "is_critical_fail",
            "is_passed",
            "created_at",
            "submitted_at",
        ]


class AutoScoreSerializer(serializers.ModelSerializer):
    interaction_key = serializers.CharField(source="analysis.interaction_key", read_only=True)
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        from service_quality.models import AutoScore

        model = AutoScore
        fields = [
            "id",
            "interaction_key",
            "criterion",
            "answer",
            "method",
            "method_version",
            "inputs",
            "evidence",
            "status",
            "final_answer",
            "decided_by",
            "decided_at",
            "decision_reason",
            "computed_at",
        ]
        read_only_fields = fields


class AutoScoreDecisionSerializer(serializers.Serializer):
    answer = serializers.CharField(max_length=3, required=False, allow_blank=True, default="")
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class FrictionPhraseSerializer(serializers.ModelSerializer):
    class Meta:
        from service_quality.models import FrictionPhrase

        model = FrictionPhrase
        fields = ["id", "phrase", "is_active", "created_at"]
        read_only_fields = ["is_active", "created_at"]
        extra_kwargs = {"phrase": {"validators": []}}


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=4000)


class SamplingRuleSerializer(VersionedSerializerMixin, serializers.ModelSerializer):
    per_person_per_week = serializers.IntegerField(min_value=0, max_value=50, default=2)
    due_days = serializers.IntegerField(min_value=1, max_value=60, default=5)

    class Meta:
        from service_quality.models import SamplingRule

        model = SamplingRule
        fields = [
            "id",
            "name",
            "scorecard_code",
            "department",
            "person",
            "per_person_per_week",
            "target_detractors",
            "target_low_csat",
            "target_escalated",
            "target_reopened",
            "target_sla_breached",
            "due_days",
            "is_active",
            "version",
        ]
        read_only_fields = ["is_active"]


class EvaluationTaskSerializer(serializers.ModelSerializer):
    subject = serializers.SlugRelatedField(slug_field="username", read_only=True)
    evaluator = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        from service_quality.models import EvaluationTask

        model = EvaluationTask
        fields = [
            "id",
            "rule",
            "coaching",
            "interaction_key",
            "kind",
            "complaint",
            "communication",
            "subject",
            "evaluator",
            "reason",
            "week_of",
            "due_on",
            "status",
            "evaluation",
            "escalation_level",
            "created_at",
            "done_at",
        ]
        read_only_fields = fields


class CoachingSerializer(VersionedSerializerMixin, serializers.ModelSerializer):
    evaluation = serializers.PrimaryKeyRelatedField(queryset=Evaluation.objects.all())
    person = serializers.SlugRelatedField(slug_field="username", read_only=True)
    coach = serializers.SlugRelatedField(slug_field="username", read_only=True)
    follow_up_days = serializers.IntegerField(
        write_only=True, required=False, min_value=1, max_value=180, default=14
    )
    training_document = serializers.PrimaryKeyRelatedField(
        queryset=Document.objects.all(),
        write_only=True,
        required=False,
        allow_null=True,
        help_text="A controlled document to train on (its effective revision).",
    )
    training_assignment = serializers.PrimaryKeyRelatedField(read_only=True)
    follow_up_task = serializers.SerializerMethodField()

    @extend_schema_field(
        inline_serializer(
            "SqFollowUpTask",
            {
                "id": serializers.IntegerField(),
                "evaluator": serializers.CharField(),
                "due_on": serializers.DateField(),
                "status": serializers.CharField(),
                "evaluation": serializers.IntegerField(allow_null=True),
            },
            allow_null=True,
        )
    )
    def get_follow_up_task(self, record):
        from service_quality.models import EvaluationTask

        try:
            task = record.follow_up_task
        except EvaluationTask.DoesNotExist:
            return None
        return {
            "id": task.pk,
            "evaluator": task.evaluator.username,
            "due_on": task.due_on,
            "status": task.status,
            "evaluation": task.evaluation_id,
        }

    class Meta:
        from service_quality.models import CoachingRecord

        model = CoachingRecord
        fields = [
            "id",
            "evaluation",
            "person",
            "coach",
            "moment",
            "what_good_looks_like",
            "agreed_action",
            "due_on",
            "follow_up_days",
            "follow_up_due_on",
            "follow_up_task",
            "training_document",
            "training_assignment",
            "status",
            "created_at",
            "acknowledged_at",
            "completed_at",
            "version",
        ]
        read_only_fields = [
            "follow_up_due_on",
            "status",
            "created_at",
            "acknowledged_at",
            "completed_at",
        ]


class CalibrationInteractionSerializer(serializers.Serializer):
    complaint = serializers.PrimaryKeyRelatedField(queryset=Complaint.objects.all())
    communication = serializers.PrimaryKeyRelatedField(
        queryset=Communication.objects.all(), required=False, allow_null=True
    )


class CalibrationSerializer(serializers.ModelSerializer):
    scorecard = serializers.PrimaryKeyRelatedField(queryset=Scorecard.objects.all())
    participants = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_active=True), many=True
    )
    interactions = CalibrationInteractionSerializer(many=True, write_only=True)
    facilitator = serializers.SlugRelatedField(slug_field="username", read_only=True)
    items = serializers.SerializerMethodField()

    class Meta:
        from service_quality.models import CalibrationSession

        model = CalibrationSession
        fields = [
            "id",
            "name",
            "scorecard",
            "facilitator",
            "participants",
            "status",
            "created_at",
            "closed_at",
            "interactions",
            "items",
        ]
        read_only_fields = ["status", "created_at", "closed_at"]

    def get_items(self, obj) -> list[dict]:
        return [
            {"id": i.pk, "complaint": i.complaint_id, "communication": i.communication_id}
            for i in obj.items.all()
        ]


class CalibrationAnswersSerializer(serializers.Serializer):
    answers = serializers.DictField(
        child=serializers.CharField(max_length=3),
        allow_empty=False,
        help_text='{"<item id>:<criterion id>": answer}',
    )


class TrendRowSerializer(serializers.Serializer):
    label = serializers.CharField()
    n = serializers.IntegerField(help_text="Evaluations (criteria: answers) counted.")
    mean = serializers.FloatField(allow_null=True)
    weeks = serializers.ListField(
        child=serializers.FloatField(allow_null=True), help_text="The mean of each week, in order."
    )


class CriterionTrendSerializer(TrendRowSerializer):
    failed = serializers.IntegerField(help_text="Answers no, 1 or 2.")


class CorrelationSerializer(serializers.Serializer):
    label = serializers.CharField()
    scale = serializers.CharField()
    n = serializers.IntegerField(help_text="Evaluated complaints with an answered survey.")
    pearson = serializers.FloatField(allow_null=True)
    spearman = serializers.FloatField(allow_null=True)
    reading = serializers.CharField()


class KpiFigureSerializer(serializers.Serializer):
    value = serializers.FloatField(allow_null=True)
    numerator = serializers.FloatField(allow_null=True)
    denominator = serializers.FloatField(allow_null=True)


class DashboardSerializer(serializers.Serializer):
    """The service-quality dashboard's figures (service_quality/dashboard.py)."""

    start = serializers.DateField()
    end = serializers.DateField()
    weeks = serializers.ListField(child=serializers.DateField(), help_text="Each week's Monday.")
    evaluations = serializers.IntegerField()
    mean = serializers.FloatField(allow_null=True)
    critical = serializers.IntegerField()
    critical_rate = serializers.FloatField(allow_null=True)
    critical_weeks = serializers.ListField(child=serializers.FloatField(allow_null=True))
    teams = TrendRowSerializer(many=True)
    persons = TrendRowSerializer(many=True, help_text="Lowest mean first, at most 50.")
    criteria = CriterionTrendSerializer(many=True)
    correlation = CorrelationSerializer(many=True)
    kpis = serializers.DictField(
        child=KpiFigureSerializer(),
        allow_null=True,
        help_text="The registry's sq_* KPIs (whole organisation), for Quality Managers and Auditors.",
    )
