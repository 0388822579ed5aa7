from django.urls import path

from qms.audit.api import AcknowledgementView, AuditTrailView, VerificationView

urlpatterns = [
    path("", AuditTrailView.as_view(), name="api-audit-trail"),
    path("verification/", VerificationView.as_view(), name="api-audit-verification"),
    path("verification/acknowledgements/", AcknowledgementView.as_view(), name="api-audit-acknowledgements"),
]
