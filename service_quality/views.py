from django.views.generic import TemplateView

from qms.permissions import RoleRequiredMixin


class HomeView(RoleRequiredMixin, TemplateView):
    template_name = "service_quality/home.html"
