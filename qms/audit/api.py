"""`GET /api/v1/audit-trail/` (docs/api.md): every history entry across the system, newest first,
with the signatures and security events. Read-only: no method writes, for any role."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from qms import roles as qms_roles
from qms.api.pagination import PageNumberPagination
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
    parent_model = serializers.CharField(help_text="The record whose file this entry belongs to (blank for none)")
    parent_id = serializers.IntegerField(allow_null=True)
    parent_repr = serializers.CharField()


def trail_form_from_api(query_params) -> TrailFilterForm:
    data = {
        field: query_params.get(param, "")
        for param, field in API_PARAMETERS.items()
        if query_params.get(param)
    }
    if "object_id" in query_params and not str(query_params["object_id"]).isdigit():
        raise ValidationError({"object_id": ["Enter a whole number."]})
    form = TrailFilterForm(data)
    if not form.is_valid():
        reverse_names = {
            field: param for param, field in API_PARAMETERS.items() if param in query_params
        }
        raise ValidationError(
            {reverse_names.get(name, name): errors for name, errors in form.errors.items()}
        )
    return form


class TrailPagination(PageNumberPagination):
    """`?page=N&page_size=M` as everywhere in the API, without counting the whole trail: a page
    reads page_size + 1 entries to know whether a next page exists. `count` is exact on the
    last page and otherwise the database's estimate, and `count_is_estimate` says which.
    Pages reach back MAX_DEPTH entries (each table is read up to the page's end); older
    entries are reached with the `to` filter."""

    MAX_DEPTH = 10_000

    def paginate_queryset(self, trail, request, view=None):
        self.request = request
        size = self.get_page_size(request)
        raw = request.query_params.get(self.page_query_param, "1")
        try:
            number = int(raw)
        except (TypeError, ValueError):
            raise NotFound("Invalid page.") from None
        if number < 1:
            raise NotFound("Invalid page.")
        start = (number - 1) * size
        if start + size > self.MAX_DEPTH:
            raise ValidationError(
                {
                    "page": [
                        f"Only the {self.MAX_DEPTH:,} newest entries of a filter are paged; narrow it with `to` (a date) to read older ones."
                    ]
                }
            )
        keys = trail.keys(start, start + size + 1)
        self.number, self.size = number, size
        self.has_next = len(keys) > size
        entries = trail.load(keys[:size])
        if not entries and number > 1:
            raise NotFound("Invalid page.")
        self.count_is_estimate = self.has_next
        self.count = (
            max(trail.estimated_count(), start + size + 1)
            if self.has_next
            else start + len(entries)
        )
        return entries

    def get_next_link(self):
        if not self.has_next:
            return None
        return self._link(self.number + 1)

    def get_previous_link(self):
        return self._link(self.number - 1) if self.number > 1 else None

    def _link(self, number):
        from rest_framework.utils.urls import remove_query_param, replace_query_param

        url = self.request.build_absolute_uri()
        return (
            remove_query_param(url, self.page_query_param)
            if number == 1
            else replace_query_param(url, self.page_query_param, number)
        )

    def get_paginated_response(self, data):
        return Response(
            {
                "count": self.count,
                "count_is_estimate": self.count_is_estimate,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["properties"]["count_is_estimate"] = {
            "type": "boolean",
            "description": "count is the database's estimate",
        }
        return response


class AuditTrailView(GenericAPIView):
    permission_classes = [RolePermission]
    read_roles = AUDIT_READERS
    write_roles = frozenset()  # nobody writes the trail
    serializer_class = TrailEntrySerializer
    filter_backends = []
    pagination_class = TrailPagination

    @extend_schema(
        summary="The audit trail across every regulated record, newest first",
        responses=TrailEntrySerializer(many=True),
        parameters=[
            OpenApiParameter(
                "model",
                OpenApiTypes.STR,
                description="Record type, e.g. complaints.complaint, qms.signature, qms.securityevent",
            ),
            OpenApiParameter("object_id", OpenApiTypes.INT, description="The record's id"),
            OpenApiParameter(
                "record", OpenApiTypes.STR, description="The record's reference, number or id"
            ),
            OpenApiParameter("user", OpenApiTypes.STR, description="User name of the actor"),
            OpenApiParameter(
                "action",
                OpenApiTypes.STR,
                description="created, changed, deleted, a workflow action, signed, or a security event kind",
            ),
            OpenApiParameter(
                "from", OpenApiTypes.STR, description="ISO 8601 date or date-time (inclusive)"
            ),
            OpenApiParameter(
                "to",
                OpenApiTypes.STR,
                description="ISO 8601 date (whole day) or date-time (inclusive)",
            ),
            OpenApiParameter("search", OpenApiTypes.STR, description="Free text"),
        ],
    )
    def get(self, request):
        form = trail_form_from_api(request.query_params)
        trail = audit_trail(form.trail_filter())
        page = self.paginate_queryset(trail)
        return self.get_paginated_response(
            TrailEntrySerializer([entry.as_api_data() for entry in page], many=True).data
        )


class VerificationSerializer(serializers.Serializer):
    finished_at = serializers.DateTimeField(allow_null=True)
    is_intact = serializers.BooleanField(allow_null=True, help_text="null before the first verification run")
    kind = serializers.CharField(
        allow_null=True, help_text="full (every row re-hashed) or incremental (from the last anchors on); null before the first run"
    )
    tables_checked = serializers.IntegerField()
    rows_checked = serializers.IntegerField()
    breaks = serializers.JSONField()
    acknowledged_breaks = serializers.JSONField()
    acknowledged_by = serializers.CharField(allow_null=True)
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    acknowledgement_reason = serializers.CharField(allow_null=True)


NEVER_VERIFIED = {
    "finished_at": None, "is_intact": None, "kind": None, "tables_checked": 0, "rows_checked": 0, "breaks": [],
    "acknowledged_breaks": [], "acknowledged_by": None, "acknowledged_at": None, "acknowledgement_reason": None,
}


def verification_as_api_data(verification) -> dict | None:
    if verification is None:
        return None
    acknowledgement = getattr(verification, "acknowledgement", None)
    return {
        "finished_at": verification.finished_at,
        "is_intact": verification.is_intact,
        "kind": verification.kind,
        "tables_checked": verification.tables_checked,
        "rows_checked": verification.rows_checked,
        "breaks": verification.breaks,
        "acknowledged_breaks": verification.acknowledged_breaks,
        "acknowledged_by": acknowledgement.acknowledged_by.get_username() if acknowledgement else None,
        "acknowledged_at": acknowledgement.acknowledged_at if acknowledgement else None,
        "acknowledgement_reason": acknowledgement.reason if acknowledgement else None,
    }


class AcknowledgeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=4000)
    password = serializers.CharField(write_only=True, trim_whitespace=False)


class VerificationView(GenericAPIView):
    """`GET audit-trail/verification/`: the state of the hash chains as the trail page shows
    it (before the first run: `finished_at` and `is_intact` null, nothing checked)."""

    permission_classes = [RolePermission]
    read_roles = AUDIT_READERS
    write_roles = frozenset()
    serializer_class = VerificationSerializer

    def get(self, request):
        from qms.audit.verify import verification_status

        data = verification_as_api_data(verification_status()) or NEVER_VERIFIED
        return Response(VerificationSerializer(data).data)


class AcknowledgementView(GenericAPIView):
    """`POST audit-trail/verification/acknowledgements/` `{"reason", "password"}`: a Quality
    Manager acknowledges the reported breaks with an electronic signature (403 for a wrong
    password or another role, 409 when there is no break)."""

    permission_classes = [RolePermission]
    read_roles = frozenset()
    write_roles = frozenset({qms_roles.MANAGER})
    serializer_class = AcknowledgeSerializer

    def post(self, request):
        from qms.audit.services import audit_breaks_acknowledge
        from qms.audit.verify import verification_status

        serializer = AcknowledgeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        audit_breaks_acknowledge(actor=request.user, password=serializer.validated_data["password"], reason=serializer.validated_data["reason"])
        data = verification_as_api_data(verification_status())
        return Response(VerificationSerializer(data).data, status=201)
