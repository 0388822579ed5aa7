from django.db import IntegrityError
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import SearchFilter
from rest_framework.response import Response

from qms import roles as qms_roles
from qms.api.mixins import HistoryMixin, TransitionsMixin
from qms.permissions import RolePermission
from training import selectors, services
from training.api.serializers import (
    AssignmentSerializer,
    RequirementSerializer,
    RequirementUpdateSerializer,
    RetireSerializer,
)
from training.filters import AssignmentFilter, RequirementFilter
from training.models import TrainingAssignment, TrainingRequirement
from training.workflow import ASSIGNMENT_WORKFLOW


class RequirementViewSet(
    HistoryMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Who must train on what. Requirements are retired (`POST {id}/retire/`), never deleted."""

    serializer_class = RequirementSerializer
    permission_classes = [RolePermission]
    read_roles = qms_roles.READERS
    write_roles = qms_roles.QUALITY
    filter_backends = [DjangoFilterBackend]
    filterset_class = RequirementFilter
    queryset = TrainingRequirement.objects.select_related("role", "document").order_by("document__number", "id")

    def create(self, request, *args, **kwargs):
        incoming = self.get_serializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        try:
            requirement = services.requirement_create(
                actor=request.user, document=data["document"], role=data.get("role"), job_function=data.get("job_function", ""),
                due_days=data["due_days"], only_major_revisions=data.get("only_major_revisions", False), reason=data.get("reason", ""),
            )
        except IntegrityError:
            return Response({"document": ["This requirement exists already."]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(self.get_serializer(requirement).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RequirementUpdateSerializer)
    def update(self, request, *args, **kwargs):
        requirement = self.get_object()
        incoming = RequirementUpdateSerializer(instance=requirement, data=request.data, partial=True)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        requirement = services.requirement_update(
            requirement, actor=request.user, version=data["version"], reason=data["reason"],
            due_days=data.get("due_days"), only_major_revisions=data.get("only_major_revisions"),
        )
        return Response(self.get_serializer(requirement).data)

    @extend_schema(request=RetireSerializer, responses=RequirementSerializer)
    @action(detail=True, methods=["post"], url_path="retire")
    def retire(self, request, pk=None):
        requirement = self.get_object()
        incoming = RetireSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        requirement = services.requirement_retire(
            requirement, actor=request.user, version=incoming.validated_data["version"], reason=incoming.validated_data["reason"]
        )
        return Response(self.get_serializer(requirement).data)


class AssignmentViewSet(TransitionsMixin, HistoryMixin, viewsets.ReadOnlyModelViewSet):
    """Training owed and done. Everyone sees their own; quality roles and auditors see all.
    `POST {id}/transitions/` with `complete` (the trainee, password) or `waive` (a Quality
    Manager, reason, password)."""

    serializer_class = AssignmentSerializer
    permission_classes = [RolePermission]
    read_roles = qms_roles.EVERYONE
    write_roles = qms_roles.EVERYONE  # the workflow checks each action's roles and the trainee
    filter_backends = [DjangoFilterBackend, SearchFilter]
    filterset_class = AssignmentFilter
    search_fields = ["user__username", "user__last_name", "document__number", "document__title"]
    workflow = ASSIGNMENT_WORKFLOW
    transition_service = staticmethod(services.assignment_transition)
    queryset = TrainingAssignment.objects.all()  # the model, for schema and tooling; scoped in get_queryset

    def get_queryset(self):
        return selectors.assignment_list(self.request.user).select_related("document_version__document").order_by("due_date", "pk")
