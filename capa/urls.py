from django.urls import path

from capa import views

app_name = "capa"

urlpatterns = [
    path("", views.CapaListView.as_view(), name="list"),
    path("new/", views.CapaCreateView.as_view(), name="create"),
    path("<int:pk>/", views.CapaDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.CapaEditView.as_view(), name="edit"),
    path("<int:pk>/transition/", views.CapaTransitionView.as_view(), name="transition"),
    path("<int:pk>/root-cause/", views.RootCauseEditView.as_view(), name="root-cause"),
    path("<int:pk>/actions/new/", views.ActionCreateView.as_view(), name="action-create"),
    path("<int:pk>/checks/new/", views.CheckCreateView.as_view(), name="check-create"),
    path("actions/<int:pk>/edit/", views.ActionEditView.as_view(), name="action-edit"),
    path("actions/<int:pk>/transition/", views.ActionTransitionView.as_view(), name="action-transition"),
    path("actions/<int:pk>/evidence/", views.EvidenceUploadView.as_view(), name="evidence-upload"),
    path("evidence/<int:pk>/", views.EvidenceDownloadView.as_view(), name="evidence-download"),
    path("checks/<int:pk>/edit/", views.CheckEditView.as_view(), name="check-edit"),
    path("checks/<int:pk>/result/", views.CheckResultView.as_view(), name="check-result"),
]
