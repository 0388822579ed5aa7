from rest_framework import serializers

from metrics.kpis import KPI_BY_CODE
from metrics.models import KpiAlert, KpiTarget


class KpiAlertSerializer(serializers.ModelSerializer):
    kpi_label = serializers.SerializerMethodField()
    capa = serializers.SlugRelatedField(slug_field="reference", read_only=True)
    capa_id = serializers.IntegerField(read_only=True)
    threshold = serializers.FloatField()

    class Meta:
        model = KpiAlert
        fields = ["id", "kpi", "kpi_label", "status", "raised_at", "value", "threshold", "window_days",
                  "cleared_at", "cleared_value", "capa", "capa_id", "notified", "version"]
        read_only_fields = fields

    def get_kpi_label(self, obj) -> str:
        return KPI_BY_CODE[obj.kpi].label


class KpiTargetSerializer(serializers.ModelSerializer):
    kpi_label = serializers.SerializerMethodField()
    owners = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)
    target = serializers.FloatField()
    threshold = serializers.FloatField()

    class Meta:
        model = KpiTarget
        fields = ["id", "kpi", "kpi_label", "target", "threshold", "window_days", "owners", "is_active", "version"]
        read_only_fields = fields

    def get_kpi_label(self, obj) -> str:
        return KPI_BY_CODE[obj.kpi].label
