from django.urls import path

from documents import views

app_name = "documents"

urlpatterns = [
    path("", views.DocumentListView.as_view(), name="list"),
    path("new/", views.DocumentCreateView.as_view(), name="create"),
    path("approval-matrix/", views.ApprovalMatrixView.as_view(), name="approval-matrix"),
    path("approval-matrix/<slug:doc_type>/edit/", views.ApprovalRuleEditView.as_view(), name="approval-rule-edit"),
    path("<int:pk>/", views.DocumentDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.DocumentEditView.as_view(), name="edit"),
    path("<int:pk>/compare/", views.VersionDiffView.as_view(), name="diff"),
    path("<int:pk>/periodic-review/", views.PeriodicReviewView.as_view(), name="periodic-review"),
    path("<int:pk>/versions/new/", views.VersionCreateView.as_view(), name="version-create"),
    path("<int:pk>/versions/<int:version_pk>/", views.VersionDetailView.as_view(), name="version"),
    path("<int:pk>/versions/<int:version_pk>/edit/", views.VersionEditView.as_view(), name="version-edit"),
    path("<int:pk>/versions/<int:version_pk>/transition/", views.VersionTransitionView.as_view(), name="version-transition"),
    path("<int:pk>/versions/<int:version_pk>/download/", views.VersionDownloadView.as_view(), name="version-download"),
    path("<int:pk>/versions/<int:version_pk>/print/", views.VersionPrintView.as_view(), name="version-print"),
]
