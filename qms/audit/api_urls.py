from django.urls import path

from qms.audit.api import AuditTrailView

urlpatterns = [path("", AuditTrailView.as_view(), name="api-audit-trail")]
