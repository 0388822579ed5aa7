from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from qms import views

api_v1 = [
    path("", include("qms.api.urls")),
    path("", include("complaints.api.urls")),
    path("", include("capa.api.urls")),
    path("", include("documents.api.urls")),
    path("", include("training.api.urls")),
    path("", include("metrics.api.urls")),
    path("service-quality/", include("service_quality.api.urls")),
    path("audit-trail/", include("qms.audit.api_urls")),
]

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("notifications/", views.NotificationListView.as_view(), name="notifications"),
    path("notifications/read/", views.NotificationsMarkReadView.as_view(), name="notifications-read"),
    path("accounts/login/", views.QmsLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(template_name="registration/password_change.html"),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="registration/password_change_done.html"),
        name="password_change_done",
    ),
    path("accounts/tokens/", views.ApiTokenListView.as_view(), name="api-tokens"),
    path("accounts/tokens/<int:pk>/revoke/", views.ApiTokenRevokeView.as_view(), name="api-token-revoke"),
    path("healthz/", views.health, name="health"),
    path("complaints/", include("complaints.urls")),
    path("capa/", include("capa.urls")),
    path("documents/", include("documents.urls")),
    path("training/", include("training.urls")),
    path("metrics/", include("metrics.urls")),
    path("service-quality/", include("service_quality.urls")),
    path("audit/", include("qms.audit.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
