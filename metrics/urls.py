from django.urls import path

from metrics import views

app_name = "metrics"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("targets/", views.TargetListView.as_view(), name="targets"),
    path("targets/new/", views.TargetCreateView.as_view(), name="target-create"),
    path("targets/<int:pk>/", views.TargetEditView.as_view(), name="target-edit"),
    path("alerts/", views.AlertListView.as_view(), name="alerts"),
    path("alerts/<int:pk>/", views.AlertDetailView.as_view(), name="alert-detail"),
    path("alerts/<int:pk>/raise-capa/", views.AlertRaiseCapaView.as_view(), name="alert-raise-capa"),
    path("units-shipped/", views.ShippedUnitsView.as_view(), name="shipments"),
    path("units-shipped/import/", views.ShippedUnitsImportView.as_view(), name="shipments-import"),
    path("reviews/", views.ReviewListView.as_view(), name="reviews"),
    path("reviews/new/", views.ReviewCreateView.as_view(), name="review-create"),
    path("reviews/<int:pk>/", views.ReviewDetailView.as_view(), name="review-detail"),
    path("reviews/<int:pk>/edit/", views.ReviewEditView.as_view(), name="review-edit"),
    path("reviews/<int:pk>/items/", views.ReviewItemAddView.as_view(), name="review-item-add"),
    path("reviews/<int:pk>/transition/", views.ReviewTransitionView.as_view(), name="review-transition"),
    path("reviews/<int:pk>/export.pdf", views.ReviewExportView.as_view(fmt="pdf"), name="review-export-pdf"),
    path("reviews/<int:pk>/export.csv", views.ReviewExportView.as_view(fmt="csv"), name="review-export-csv"),
    path("reviews/<int:pk>/export.xlsx", views.ReviewExportView.as_view(fmt="xlsx"), name="review-export-xlsx"),
    path("review-items/<int:pk>/transition/", views.ReviewItemTransitionView.as_view(), name="review-item-transition"),
    path("review-items/<int:pk>/capa/", views.ReviewItemLinkCapaView.as_view(), name="review-item-capa"),
]
