from django.urls import path

from service_quality import views

app_name = "service_quality"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("dashboard/", views.DashboardView.as_view(), name="dashboard"),
    path("scorecards/", views.ScorecardListView.as_view(), name="scorecard-list"),
    path("scorecards/new/", views.ScorecardCreateView.as_view(), name="scorecard-create"),
    path("scorecards/<int:pk>/", views.ScorecardDetailView.as_view(), name="scorecard-detail"),
    path(
        "scorecards/<int:pk>/transition/",
        views.ScorecardTransitionView.as_view(),
        name="scorecard-transition",
    ),
    path("evaluations/", views.EvaluationListView.as_view(), name="evaluation-list"),
    path("evaluations/new/", views.EvaluationCreateView.as_view(), name="evaluation-create"),
    path("evaluations/<int:pk>/", views.EvaluationDetailView.as_view(), name="evaluation-detail"),
    path(
        "evaluations/<int:pk>/transition/",
        views.EvaluationTransitionView.as_view(),
        name="evaluation-transition",
    ),
    path(
        "auto-scores/<int:pk>/decide/",
        views.AutoScoreDecideView.as_view(),
        name="auto-score-decide",
    ),
    path("friction-phrases/", views.FrictionPhraseListView.as_view(), name="friction-list"),
    path("tasks/", views.TaskListView.as_view(), name="task-list"),
    path("tasks/<int:pk>/start/", views.TaskStartView.as_view(), name="task-start"),
    path("sampling-rules/", views.SamplingRuleListView.as_view(), name="rule-list"),
    path(
        "evaluations/<int:pk>/coaching/", views.CoachingCreateView.as_view(), name="coaching-create"
    ),
    path("coaching/", views.CoachingListView.as_view(), name="coaching-list"),
    path("coaching/<int:pk>/", views.CoachingDetailView.as_view(), name="coaching-detail"),
    path(
        "coaching/<int:pk>/transition/",
        views.CoachingTransitionView.as_view(),
        name="coaching-transition",
    ),
    path("calibration/", views.CalibrationListView.as_view(), name="calibration-list"),
    path("calibration/new/", views.CalibrationCreateView.as_view(), name="calibration-create"),
    path("calibration/<int:pk>/", views.CalibrationDetailView.as_view(), name="calibration-detail"),
]
