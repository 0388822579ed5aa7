from django.urls import path

from complaints import views

app_name = "complaints"

urlpatterns = [
    path("", views.ComplaintListView.as_view(), name="list"),
    path("new/", views.ComplaintCreateView.as_view(), name="create"),
    path("<int:pk>/", views.ComplaintDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.ComplaintEditView.as_view(), name="edit"),
    path("<int:pk>/transition/", views.ComplaintTransitionView.as_view(), name="transition"),
    path("<int:pk>/attachments/", views.AttachmentUploadView.as_view(), name="attachment-upload"),
    path("attachments/<int:pk>/", views.AttachmentDownloadView.as_view(), name="attachment"),
    path("<int:pk>/communications/", views.CommunicationAddView.as_view(), name="communication-add"),
    path("customers/", views.CustomerListView.as_view(), name="customers"),
    path("customers/new/", views.CustomerCreateView.as_view(), name="customer-create"),
    path("customers/<int:pk>/", views.CustomerDetailView.as_view(), name="customer"),
    path("customers/<int:pk>/edit/", views.CustomerEditView.as_view(), name="customer-edit"),
    path("products/", views.ProductListView.as_view(), name="products"),
    path("sla/", views.SlaPolicyListView.as_view(), name="sla-policies"),
    path("sla/<int:pk>/edit/", views.SlaPolicyEditView.as_view(), name="sla-policy-edit"),
    path("sla/holidays/", views.HolidayAddView.as_view(), name="holiday-add"),
    path("sla/calendars/<int:pk>/edit/", views.CalendarEditView.as_view(), name="calendar-edit"),
    # Public pages: no login.
    path("submit/", views.PublicComplaintView.as_view(), name="public-submit"),
    path("submit/thanks/", views.public_thanks, name="public-thanks"),
    path("survey/<str:token>/", views.SurveyView.as_view(), name="survey"),
]
