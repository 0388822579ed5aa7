import django_filters

from metrics.kpis import KPI_CHOICES
from metrics.models import KpiAlert
from metrics.workflow import AlertStatus


class AlertFilter(django_filters.FilterSet):
    """Shared by the alert list page and GET /api/v1/metrics/alerts/."""

    status = django_filters.ChoiceFilter(choices=AlertStatus.choices, empty_label="Any status")
    kpi = django_filters.ChoiceFilter(choices=KPI_CHOICES, empty_label="Any KPI")
    raised_from = django_filters.DateFilter(field_name="raised_at", lookup_expr="date__gte", label="Raised from")
    raised_to = django_filters.DateFilter(field_name="raised_at", lookup_expr="date__lte", label="Raised to")

    class Meta:
        model = KpiAlert
        fields = ["status", "kpi"]
