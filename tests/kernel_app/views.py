from django.views.generic import DetailView

from qms import roles as qms_roles
from qms.permissions import RoleRequiredMixin
from qms.web import TransitionView, record_audit_context
from tests.kernel_app.models import Specimen
from tests.kernel_app.services import specimen_transition
from tests.kernel_app.workflow import SPECIMEN_WORKFLOW


class SpecimenDetailView(RoleRequiredMixin, DetailView):
    model = Specimen
    read_roles = qms_roles.READERS
    template_name = "qms/home.html"  # any page: tests look at status codes and data, not layout

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(record_audit_context(self.object, self.request.user, SPECIMEN_WORKFLOW))
        return context


class SpecimenTransitionView(TransitionView):
    model = Specimen
    transition_service = specimen_transition
