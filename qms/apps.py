from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.module_loading import autodiscover_modules


class QmsConfig(AppConfig):
    name = "qms"
    verbose_name = "QMS kernel"

    def ready(self):
        from qms import checks, security_events  # noqa: F401  (deploy checks; log-in and lock-out receivers)
        from qms.permissions_sync import sync_role_permissions

        # Each app's handoffs.py fills the hand-off registry (qms.handoffs).
        autodiscover_modules("handoffs")
        post_migrate.connect(sync_role_permissions, dispatch_uid="qms.sync_role_permissions")
        from qms.audit.search import ensure_search_indexes

        # After every migrate: the audit trail's free-text indexes (docs/decisions/0017).
        post_migrate.connect(ensure_search_indexes, sender=self, dispatch_uid="qms.ensure_search_indexes")
