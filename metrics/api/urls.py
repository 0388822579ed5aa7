from django.urls import path
from rest_framework.routers import SimpleRouter

from metrics.api import views

router = SimpleRouter()
router.register("metrics/alerts", views.KpiAlertViewSet, basename="metrics-alert")
router.register("metrics/targets", views.KpiTargetViewSet, basename="metrics-target")

urlpatterns = [
    path("metrics/kpis/", views.KpiView.as_view(), name="metrics-kpis"),
    *router.urls,
]
