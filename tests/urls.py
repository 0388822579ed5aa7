"""The project's URLs plus the test-only kernel_app's page and API (only under tests.settings)."""

from django.urls import include, path

from qms.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    *project_urlpatterns,
    path("kernel-test/", include("tests.kernel_app.urls")),
    path("api/v1/kernel-test/", include("tests.kernel_app.api_urls")),
]
