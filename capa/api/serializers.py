from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from capa import services
from capa.models import (
    ActionEvidence,
    ActionType,
    Capa,
    CapaAction,
    EffectivenessCheck,
    FishboneCategory,
    Kind,
    RootCauseAnalysis,
    RootCauseMethod,
    Source,
)
from complaints.models import Complaint
from documents.models import Document
from qms.api.mixins import VersionedSerializerMixin

User = get_user_model()


def _active_users():
    return User.objects.filter(is_active=True)


class CapaSerializer(VersionedSerializerMixin, serializers.ModelSerializer):
    owner = serializers.PrimaryKeyRelatedField(queryset=_active_users())
    containment_by = serializers.PrimaryKeyRelatedField(queryset=_active_users(), required=False, allow_null=True)
    complaints = serializers.PrimaryKeyRelatedField(many=True, required=False, queryset=Complaint.objects.all())
    kind = serializers.ChoiceField(choices=Kind.choices, required=False)
    source = serializers.ChoiceField(choices=Source.choices, required=False)
    severity = serializers.IntegerField(min_value=1, max_value=5, required=False)
    occurrence = serializers.IntegerField(min_value=1, max_value=5, required=False)
    title = serializers.CharField(max_length=200)
    problem_statement = serializers.CharField(max_length=10000)
    containment_action = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    risk_score = serializers.IntegerField(read_only=True)
    is_verified_early = serializers.BooleanField(
        read_only=True, default=False, help_text="An effectiveness check of this CAPA was declared effective early (signed)."
    )

    class Meta:
        model = Capa
        fields = [
            "id",
            "reference",
            "title",
            "kind",
            "source",
            "complaints",
            "problem_statement",
            "severity",
            "occurrence",
            "risk_score",
            "risk_level",
            "is_verified_early",
            "containment_action",
            "containment_by",
            "containment_at",
            "owner",
            "status",
            "due_date",
            "created_at",
            "implemented_at",
            "closed_at",
            "reopen_count",
            "recurred_after_closure_at",
            "recurrence_after_closure",
            "version",
        ]
        read_only_fields = [
            "reference", "risk_level", "status", "created_at", "implemented_at", "closed_at", "reopen_count",
            "recurred_after_closure_at", "recurrence_after_closure",
        ]

    def create(self, validated_data):
        validated_data.pop("version", None)
        return services.capa_create(actor=self.context["request"].user, **validated_data)

    def update(self, instance, validated_data):
        version = validated_data.pop("version")
        reason = self.context["request"].data.get("reason", "")
        complaints = validated_data.pop("complaints", None)
        return services.capa_update(
            instance, actor=self.context["request"].user, reason=reason if isinstance(reason, str) else "", version=version, complaints=complaints, **validated_data
        )


class WhySerializer(serializers.Serializer):
    why = serializers.CharField(max_length=500)
    because = serializers.CharField(max_length=500)


class RootCauseSerializer(serializers.ModelSerializer):
    method = serializers.ChoiceField(choices=RootCauseMethod.choices, required=False, default=RootCauseMethod.BOTH)
    whys = WhySerializer(many=True, required=False, default=list)
    fishbone = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField(max_length=200), max_length=12),
        required=False,
        default=dict,
        help_text=f"Causes per category: {', '.join(FishboneCategory.values)}.",
    )
    conclusion = serializers.CharField(max_length=10000, required=False, allow_blank=True, default="")
    version = serializers.IntegerField(required=False, min_value=1)
    reason = serializers.CharField(max_length=4000, required=False, allow_blank=True, write_only=True)
    analysed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = RootCauseAnalysis
        fields = ["method", "whys", "fishbone", "conclusion", "analysed_by", "analysed_at", "version", "reason"]
        read_only_fields = ["analysed_at"]


class EvidenceFileSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = ActionEvidence
        fields = ["id", "original_name", "content_type", "size", "sha256", "uploaded_by", "uploaded_at", "url"]


class ActionSerializer(VersionedSerializerMixin, serializers.ModelSerializer):
    owner = serializers.PrimaryKeyRelatedField(queryset=_active_users())
    action_type = serializers.ChoiceField(choices=ActionType.choices, required=False, default=ActionType.FIX)
    description = serializers.CharField(max_length=10000)
    role = serializers.PrimaryKeyRelatedField(queryset=Group.objects.all(), required=False, allow_null=True)
    document = serializers.PrimaryKeyRelatedField(queryset=Document.objects.all(), required=False, allow_null=True)
    evidence_files = EvidenceFileSerializer(many=True, read_only=True)
    requirement_met = serializers.SerializerMethodField(
        help_text="For document revisions and retraining: whether the system sees it done (null: evidence decides)."
    )
    completed_by = serializers.SerializerMethodField(help_text="The username of who marked the action done (completed_at: when).")
    completed_by_name = serializers.SerializerMethodField(help_text="The full name of who marked the action done.")

    class Meta:
        model = CapaAction
        fields = [
            "id",
            "number",
            "action_type",
            "description",
            "owner",
            "due_date",
            "status",
            "completed_at",
            "completed_by",
            "completed_by_name",
            "evidence",
            "evidence_files",
            "document",
            "baseline_revision",
            "requirement_met",
            "role",
            "escalation_level",
            "version",
        ]
        read_only_fields = ["number", "status", "completed_at", "evidence", "baseline_revision", "escalation_level"]

    @extend_schema_field(serializers.BooleanField(allow_null=True))
    def get_requirement_met(self, action) -> bool | None:
        progress = services.action_progress(action)
        return None if progress is None else progress.is_done

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_completed_by(self, action) -> str | None:
        return getattr(action, "completed_by_username", None)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_completed_by_name(self, action) -> str | None:
        return getattr(action, "completed_by_name", None)

    def create(self, validated_data):
        validated_data.pop("version", None)
        return services.action_create(self.context["capa"], actor=self.context["request"].user, **validated_data)

    def update(self, instance, validated_data):
        version = validated_data.pop("version")
        reason = self.context["request"].data.get("reason", "")
        changes = {k: v for k, v in validated_data.items() if k in ("description", "owner", "due_date")}
        refused = set(validated_data) - set(changes)
        if refused:
            raise serializers.ValidationError({name: ["Cannot be changed after planning."] for name in refused})
        return services.action_update(instance, actor=self.context["request"].user, reason=reason if isinstance(reason, str) else "", version=version, **changes)


class EvidenceUploadSerializer(serializers.Serializer):
    file = serializers.FileField()


class CheckSerializer(VersionedSerializerMixin, serializers.ModelSerializer):
    verifier = serializers.PrimaryKeyRelatedField(queryset=_active_users())
    criteria = serializers.CharField(max_length=10000)
    verified_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    is_early_verification = serializers.SerializerMethodField(
        help_text="Declared effective before the observation window (due_date) ended, signed \"Early verification\"."
    )
    early_justification = serializers.SerializerMethodField(help_text="The signed justification of an early verification.")

    class Meta:
        model = EffectivenessCheck
        fields = [
            "id",
            "criteria",
            "due_date",
            "verifier",
            "result",
            "evidence",
            "verified_by",
            "verified_at",
            "is_early_verification",
            "early_justification",
            "version",
        ]
        read_only_fields = ["result", "evidence", "verified_at"]

    @extend_schema_field(serializers.BooleanField())
    def get_is_early_verification(self, check) -> bool:
        return getattr(check, "result_step", None) == "mark_effective_early"

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_early_justification(self, check) -> str | None:
        return check.result_reason if self.get_is_early_verification(check) else None

    def create(self, validated_data):
        validated_data.pop("version", None)
        return services.check_create(self.context["capa"], actor=self.context["request"].user, **validated_data)

    def update(self, instance, validated_data):
        """Only the verifier changes after planning, with `version` and a `reason`."""
        version = validated_data.pop("version")
        reason = self.context["request"].data.get("reason", "")
        refused = {name for name, value in validated_data.items() if name != "verifier" and getattr(instance, name) != value}
        if refused:
            raise serializers.ValidationError({name: ["Cannot be changed after planning."] for name in sorted(refused)})
        return services.check_update(
            instance,
            actor=self.context["request"].user,
            reason=reason if isinstance(reason, str) else "",
            version=version,
            verifier=validated_data.get("verifier", instance.verifier),
        )
