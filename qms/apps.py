from django.apps import AppConfig
from django.db.models.signals import post_migrate


class QmsConfig(AppConfig):
    name = "qms"
    verbose_name = "QMS kernel"

    def ready(self):
        from qms import checks, security_events  # noqa: F401  (deploy checks; log-in and lock-out receivers)
        from qms.permissions_sync import sync_role_permissions

        post_migrate.connect(sync_role_permissions, dispatch_uid="qms.sync_role_permissions")
