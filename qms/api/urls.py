from django.urls import path

from qms.api import views

urlpatterns = [
    path("auth/token/", views.ObtainTokenView.as_view(), name="api-token"),
    path("users/me/", views.MeView.as_view(), name="api-me"),
]
