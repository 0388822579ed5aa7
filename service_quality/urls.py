from django.urls import path

from service_quality import views

app_name = "service_quality"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
]
