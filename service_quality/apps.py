from django.apps import AppConfig


class ServiceQualityConfig(AppConfig):
    name = "service_quality"
    verbose_name = "Service quality"

    def ready(self):
        from metrics.kpis import register_kpi_source

        # The services register the service-quality workflows' hooks (qms/workflow.py).
        from service_quality import services  # noqa: F401
        from service_quality.kpis import service_quality_aggregates, service_quality_values

        # The sq_* KPIs, computed from this app's tables, join metrics' KPIs (metrics.kpis).
        register_kpi_source(service_quality_aggregates, service_quality_values)
