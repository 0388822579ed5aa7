"""REST endpoints of controlled documents (docs/api.md): documents/ and documents/{id}/versions/.
Every write calls documents.services; employees see only effective versions."""

from django.db.models import Prefetch
from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from documents import selectors, services
from documents.api.serializers import (
    ApprovalRuleSerializer,
    DocumentSerializer,
    DocumentVersionSerializer,
    PeriodicReviewRequestSerializer,
)
from documents.filters import DocumentFilter
from documents.models import Document, DocumentType, DocumentVersion, VersionSignoff
from documents.views import VersionDownloadView
from documents.workflow import VERSION_WORKFLOW
from qms import roles as qms_roles
from qms.api.mixins import HistoryEntrySerializer, HistoryMixin, TransitionsMixin
from qms.api.parsers import FormParser, JSONParser, MultiPartParser
from qms.permissions import RolePermission


class DocumentViewSet(HistoryMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      mixins.UpdateModelMixin, viewsets.GenericViewSet):
    queryset = Document.objects.none()  # the model, for schema and tools; get_queryset scopes by user
    serializer_class = DocumentSerializer
    permission_classes = [RolePermission]
    read_roles = qms_roles.EVERYONE
    write_roles = qms_roles.QUALITY
    filter_backends = [DjangoFilterBackend]
    filterset_class = DocumentFilter

    def get_queryset(self):
        return selectors.document_list_for_user(self.request.user)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("version", None)
        serializer.instance = services.document_create(
            actor=self.request.user, title=data["title"], doc_type=data["doc_type"], owner=data["owner"],
            department=data.get("department"), review_period_months=data.get("review_period_months", 24),
            content_text=data.get("content_text", ""), effective_from=data.get("effective_from"),
            reason=(data.get("reason") or "").strip(),
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        expected = data.pop("version")
        data.pop("content_text", None)
        data.pop("effective_from", None)
        data.pop("doc_type", None)
        reason = data.pop("reason", "")
        services.document_update(serializer.instance, actor=self.request.user, expected_version=expected, reason=reason, **data)
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    @extend_schema(request=PeriodicReviewRequestSerializer, responses=DocumentSerializer, summary="Record the periodic review")
    @action(detail=True, methods=["post"], url_path="periodic-review")
    def periodic_review(self, request, pk=None):
        document = self.get_object()
        incoming = PeriodicReviewRequestSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        if data["outcome"] == "revision":
            services.periodic_review_start_revision(document, actor=request.user, comment=data["comment"])
        else:
            services.periodic_review_confirm(document, actor=request.user, password=data.get("password"), comment=data["comment"])
        return Response(self.get_serializer(self.get_queryset().get(pk=document.pk)).data)


class DocumentVersionViewSet(TransitionsMixin, HistoryMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                             mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet):
    serializer_class = DocumentVersionSerializer
    permission_classes = [RolePermission]
    read_roles = qms_roles.EVERYONE
    write_roles = qms_roles.QUALITY
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    filter_backends = []
    workflow = VERSION_WORKFLOW
    transition_service = services.version_transition

    def dispatch(self, request, *args, **kwargs):
        # The nested id is kept on the view: the shared actions take only `pk`.
        self.document_pk = kwargs.pop("document_pk", None)
        return super().dispatch(request, *args, **kwargs)

    def get_document(self) -> Document:
        if not hasattr(self, "_document"):
            self._document = selectors.document_get(self.request.user, self.document_pk)
        return self._document

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no document
            return DocumentVersion.objects.none()
        signoffs = VersionSignoff.objects.select_related("user", "signature").order_by("round", "id")
        return selectors.versions_for_user(self.request.user, self.get_document()).prefetch_related(
            Prefetch("signoffs", queryset=signoffs)
        )

    def perform_create(self, serializer):
        data = serializer.validated_data
        version = services.version_create(
            document=self.get_document(), actor=self.request.user, change_summary=data.get("change_summary", ""),
            content_text=data.get("content_text"), upload=data.get("upload"), effective_from=data.get("effective_from"),
        )
        serializer.instance = self.get_queryset().get(pk=version.pk)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        expected = data.pop("version")
        fields = {name: data[name] for name in ("change_summary", "content_text", "effective_from") if name in data}
        services.version_update(
            serializer.instance, actor=self.request.user, reason=data.get("reason", ""), expected_version=expected,
            upload=data.get("upload"), remove_file=data.get("remove_file", False), **fields,
        )
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    @extend_schema(responses={(200, "application/octet-stream"): bytes}, summary="Download the stamped controlled copy")
    @action(detail=True, methods=["get"], url_path="download")
    def download(self, request, pk=None):
        version = self.get_object()
        view = VersionDownloadView()
        view.request = request._request
        view.kwargs = {"pk": version.document_id, "version_pk": version.pk}
        view._version = version
        version.document = self.get_document()
        try:
            return view.get(request._request)
        except Http404:
            return Response({"detail": "This version has no content to download."}, status=status.HTTP_404_NOT_FOUND)


class ApprovalMatrixViewSet(viewsets.ViewSet):
    """The approval matrix (issue 16): `GET approval-matrix/` every document type's rule,
    `GET/PUT/PATCH approval-matrix/{doc_type}/` one rule. Everyone in Quality (and Auditors)
    reads it; Quality Managers change it, with `version` and `reason`."""

    permission_classes = [RolePermission]
    read_roles = qms_roles.READERS
    write_roles = frozenset({qms_roles.MANAGER})
    serializer_class = ApprovalRuleSerializer
    lookup_field = "doc_type"
    lookup_value_regex = "[a-z_]+"

    def _rule(self, doc_type):
        if doc_type not in DocumentType.values:
            raise Http404("No such document type.")
        return selectors.approval_rule_for(doc_type)

    @extend_schema(responses=ApprovalRuleSerializer(many=True), summary="The approval matrix")
    def list(self, request):
        return Response(ApprovalRuleSerializer(selectors.approval_matrix(), many=True).data)

    @extend_schema(responses=ApprovalRuleSerializer, summary="The approval rule of one document type")
    def retrieve(self, request, doc_type=None):
        return Response(ApprovalRuleSerializer(self._rule(doc_type)).data)

    @extend_schema(request=ApprovalRuleSerializer, responses=ApprovalRuleSerializer, summary="Set the rule (Quality Manager)")
    def update(self, request, doc_type=None, partial=False):
        rule = self._rule(doc_type)
        incoming = ApprovalRuleSerializer(rule, data=request.data, partial=partial)
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        rule = services.approval_rule_set(
            actor=request.user, doc_type=doc_type, reason=data.pop("reason", ""), expected_version=data.pop("version"), **data
        )
        return Response(ApprovalRuleSerializer(rule).data)

    @extend_schema(request=ApprovalRuleSerializer, responses=ApprovalRuleSerializer, summary="Change the rule (Quality Manager)")
    def partial_update(self, request, doc_type=None):
        return self.update(request, doc_type=doc_type, partial=True)

    @extend_schema(responses=HistoryEntrySerializer(many=True), summary="The rule's history, newest first")
    @action(detail=True, methods=["get"], url_path="history")
    def history(self, request, doc_type=None):
        rule = self._rule(doc_type)
        from qms.audit.selectors import record_history

        # The same entries as every other history/ endpoint and the audit trail (issue 15 item 2).
        entries = [entry.as_api_data() for entry in record_history(rule, limit=1000)] if rule.pk else []
        return Response(HistoryEntrySerializer(entries, many=True).data)
