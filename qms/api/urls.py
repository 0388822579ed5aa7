from django.urls import path
from rest_framework.routers import SimpleRouter

from qms.api import views

router = SimpleRouter()
router.register("auth/tokens", views.ApiTokenViewSet, basename="api-token-record")

urlpatterns = [
    *router.urls,
    path("auth/token/", views.ObtainTokenView.as_view(), name="api-token"),
    path("users/me/", views.MeView.as_view(), name="api-me"),
]
