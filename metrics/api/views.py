from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from metrics import selectors, services
from metrics.api.serializers import KpiAlertSerializer, KpiTargetSerializer
from metrics.filters import AlertFilter
from metrics.forms import KpiQueryForm
from metrics.kpis import API_KEYS, KPIS, compute_kpis
from metrics.models import KpiAlert, KpiTarget
from qms import roles as qms_roles
from qms.permissions import RolePermission

READERS = frozenset({qms_roles.MANAGER, qms_roles.AUDITOR, qms_roles.STAFF})


class KpiView(APIView):
    """GET /api/v1/metrics/kpis/?from=YYYY-MM-DD&to=YYYY-MM-DD (default: the last 90 days), with
    optional product, category, severity and department filters. Every KPI of the registry is a
    top-level key (docs/api.md's keys first); null means "no data" (nothing to measure in the period).
    Durations are hours as numbers, rates are percentages."""

    permission_classes = [RolePermission]
    read_roles = READERS
    write_roles = frozenset()

    @extend_schema(
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE), OpenApiParameter("to", OpenApiTypes.DATE),
            OpenApiParameter("product", OpenApiTypes.INT), OpenApiParameter("category", OpenApiTypes.INT),
            OpenApiParameter("severity", OpenApiTypes.STR), OpenApiParameter("department", OpenApiTypes.INT),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        form = KpiQueryForm(request.query_params)
        if not form.is_valid():
            return Response({k: [str(e) for e in v] for k, v in form.errors.items()}, status=status.HTTP_400_BAD_REQUEST)
        period, filters = form.cleaned_data["period"], form.cleaned_data["filters"]
        values = compute_kpis(period, filters)
        ordered = list(API_KEYS) + [k.code for k in KPIS if k.code not in API_KEYS]
        body = {code: values[code].value for code in ordered}
        body["from"], body["to"] = period.start.isoformat(), period.end.isoformat()
        body["counts"] = {code: values[code].denominator for code in ordered if values[code].denominator is not None}
        return Response(body)


class KpiAlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """KPI alerts, newest first; `?status=open`. POST `{id}/raise-capa/` raises a CAPA (source
    "KPI trend alert") from the alert."""

    serializer_class = KpiAlertSerializer
    queryset = KpiAlert.objects.all()  # the model, for schema and URL tools; get_queryset() reads
    permission_classes = [RolePermission]
    read_roles = READERS
    write_roles = qms_roles.QUALITY
    filterset_class = AlertFilter
    ordering_fields = ["raised_at", "kpi", "status"]

    def get_queryset(self):
        return selectors.alert_list()

    @extend_schema(request=None, responses=KpiAlertSerializer, summary="Raise a CAPA from this alert")
    @action(detail=True, methods=["post"], url_path="raise-capa")
    def raise_capa(self, request, pk=None):
        alert = self.get_object()
        services.alert_raise_capa(alert, actor=request.user)
        return Response(self.get_serializer(alert).data, status=status.HTTP_201_CREATED)


class KpiTargetViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = KpiTargetSerializer
    permission_classes = [RolePermission]
    read_roles = READERS
    write_roles = frozenset()
    queryset = KpiTarget.objects.prefetch_related("owners").order_by("kpi")
