"""API shapes of documents and versions (docs/api.md "Resources"). Status and number are read-only:
statuses change only through POST .../transitions/."""

from django.contrib.auth import get_user_model
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from documents.models import (
    SIGNOFF_ROLES,
    ApprovalRule,
    Document,
    DocumentType,
    DocumentVersion,
    SignoffKind,
)
from qms.api.mixins import VersionedSerializerMixin
from qms.models import Department


class EffectiveVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = DocumentVersion
        fields = ["id", "revision", "effective_from"]


class DocumentSerializer(VersionedSerializerMixin, serializers.ModelSerializer):
    owner = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.filter(is_active=True))
    department = serializers.PrimaryKeyRelatedField(queryset=Department.objects.all(), allow_null=True, required=False)
    doc_type = serializers.ChoiceField(choices=DocumentType.choices)
    effective_version = EffectiveVersionSerializer(read_only=True)
    # Revision 1 of a new document (create only).
    content_text = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=200_000)
    effective_from = serializers.DateField(write_only=True, required=False, allow_null=True)
    # Required on update (the service refuses a blank one): the person's own words in the trail.
    reason = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=4000, trim_whitespace=False)

    class Meta:
        model = Document
        fields = ["id", "number", "title", "doc_type", "owner", "department", "review_period_months",
                  "effective_version", "next_review_due", "version", "content_text", "effective_from", "reason"]
        read_only_fields = ["number", "next_review_due"]

    def validate_doc_type(self, value):
        if self.instance is not None and value != self.instance.doc_type:
            raise serializers.ValidationError("The type cannot change: it is part of the number.")
        return value


class ApprovalSerializer(serializers.Serializer):
    user = serializers.CharField(source="user.username")
    full_name = serializers.CharField(source="user.full_name")
    round = serializers.IntegerField()
    status = serializers.SerializerMethodField()
    signed_at = serializers.DateTimeField(source="completed_at")
    meaning = serializers.SerializerMethodField()

    def get_status(self, obj) -> str:
        return "signed" if obj.completed_at else "pending"

    def get_meaning(self, obj) -> str | None:
        return obj.signature.meaning if obj.signature_id else None


class DocumentVersionSerializer(VersionedSerializerMixin, serializers.ModelSerializer):
    file = serializers.SerializerMethodField()
    upload = serializers.FileField(write_only=True, required=False, help_text="The content file (multipart).")
    remove_file = serializers.BooleanField(write_only=True, required=False, default=False)
    reason = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=4000, trim_whitespace=False)
    content_text = serializers.CharField(required=False, allow_blank=True, max_length=200_000, trim_whitespace=False)
    approvals = serializers.SerializerMethodField()
    reviews = serializers.SerializerMethodField()
    author = serializers.CharField(source="author.username", read_only=True)

    class Meta:
        model = DocumentVersion
        fields = ["id", "document", "revision", "status", "change_summary", "file", "file_name", "file_kind", "file_size",
                  "file_sha256", "content_text", "effective_from", "approvals", "reviews", "author", "created_at",
                  "submitted_at", "approved_at", "effective_at", "version", "upload", "remove_file", "reason"]
        read_only_fields = ["document", "revision", "status", "file_name", "file_kind", "file_size", "file_sha256",
                            "created_at", "submitted_at", "approved_at", "effective_at"]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_file(self, obj):
        if not obj.file:
            return None
        url = reverse("documents:version-download", args=[obj.document_id, obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url

    def _signoffs(self, obj, kind):
        return [s for s in obj.signoffs.all() if s.kind == kind and s.round == obj.review_round]

    @extend_schema_field(ApprovalSerializer(many=True))
    def get_approvals(self, obj):
        return ApprovalSerializer(self._signoffs(obj, SignoffKind.APPROVAL), many=True).data

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_reviews(self, obj):
        return [
            {"user": s.user.username, "round": s.round, "status": "reviewed" if s.completed_at else "pending",
             "reviewed_at": s.completed_at, "comment": s.comment}
            for s in self._signoffs(obj, SignoffKind.REVIEW)
        ]


class PeriodicReviewRequestSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=["no_change", "revision"])
    comment = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    password = serializers.CharField(max_length=256, required=False, allow_blank=True, write_only=True)


class ApprovalRuleSerializer(serializers.ModelSerializer):
    """One row of the approval matrix. `is_default`: the type still runs on the strict default
    (no row stored yet). An update sends `version` and `reason` (documents.services)."""

    doc_type = serializers.CharField(read_only=True)
    doc_type_label = serializers.CharField(source="get_doc_type_display", read_only=True)
    reviewer_roles = serializers.ListField(child=serializers.ChoiceField(choices=SIGNOFF_ROLES), allow_empty=False)
    reviewer_job_functions = serializers.ListField(child=serializers.CharField(max_length=120), max_length=50, required=False)
    approver_roles = serializers.ListField(child=serializers.ChoiceField(choices=SIGNOFF_ROLES), allow_empty=False)
    approver_job_functions = serializers.ListField(child=serializers.CharField(max_length=120), max_length=50, required=False)
    required_approver_role = serializers.ChoiceField(choices=["", *SIGNOFF_ROLES], required=False, allow_blank=True)
    is_default = serializers.SerializerMethodField()
    version = serializers.IntegerField(min_value=1)
    reason = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=4000, trim_whitespace=False)

    class Meta:
        model = ApprovalRule
        fields = ["doc_type", "doc_type_label", "reviewer_roles", "reviewer_job_functions", "approver_roles",
                  "approver_job_functions", "required_approver_role", "is_default", "version", "reason"]

    def get_is_default(self, obj) -> bool:
        return obj.pk is None
