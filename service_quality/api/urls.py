from rest_framework.routers import SimpleRouter

from service_quality.api import views

router = SimpleRouter()
router.register("scorecards", views.ScorecardViewSet, basename="sq-scorecard")
router.register("evaluations", views.EvaluationViewSet, basename="sq-evaluation")

urlpatterns = router.urls
