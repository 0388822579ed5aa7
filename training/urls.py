from django.urls import path

from training import views

app_name = "training"

urlpatterns = [
    path("", views.MyTrainingView.as_view(), name="index"),
    path("my/", views.MyTrainingView.as_view(), name="my"),
    path("matrix/", views.MatrixView.as_view(), name="matrix"),
    path("assignments/", views.AssignmentListView.as_view(), name="assignments"),
    path("assignments/<int:pk>/", views.AssignmentDetailView.as_view(), name="assignment"),
    path("assignments/<int:pk>/file/", views.TrainingCopyView.as_view(), name="assignment-file"),
    path("assignments/<int:pk>/transition/", views.AssignmentTransitionView.as_view(), name="assignment-transition"),
    path("requirements/", views.RequirementListView.as_view(), name="requirements"),
    path("requirements/<int:pk>/", views.RequirementDetailView.as_view(), name="requirement"),
    path("versions/<int:pk>/", views.VersionTrainingView.as_view(), name="version"),
    path("versions/<int:pk>/sessions/new/", views.SessionCreateView.as_view(), name="session-create"),
    path("sessions/<int:pk>/", views.SessionDetailView.as_view(), name="session"),
    path("release-gates/", views.ReleaseGateView.as_view(), name="gates"),
]
