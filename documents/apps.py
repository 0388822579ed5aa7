from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "documents"
    verbose_name = "Controlled documents"

    def ready(self):
        # The services register the version workflow's hooks (qms/workflow.py).
        from documents import services  # noqa: F401
