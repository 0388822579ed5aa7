from django.urls import include, path
from rest_framework.routers import SimpleRouter

from documents.api import views

router = SimpleRouter()
router.register("documents", views.DocumentViewSet, basename="api-document")

versions = SimpleRouter()
versions.register("versions", views.DocumentVersionViewSet, basename="api-document-version")

urlpatterns = [
    *router.urls,
    path("documents/<int:document_pk>/", include(versions.urls)),
]
