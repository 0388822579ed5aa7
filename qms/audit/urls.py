"""The audit trail pages (no app_name: the navigation links to "audit-trail")."""

from django.urls import path

from qms.audit import views

urlpatterns = [
    path("", views.AuditTrailView.as_view(), name="audit-trail"),
    path("acknowledge/", views.AcknowledgeBreaksView.as_view(), name="audit-trail-acknowledge"),
    path("export.csv", views.AuditTrailCsvView.as_view(), name="audit-trail-csv"),
    path("export.pdf", views.AuditTrailPdfView.as_view(), name="audit-trail-pdf"),
    path("records/<str:model_label>/<int:pk>/", views.RecordAuditView.as_view(), name="audit-record"),
    path("records/<str:model_label>/<int:pk>/dossier.pdf", views.RecordDossierPdfView.as_view(), name="audit-record-pdf"),
]
