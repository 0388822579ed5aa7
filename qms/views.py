from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views import View
from django.views.decorators.http import require_safe
from django.views.generic import ListView, TemplateView

from qms import roles as qms_roles
from qms.errors import DomainError
from qms.models import ApiToken
from qms.mywork import sections_for
from qms.tokens import api_token_issue, api_token_revoke


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


class ApiTokenListView(View):
    """The caller's API tokens, to issue and revoke; an administrator also sees and can revoke
    every active token (issue 16 item 7). A new key is shown once, on the answer that issues it."""

    template_name = "qms/api_tokens.html"

    def context(self, request, **extra):
        now = timezone.now()
        is_admin = qms_roles.has_role(request.user, qms_roles.ADMINISTRATOR)
        own = list(ApiToken.objects.filter(user=request.user).select_related("revoked_by")[:200])
        everyone = (
            list(
                ApiToken.objects.filter(revoked_at__isnull=True, expires_at__gt=now)
                .exclude(user=request.user)
                .select_related("user")[:500]
            )
            if is_admin
            else []
        )
        for token in [*own, *everyone]:
            token.status = token.status_at(now)
        return {
            "own_tokens": own, "all_tokens": everyone, "is_admin": is_admin,
            "token_days": settings.QMS_API_TOKEN_DAYS, **extra,
        }

    def get(self, request):
        return render(request, self.template_name, self.context(request))

    def post(self, request):
        try:
            token, key = api_token_issue(user=request.user, name=request.POST.get("name", ""), request=request)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("api-tokens")
        return render(request, self.template_name, self.context(request, new_token=token, new_key=key))


class ApiTokenRevokeView(View):
    http_method_names = ["post"]

    def post(self, request, pk):
        token = get_object_or_404(ApiToken, pk=pk)
        try:
            api_token_revoke(token, actor=request.user, request=request)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Token {token.name} ({token.key_prefix}…) revoked.")
        return redirect("api-tokens")


@login_not_required
@require_safe
def health(request):
    """Liveness and database check for the load balancer and `make run`'s smoke test."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
