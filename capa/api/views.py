from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.response import Response

from capa import selectors, services
from capa.api.serializers import (
    ActionSerializer,
    CapaSerializer,
    CheckSerializer,
    EvidenceFileSerializer,
    EvidenceUploadSerializer,
    RootCauseSerializer,
)
from capa.filters import CapaFilter
from capa.models import CapaAction, EffectivenessCheck, RootCauseAnalysis
from capa.workflow import ACTION_WORKFLOW, CAPA_WORKFLOW, CHECK_WORKFLOW
from qms import roles as qms_roles
from qms.api.authentication import ApiTokenAuthentication
from qms.api.mixins import HistoryMixin, TransitionsMixin
from qms.api.parsers import FormParser, MultiPartParser
from qms.errors import ValidationFailed
from qms.permissions import RolePermission

# Token first: an anonymous caller gets 401 with `WWW-Authenticate: Token` (docs/api.md), not 403.
AUTHENTICATION = [ApiTokenAuthentication, SessionAuthentication]


class CapaViewSet(
    TransitionsMixin,
    HistoryMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """CAPAs (docs/api.md). The status changes only through `transitions/`; PUT/PATCH send `version`
    and `reason`."""

    serializer_class = CapaSerializer
    authentication_classes = AUTHENTICATION
    permission_classes = [RolePermission]
    read_roles = qms_roles.READERS
    write_roles = qms_roles.QUALITY
    filterset_class = CapaFilter
    ordering_fields = ["created_at", "due_date", "reference", "risk_level", "status"]
    workflow = CAPA_WORKFLOW
    transition_service = staticmethod(services.capa_transition)

    def get_queryset(self):
        return selectors.capa_list_for_user(self.request.user).prefetch_related("complaints")

    @extend_schema(methods=["GET"], responses=RootCauseSerializer, summary="The root cause analysis")
    @extend_schema(methods=["PUT"], request=RootCauseSerializer, responses=RootCauseSerializer, summary="Replace the analysis")
    @action(detail=True, methods=["get", "put"], url_path="root-cause", serializer_class=RootCauseSerializer)
    def root_cause(self, request, pk=None):
        capa = self.get_object()
        analysis, _ = RootCauseAnalysis.objects.get_or_create(capa=capa)
        if request.method == "GET":
            return Response(RootCauseSerializer(analysis).data)
        incoming = RootCauseSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        analysis = services.root_cause_save(
            capa,
            actor=request.user,
            method=data.get("method"),
            whys=[dict(w) for w in data.get("whys", [])],
            fishbone={k: list(v) for k, v in data.get("fishbone", {}).items()},
            conclusion=data.get("conclusion", ""),
            version=data.get("version"),
            reason=data.get("reason", ""),
        )
        return Response(RootCauseSerializer(analysis).data)


class _CapaChildMixin:
    authentication_classes = AUTHENTICATION
    permission_classes = [RolePermission]
    read_roles = qms_roles.READERS
    write_roles = qms_roles.QUALITY
    filter_backends = []
    pagination_class = None

    def get_capa(self):
        if not hasattr(self, "_capa"):
            self._capa = get_object_or_404(selectors.capa_list_for_user(self.request.user), pk=self.kwargs["capa_pk"])
        return self._capa

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if "capa_pk" in self.kwargs:
            context["capa"] = self.get_capa()
        return context


class ActionViewSet(
    _CapaChildMixin,
    TransitionsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The CAPA's planned actions. Status changes via `transitions/` (start, complete with
    `evidence`, cancel with `reason`); files via `evidence/`."""

    serializer_class = ActionSerializer
    workflow = ACTION_WORKFLOW
    transition_service = staticmethod(services.action_transition)
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return CapaAction.objects.none()
        return selectors.capa_action_list(self.get_capa())

    @extend_schema(methods=["GET"], summary="Actions the caller may take now")
    @extend_schema(methods=["POST"], summary="Take a workflow action")
    @action(detail=True, methods=["get", "post"], url_path="transitions")
    def transitions(self, request, pk=None, capa_pk=None):
        return TransitionsMixin.transitions(self, request, pk=pk)

    @extend_schema(request={"multipart/form-data": EvidenceUploadSerializer}, responses={201: EvidenceFileSerializer}, summary="Attach an evidence file")
    @action(detail=True, methods=["post"], url_path="evidence", parser_classes=[MultiPartParser, FormParser])
    def evidence(self, request, pk=None, capa_pk=None):
        capa_action = self.get_object()
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationFailed.on("file", "Choose a file.")
        evidence = services.action_add_evidence(capa_action, actor=request.user, upload=upload)
        return Response(EvidenceFileSerializer(evidence).data, status=status.HTTP_201_CREATED)


class CheckViewSet(
    _CapaChildMixin,
    TransitionsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Effectiveness checks. Record the result with `transitions/`: `mark_effective` or
    `mark_not_effective` (with `reason`), both with `evidence`; only the named verifier records
    it, never the CAPA owner, and not effective sends the CAPA back to action planning. PATCH
    `verifier` with `version` and `reason` names another verifier."""

    serializer_class = CheckSerializer
    workflow = CHECK_WORKFLOW
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    transition_service = staticmethod(services.check_transition)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return EffectivenessCheck.objects.none()
        return selectors.capa_check_list(self.get_capa())

    @extend_schema(methods=["GET"], summary="Actions the caller may take now")
    @extend_schema(methods=["POST"], summary="Record the check's result")
    @action(detail=True, methods=["get", "post"], url_path="transitions")
    def transitions(self, request, pk=None, capa_pk=None):
        return TransitionsMixin.transitions(self, request, pk=pk)

