from django.apps import AppConfig


class ServiceQualityConfig(AppConfig):
    name = "service_quality"
    verbose_name = "Service quality"
