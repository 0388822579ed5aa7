"""REST representations (docs/api.md "Resources"). Writes go through complaints.services; the status
is read-only here and changes only through POST complaints/{id}/transitions/."""

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers

from complaints.filters import quality_users
from complaints.models import (
    Attachment,
    BusinessCalendar,
    Category,
    Communication,
    Complaint,
    Customer,
    Escalation,
    FailureMode,
    NoInvestigationBasis,
    Product,
    SlaPolicy,
    Survey,
)
from qms.api.mixins import VersionedSerializerMixin


class CustomerSerializer(VersionedSerializerMixin, serializers.ModelSerializer):
    # Required on update (complaints.services.customer_update refuses a blank one).
    reason = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=4000, trim_whitespace=False)

    class Meta:
        model = Customer
        fields = ["id", "name", "email", "organisation", "phone", "address", "version", "reason"]


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["id", "code", "name", "is_active"]
        read_only_fields = ["is_active"]


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "description", "is_active"]
        read_only_fields = ["is_active"]


class FailureModeSerializer(VersionedSerializerMixin, serializers.ModelSerializer):
    category = serializers.PrimaryKeyRelatedField(queryset=Category.objects.filter(is_active=True))
    reason = serializers.CharField(write_only=True, required=False, max_length=4000)

    class Meta:
        model = FailureMode
        fields = ["id", "category", "name", "description", "is_active", "version", "reason"]


READ_ONLY_COMPLAINT_FIELDS = [
    "id", "reference", "status", "acknowledged_at", "resolved_at", "closed_at", "first_response_due",
    "resolution_due", "sla_paused_hours", "escalation_level", "is_recurring", "recurrence_of", "resolution",
    "capas", "is_overdue", "is_breached", "investigation_decided_by", "reportability_decided_by", "no_investigation_basis",
    "recurrence_key",
]


class ComplaintSerializer(VersionedSerializerMixin, serializers.ModelSerializer):
    assignee = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.all(), required=False, allow_null=True)
    capas = serializers.SerializerMethodField(help_text="Ids of the CAPAs this complaint is linked to.")
    is_overdue = serializers.SerializerMethodField(help_text="Past a deadline now.")
    is_breached = serializers.SerializerMethodField(help_text="Missed a deadline, now or earlier.")
    no_investigation_basis = serializers.ChoiceField(
        choices=NoInvestigationBasis.choices, allow_blank=True, read_only=True,
        help_text="Empty unless the decision was not to investigate.",
    )
    investigation_decided_by = serializers.CharField(source="investigation_decided_by.username", read_only=True, allow_null=True, default=None)
    reportability_decided_by = serializers.CharField(source="reportability_decided_by.username", read_only=True, allow_null=True, default=None)
    reason = serializers.CharField(
        write_only=True, required=False, max_length=4000,
        help_text="Why the record is changed (required on update; recorded in the history).",
    )

    class Meta:
        model = Complaint
        fields = [
            "id", "reference", "title", "description", "channel", "customer", "product", "lot_number", "udi",
            "category", "failure_mode", "severity", "status", "assignee", "received_at", "acknowledged_at", "resolved_at",
            "closed_at", "first_response_due", "resolution_due", "sla_paused_hours", "escalation_level",
            "is_recurring", "recurrence_of", "recurrence_key", "is_product_problem", "investigation_required", "no_investigation_reason",
            "no_investigation_reference", "no_investigation_basis", "investigation_decided_by", "is_reportable", "reportability_reason", "reportability_decided_by",
            "resolution", "capas", "is_overdue", "is_breached", "version", "reason",
        ]
        read_only_fields = READ_ONLY_COMPLAINT_FIELDS
        extra_kwargs = {"received_at": {"required": False}}

    def get_capas(self, complaint) -> list[int]:
        if not hasattr(complaint, "capas"):
            return []
        return [capa.pk for capa in complaint.capas.all()]

    def get_is_overdue(self, complaint) -> bool:
        return bool(getattr(complaint, "is_overdue", False))

    def get_is_breached(self, complaint) -> bool:
        return bool(getattr(complaint, "is_breached", False))

    def validate_assignee(self, user):
        if user is not None and not quality_users().filter(pk=user.pk).exists():
            raise serializers.ValidationError("Assign the complaint to an active member of the quality team.")
        return user

    def validate_received_at(self, value):
        if value > timezone.now() + timezone.timedelta(minutes=2):
            raise serializers.ValidationError("The received time cannot be in the future.")
        return value

    def validate(self, attrs):
        if "status" in self.initial_data:
            raise serializers.ValidationError(
                {"status": ["The status changes only through POST transitions/ with an action."]}
            )
        attrs = super().validate(attrs)
        if self.instance is not None and not (attrs.get("reason") or "").strip():
            raise serializers.ValidationError({"reason": ["Say why the complaint is changed."]})
        return attrs


class EscalationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Escalation
        fields = ["level", "kind", "percent", "due_at", "at", "notified"]


class CommunicationSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)
    at = serializers.DateTimeField(required=False)

    class Meta:
        model = Communication
        fields = ["id", "at", "direction", "channel", "summary", "author"]


class AttachmentSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    file = serializers.FileField(write_only=True, help_text="The file (multipart/form-data).")
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "file", "original_name", "content_type", "size", "sha256", "description", "uploaded_by", "uploaded_at", "download_url"]
        read_only_fields = ["original_name", "content_type", "size", "sha256", "uploaded_by", "uploaded_at"]

    def get_download_url(self, attachment) -> str:
        return reverse("complaints:attachment", args=[attachment.pk])


class SlaPolicySerializer(VersionedSerializerMixin, serializers.ModelSerializer):
    calendar = serializers.PrimaryKeyRelatedField(queryset=BusinessCalendar.objects.all())
    escalation_steps = serializers.JSONField(
        help_text='[{"level": 1, "percent": 75, "notify": ["assignee"]}, ...]; notify targets: assignee, '
        "assignee_manager, quality_managers, head_of_quality."
    )
    reason = serializers.CharField(write_only=True, required=False, max_length=4000)

    class Meta:
        model = SlaPolicy
        fields = [
            "id", "severity", "first_response_hours", "resolution_hours", "counts_business_time", "calendar",
            "escalation_steps", "version", "reason",
        ]
        read_only_fields = ["severity"]


class SurveySerializer(serializers.ModelSerializer):
    complaint_reference = serializers.CharField(source="complaint.reference", read_only=True)

    class Meta:
        model = Survey
        fields = ["id", "complaint", "complaint_reference", "sent_at", "expires_at", "answered_at", "csat", "ces", "nps", "comment"]
