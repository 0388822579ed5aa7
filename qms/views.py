from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views import View
from django.views.decorators.http import require_safe
from django.views.generic import ListView, TemplateView

from qms.mywork import sections_for


class QmsLoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "organisation_name": settings.QMS_ORGANISATION_NAME}


class HomeView(TemplateView):
    template_name = "qms/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        sections = sections_for(self.request.user)
        context["sections"] = sections
        # Sections with work first, as cards; the empty ones as one compact "all clear" list.
        context["busy_sections"] = [section for section in sections if section.items]
        context["clear_sections"] = [section for section in sections if not section.items]
        context["recent_notifications"] = list(self.request.user.notifications.filter(read_at__isnull=True)[:5])
        return context


class NotificationListView(ListView):
    template_name = "qms/notifications.html"
    paginate_by = 25
    context_object_name = "notifications"

    def get_queryset(self):
        return self.request.user.notifications.all()


class NotificationsMarkReadView(View):
    http_method_names = ["post"]

    def post(self, request):
        request.user.notifications.filter(read_at__isnull=True).update(read_at=timezone.now())
        return redirect("notifications")


@login_not_required
@require_safe
def health(request):
    """Liveness and database check for the load balancer and `make run`'s smoke test."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
