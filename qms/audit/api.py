"""`GET /api/v1/audit-trail/` (API.md): every history entry across the system, newest first,
with the signatures and security events. Read-only: no method writes, for any role."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView

from qms import roles as qms_roles
from qms.audit.forms import TrailFilterForm
from qms.audit.selectors import audit_trail
from qms.permissions import RolePermission

AUDIT_READERS = frozenset({qms_roles.AUDITOR, qms_roles.MANAGER, qms_roles.ADMINISTRATOR})

# API parameter -> filter form field.
API_PARAMETERS = {
    "model": "model",
    "object_id": "record",
    "record": "record",
    "user": "user",
    "action": "action",
    "from": "date_from",
    "to": "date_to",
    "search": "q",
}


class ChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    label = serializers.CharField()
    old = serializers.JSONField(allow_null=True)
    new = serializers.JSONField(allow_null=True)
    old_display = serializers.CharField()
    new_display = serializers.CharField()


class TrailEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    user = serializers.CharField(allow_null=True)
    user_name = serializers.CharField()
    action = serializers.CharField()
    reason = serializers.CharField()
    changes = ChangeSerializer(many=True)
    model = serializers.CharField()
    object_id = serializers.IntegerField(allow_null=True)
    object_repr = serializers.CharField()
    kind = serializers.ChoiceField(choices=["history", "signature", "security"])
    detail = serializers.CharField()


def trail_form_from_api(query_params) -> TrailFilterForm:
    data = {field: query_params.get(param, "") for param, field in API_PARAMETERS.items() if query_params.get(param)}
    if "object_id" in query_params and not str(query_params["object_id"]).isdigit():
        raise ValidationError({"object_id": ["Enter a whole number."]})
    form = TrailFilterForm(data)
    if not form.is_valid():
        reverse_names = {field: param for param, field in API_PARAMETERS.items() if param in query_params}
        raise ValidationError({reverse_names.get(name, name): errors for name, errors in form.errors.items()})
    return form


class AuditTrailView(GenericAPIView):
    permission_classes = [RolePermission]
    read_roles = AUDIT_READERS
    write_roles = frozenset()  # nobody writes the trail
    serializer_class = TrailEntrySerializer
    filter_backends = []

    @extend_schema(
        summary="The audit trail across every regulated record, newest first",
        parameters=[
            OpenApiParameter("model", OpenApiTypes.STR, description="Record type, e.g. complaints.complaint, qms.signature, qms.securityevent"),
            OpenApiParameter("object_id", OpenApiTypes.INT, description="The record's id"),
            OpenApiParameter("record", OpenApiTypes.STR, description="The record's reference, number or id"),
            OpenApiParameter("user", OpenApiTypes.STR, description="User name of the actor"),
            OpenApiParameter("action", OpenApiTypes.STR, description="created, changed, deleted, a workflow action, signed, or a security event kind"),
            OpenApiParameter("from", OpenApiTypes.STR, description="ISO 8601 date or date-time (inclusive)"),
            OpenApiParameter("to", OpenApiTypes.STR, description="ISO 8601 date (whole day) or date-time (inclusive)"),
            OpenApiParameter("search", OpenApiTypes.STR, description="Free text"),
        ],
    )
    def get(self, request):
        form = trail_form_from_api(request.query_params)
        trail = audit_trail(form.trail_filter())
        page = self.paginate_queryset(trail)
        return self.get_paginated_response(TrailEntrySerializer([entry.as_api_data() for entry in page], many=True).data)
