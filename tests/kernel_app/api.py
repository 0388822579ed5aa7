from django.db import transaction
from rest_framework import mixins, serializers, viewsets

from qms import roles as qms_roles
from qms.api.mixins import HistoryMixin, TransitionsMixin, VersionedSerializerMixin
from qms.permissions import RolePermission
from tests.kernel_app.models import Specimen
from tests.kernel_app.services import specimen_create, specimen_transition, specimen_update
from tests.kernel_app.workflow import SPECIMEN_WORKFLOW


class SpecimenSerializer(VersionedSerializerMixin, serializers.ModelSerializer):
    class Meta:
        model = Specimen
        fields = ["id", "reference", "title", "summary", "status", "owner", "approved_at", "version"]
        read_only_fields = ["reference", "status", "owner", "approved_at"]


class SpecimenViewSet(
    TransitionsMixin,
    HistoryMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Specimen.objects.select_related("owner")
    serializer_class = SpecimenSerializer
    permission_classes = [RolePermission]
    read_roles = qms_roles.READERS
    write_roles = qms_roles.QUALITY
    workflow = SPECIMEN_WORKFLOW
    transition_service = specimen_transition

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("version", None)
        serializer.instance = specimen_create(actor=self.request.user, **data)

    @transaction.atomic
    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        version = data.pop("version")
        serializer.instance = specimen_update(
            serializer.instance, actor=self.request.user, version=version, reason="API update", **data
        )
