"""Browser pieces every app reuses: the transition POST view, the audit context of a record
page, and the edit-form fields that carry the reason and the version read."""

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.views import View

from qms import roles as qms_roles
from qms.errors import DomainError
from qms.permissions import RoleRequiredMixin

TRANSITION_FIELDS = {"action", "reason", "password", "meaning", "csrfmiddlewaretoken"}


def record_audit_context(record, user, workflow=None, *, history_limit: int = 50, known=()) -> dict:
    """What every record page shows beside the record: history, signatures, transitions and
    the actions the user may take now. A fixed number of queries. `known`: rows the page has
    loaded already (linked records), which the history's diffs name without fetching again."""
    from qms.audit.selectors import record_history, signatures_and_transitions

    signatures, transitions = signatures_and_transitions(record)
    return {
        # Readable diffs (labels, choice labels, related objects' names), resolved in bulk.
        "history_entries": record_history(record, limit=history_limit, known=known),
        "signatures": signatures,
        "transitions": transitions,
        "actions": workflow.available(record, user) if workflow else [],
    }


class TransitionView(RoleRequiredMixin, View):
    """POST <record>/transition/ with action, reason (and password, meaning when signed).
    Subclasses set `model`, `transition_service` and optionally `queryset`."""

    http_method_names = ["post"]
    model = None
    transition_service = None
    read_roles = qms_roles.EVERYONE
    write_roles = qms_roles.EVERYONE  # the workflow checks the action's own roles

    def get_queryset(self):
        return self.model.objects.all()

    def post(self, request, pk):
        record = get_object_or_404(self.get_queryset(), pk=pk)
        data = {k: v for k, v in request.POST.items() if k not in TRANSITION_FIELDS}
        action = request.POST.get("action", "")
        try:
            type(self).transition_service(
                record,
                action,
                actor=request.user,
                reason=request.POST.get("reason", ""),
                password=request.POST.get("password") or None,
                meaning=request.POST.get("meaning") or None,
                data=data,
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{str(record)}: {action.replace('_', ' ')} done.")
        return redirect(record.get_absolute_url())


class ReasonVersionForm(forms.ModelForm):
    """Edit forms of regulated records: the reason goes into history, the version read guards
    against overwriting someone else's change (the service checks it)."""

    reason = forms.CharField(
        label="Reason for the change",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Recorded in the audit trail with your name.",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance and self.instance.pk and not self.is_bound:
            self.initial["version"] = self.instance.version
