"""REST endpoints of the complaints app (docs/api.md). Every write calls complaints.services."""

import django_filters
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.response import Response

from complaints import selectors, services
from complaints.api.serializers import (
    AttachmentSerializer,
    CategorySerializer,
    CommunicationSerializer,
    ComplaintSerializer,
    CustomerSerializer,
    EscalationSerializer,
    FailureModeSerializer,
    ProductSerializer,
    SlaPolicySerializer,
    SurveySerializer,
)
from complaints.filters import ComplaintFilter
from complaints.models import Category, Complaint, Customer, FailureMode, Product, SlaPolicy, Survey
from complaints.workflow import COMPLAINT_WORKFLOW
from qms import roles as qms_roles
from qms.api.mixins import HistoryMixin, TransitionsMixin
from qms.api.parsers import FormParser, JSONParser, MultiPartParser
from qms.permissions import RolePermission


class RoleViewSetMixin:
    permission_classes = [RolePermission]
    read_roles = qms_roles.READERS
    write_roles = qms_roles.QUALITY


class CustomerViewSet(RoleViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      mixins.UpdateModelMixin, viewsets.GenericViewSet):
    serializer_class = CustomerSerializer
    queryset = Customer.objects.order_by("name", "id")
    filter_backends = [SearchFilter, OrderingFilter]
    search_fields = ["name", "organisation", "email"]
    ordering_fields = ["name", "created_at"]

    def perform_create(self, serializer):
        data = {k: v for k, v in serializer.validated_data.items() if k not in {"version", "reason"}}
        serializer.instance = services.customer_create(actor=self.request.user, **data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.customer_update(
            serializer.instance, actor=self.request.user, version=data.pop("version"), reason=data.pop("reason", ""), **data
        )


class ProductViewSet(RoleViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                     viewsets.GenericViewSet):
    serializer_class = ProductSerializer
    queryset = Product.objects.order_by("code")
    filter_backends = [SearchFilter, OrderingFilter]
    search_fields = ["code", "name"]
    ordering_fields = ["code", "name"]

    def perform_create(self, serializer):
        serializer.instance = services.product_create(actor=self.request.user, **serializer.validated_data)


class CategoryViewSet(RoleViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      viewsets.GenericViewSet):
    serializer_class = CategorySerializer
    queryset = Category.objects.order_by("name")
    write_roles = frozenset({qms_roles.MANAGER})
    pagination_class = None

    def perform_create(self, serializer):
        serializer.instance = services.category_create(actor=self.request.user, **serializer.validated_data)


class FailureModeViewSet(RoleViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                         mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """The managed list of failure modes under each category (`?category=`); Quality Managers
    add, rename and retire them (`is_active`), with a reason on every change."""

    serializer_class = FailureModeSerializer
    queryset = FailureMode.objects.select_related("category").order_by("category__name", "name", "id")
    write_roles = frozenset({qms_roles.MANAGER})
    filter_backends = [DjangoFilterBackend]
    filterset_fields = ["category", "is_active"]

    def perform_create(self, serializer):
        data = {k: v for k, v in serializer.validated_data.items() if k in {"category", "name", "description"}}
        serializer.instance = services.failure_mode_create(actor=self.request.user, **data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("category", None)  # a failure mode stays under its category
        serializer.instance = services.failure_mode_update(
            serializer.instance, actor=self.request.user, version=data.pop("version"), reason=data.pop("reason", ""), **data
        )


class ComplaintViewSet(RoleViewSetMixin, TransitionsMixin, HistoryMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                       mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Complaints. `?search=` (full text over reference, title, description, resolution, lot, UDI,
    customer and product, ranked; decision 0042), filters named after
    the fields, `?overdue=true`, `?recurring=true`, `?received_from=&received_to=` (dates) and
    `?ordering=-received_at` (also reference, title, severity, status, deadline, escalation_level)."""

    serializer_class = ComplaintSerializer
    queryset = Complaint.objects.all()  # narrowed per user in get_queryset
    filter_backends = [DjangoFilterBackend]
    filterset_class = ComplaintFilter
    workflow = COMPLAINT_WORKFLOW
    transition_service = staticmethod(services.complaint_transition)
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        return selectors.complaint_list_for_api(self.request.user).order_by("-received_at", "-id")

    def perform_create(self, serializer):
        data = {k: v for k, v in serializer.validated_data.items() if k not in {"version"}}
        data["reason"] = data.get("reason", "")
        complaint = services.complaint_create(actor=self.request.user, **data)
        serializer.instance = self.get_queryset().get(pk=complaint.pk)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        complaint = services.complaint_update(
            serializer.instance, actor=self.request.user, reason=data.pop("reason"), version=data.pop("version"), **data
        )
        serializer.instance = self.get_queryset().get(pk=complaint.pk)

    @extend_schema(responses=EscalationSerializer(many=True), summary="Escalations of the complaint")
    @action(detail=True, methods=["get"], url_path="escalations")
    def escalations(self, request, pk=None):
        complaint = self.get_object()
        return Response(EscalationSerializer(selectors.escalations_for(complaint), many=True).data)

    @extend_schema(methods=["GET"], responses=CommunicationSerializer(many=True), summary="The communication log")
    @extend_schema(methods=["POST"], request=CommunicationSerializer, responses={201: CommunicationSerializer}, summary="Log a message")
    @action(detail=True, methods=["get", "post"], url_path="communications")
    def communications(self, request, pk=None):
        complaint = self.get_object()
        if request.method == "GET":
            entries = complaint.communications.select_related("author").order_by("at", "id")
            return Response(CommunicationSerializer(entries, many=True).data)
        incoming = CommunicationSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        entry = services.communication_add(complaint=complaint, actor=request.user, **incoming.validated_data)
        return Response(CommunicationSerializer(entry).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], responses=AttachmentSerializer(many=True), summary="Attached files")
    @extend_schema(methods=["POST"], request={"multipart/form-data": AttachmentSerializer}, responses={201: AttachmentSerializer},
                   summary="Attach a file (size and type are checked)")
    @action(detail=True, methods=["get", "post"], url_path="attachments")
    def attachments(self, request, pk=None):
        complaint = self.get_object()
        if request.method == "GET":
            files = complaint.attachments.select_related("uploaded_by").order_by("uploaded_at", "id")
            return Response(AttachmentSerializer(files, many=True).data)
        incoming = AttachmentSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        attachment = services.attachment_add(
            complaint=complaint, actor=request.user, uploaded_file=incoming.validated_data["file"],
            description=incoming.validated_data.get("description", ""),
        )
        return Response(AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)


class SlaPolicyViewSet(RoleViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin,
                       viewsets.GenericViewSet):
    serializer_class = SlaPolicySerializer
    queryset = SlaPolicy.objects.select_related("calendar").order_by("id")
    write_roles = frozenset({qms_roles.MANAGER})
    pagination_class = None

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.sla_policy_update(
            serializer.instance, actor=self.request.user, version=data.pop("version"), reason=data.pop("reason", ""), **data
        )


class SurveyFilter(django_filters.FilterSet):
    answered = django_filters.BooleanFilter(field_name="answered_at", lookup_expr="isnull", exclude=True)
    answered_from = django_filters.DateFilter(field_name="answered_at", lookup_expr="date__gte")
    answered_to = django_filters.DateFilter(field_name="answered_at", lookup_expr="date__lte")

    class Meta:
        model = Survey
        fields = ["complaint"]


class SurveyViewSet(RoleViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Survey invitations and answers (`?answered=true`, `?complaint=<id>`)."""

    serializer_class = SurveySerializer
    queryset = Survey.objects.select_related("complaint").order_by("-sent_at", "-id")
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = SurveyFilter
    ordering_fields = ["sent_at", "answered_at"]
