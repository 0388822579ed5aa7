from django.urls import path

from tests.kernel_app import views

app_name = "kernel_app"

urlpatterns = [
    path("specimens/<int:pk>/", views.SpecimenDetailView.as_view(), name="detail"),
    path("specimens/<int:pk>/transition/", views.SpecimenTransitionView.as_view(), name="transition"),
]
