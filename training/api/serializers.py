from django.contrib.auth.models import Group
from django.utils import timezone
from rest_framework import serializers

from documents.models import Document
from qms.api.mixins import VersionedSerializerMixin
from training.models import TrainingAssignment, TrainingRequirement


class RequirementSerializer(VersionedSerializerMixin, serializers.ModelSerializer):
    """`role` is the role (group) name; a requirement names a role or a job function."""

    role = serializers.SlugRelatedField(slug_field="name", queryset=Group.objects.all(), required=False, allow_null=True)
    document = serializers.PrimaryKeyRelatedField(queryset=Document.objects.all())
    document_number = serializers.CharField(source="document.number", read_only=True)
    job_function = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    due_days = serializers.IntegerField(min_value=1, max_value=365, default=30)
    reason = serializers.CharField(max_length=4000, required=False, allow_blank=True, write_only=True, default="")

    class Meta:
        model = TrainingRequirement
        fields = [
            "id", "role", "job_function", "document", "document_number", "only_major_revisions", "due_days",
            "is_active", "created_at", "version", "reason",
        ]
        read_only_fields = ["is_active", "created_at"]


class RequirementUpdateSerializer(VersionedSerializerMixin, serializers.Serializer):
    due_days = serializers.IntegerField(min_value=1, max_value=365, required=False)
    only_major_revisions = serializers.BooleanField(required=False)
    reason = serializers.CharField(max_length=4000)


class RetireSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1)
    reason = serializers.CharField(max_length=4000)


class AssignmentSerializer(serializers.ModelSerializer):
    user_name = serializers.CharField(source="user.full_name", read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)
    document_number = serializers.CharField(source="document_version.document.number", read_only=True)
    revision = serializers.CharField(source="document_version.revision", read_only=True)
    is_overdue = serializers.SerializerMethodField()

    class Meta:
        model = TrainingAssignment
        fields = [
            "id", "user", "username", "user_name", "document_version", "document", "document_number", "revision",
            "due_date", "status", "is_overdue", "source", "assigned_at", "completed_at", "closed_at", "completion_method",
            "session", "superseded_by", "version",
        ]
        read_only_fields = fields

    def get_is_overdue(self, obj) -> bool:
        return obj.is_overdue(timezone.localdate())
