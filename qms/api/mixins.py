"""API pieces every app reuses: `GET/POST <record>/transitions/`, `GET <record>/history/`,
and version-checked updates (docs/api.md "Conventions")."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from qms.signatures import signatures_for


class TransitionRequestSerializer(serializers.Serializer):
    action = serializers.CharField(max_length=40)
    reason = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    password = serializers.CharField(max_length=256, required=False, allow_blank=True, write_only=True)
    meaning = serializers.CharField(max_length=80, required=False, allow_blank=True)


class AvailableActionSerializer(serializers.Serializer):
    action = serializers.CharField()
    label = serializers.CharField()
    to = serializers.CharField()
    needs_reason = serializers.BooleanField()
    needs_signature = serializers.BooleanField()
    meaning = serializers.CharField()


class HistoryChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    label = serializers.CharField()
    old = serializers.JSONField(allow_null=True)
    new = serializers.JSONField(allow_null=True)
    old_display = serializers.CharField()
    new_display = serializers.CharField()


class HistoryEntrySerializer(serializers.Serializer):
    """An entry as the audit trail gives it (qms.audit.display.TrailEntry.as_api_data): the
    same diff, computed by the same code, as the trail page, the trail API and the exports."""

    at = serializers.DateTimeField()
    user = serializers.CharField(allow_null=True)
    user_name = serializers.CharField()
    action = serializers.CharField()
    reason = serializers.CharField()
    changes = HistoryChangeSerializer(many=True)
    model = serializers.CharField()
    object_id = serializers.IntegerField(allow_null=True)
    object_repr = serializers.CharField()


class SignatureSerializer(serializers.Serializer):
    signer = serializers.CharField(source="signer.username")
    signer_name = serializers.CharField()
    meaning = serializers.CharField()
    reason = serializers.CharField()
    signed_at = serializers.DateTimeField()
    content_hash = serializers.CharField()
    hash_matches = serializers.BooleanField()


class TransitionsMixin:
    """Needs `workflow` (qms.workflow.Workflow) and `transition_service`, a callable
    `(record, action, *, actor, reason, password, meaning, data) -> record` from the app's
    services. The answer to a POST is the record as `get_serializer` renders it."""

    workflow = None
    transition_service = None

    @extend_schema(
        methods=["GET"], responses=AvailableActionSerializer(many=True), summary="Actions the caller may take now"
    )
    @extend_schema(methods=["POST"], request=TransitionRequestSerializer, summary="Take a workflow action")
    @action(detail=True, methods=["get", "post"], url_path="transitions")
    def transitions(self, request, pk=None):
        record = self.get_object()
        if request.method == "GET":
            return Response(
                [
                    {
                        "action": a.name,
                        "label": a.label,
                        "to": a.target,
                        "needs_reason": a.needs_reason,
                        "needs_signature": a.needs_signature,
                        "meaning": a.meaning,
                    }
                    for a in self.workflow.available(record, request.user)
                ]
            )
        incoming = TransitionRequestSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = {k: v for k, v in request.data.items() if k not in {"action", "reason", "password", "meaning"}}
        service = type(self).transition_service
        record = service(
            record,
            incoming.validated_data["action"],
            actor=request.user,
            reason=incoming.validated_data.get("reason", ""),
            password=incoming.validated_data.get("password") or None,
            meaning=incoming.validated_data.get("meaning") or None,
            data=data,
        )
        record = self.get_queryset().get(pk=record.pk)
        return Response(self.get_serializer(record).data, status=status.HTTP_200_OK)


class HistoryMixin:
    @extend_schema(responses=HistoryEntrySerializer(many=True), summary="The record's history, newest first")
    @action(detail=True, methods=["get"], url_path="history")
    def history(self, request, pk=None):
        from qms.audit.selectors import record_history

        record = self.get_object()
        # One diff for every reader (issue 15): qms.audit.display.raw_changes compares every
        # tracked column, status, deadlines and timestamps included (simple-history's
        # diff_against leaves out non-editable fields, so workflow steps showed no change).
        entries = [entry.as_api_data() for entry in record_history(record, limit=1000)]
        return Response(HistoryEntrySerializer(entries, many=True).data)

    @extend_schema(responses=SignatureSerializer(many=True), summary="The record's electronic signatures")
    @action(detail=True, methods=["get"], url_path="signatures")
    def signatures(self, request, pk=None):
        record = self.get_object()
        return Response(SignatureSerializer(signatures_for(record), many=True).data)


class VersionedSerializerMixin(serializers.Serializer):
    """Adds `version`: read on every answer, required on every update (409 when stale)."""

    version = serializers.IntegerField(required=False, min_value=1)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if self.instance is not None and "version" not in attrs:
            raise serializers.ValidationError({"version": ["Send the version you read; it is required on update."]})
        return attrs
