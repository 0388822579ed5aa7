from rest_framework.routers import SimpleRouter

from service_quality.api import views

router = SimpleRouter()
router.register("scorecards", views.ScorecardViewSet, basename="sq-scorecard")
router.register("evaluations", views.EvaluationViewSet, basename="sq-evaluation")
router.register("auto-scores", views.AutoScoreViewSet, basename="sq-auto-score")
router.register("sampling-rules", views.SamplingRuleViewSet, basename="sq-sampling-rule")
router.register("evaluation-tasks", views.EvaluationTaskViewSet, basename="sq-evaluation-task")
router.register("coaching", views.CoachingViewSet, basename="sq-coaching")
router.register("calibrations", views.CalibrationViewSet, basename="sq-calibration")
router.register("agreement", views.AgreementView, basename="sq-agreement")
router.register("dashboard", views.DashboardView, basename="sq-dashboard")
router.register("friction-phrases", views.FrictionPhraseViewSet, basename="sq-friction-phrase")

urlpatterns = router.urls
