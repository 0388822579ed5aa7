from django.apps import AppConfig


class ServiceQualityConfig(AppConfig):
    name = "service_quality"
    verbose_name = "Service quality"

    def ready(self):
        # The services register the service-quality workflows' hooks (qms/workflow.py).
        from service_quality import services  # noqa: F401
