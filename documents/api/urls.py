from django.urls import include, path
from rest_framework.routers import SimpleRouter

from documents.api import views

router = SimpleRouter()
router.register("documents", views.DocumentViewSet, basename="api-document")
router.register("approval-matrix", views.ApprovalMatrixViewSet, basename="api-approval-matrix")

versions = SimpleRouter()
versions.register("versions", views.DocumentVersionViewSet, basename="api-document-version")

urlpatterns = [
    *router.urls,
    path("documents/<int:document_pk>/", include(versions.urls)),
]
