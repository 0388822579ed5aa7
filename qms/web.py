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

# A form posted from a record page to a URL of its own (an upload, a log entry) is refused by a
# redirect back to that page, not by re-rendering it (which would need the page's whole view).
# Its field errors ride in the session for that one rendering, and the redirect's fragment names
# the form, so the browser lands on it and the error shows next to the field, not in a message
# at the top of a long page (issue 18 item 4). Read by {% refused_form %} in qms_tags.
REFUSED_FORM_SESSION_KEY = "qms_refused_form"


def refuse_form(request, url: str, form_id: str, errors: dict[str, list[str]]):
    """Redirect back to `url#form_id`, keeping `errors` ({field: [message, ...]}; "__all__" for
    the form as a whole) for the form that the page renders with the id `form_id`."""
    request.session[REFUSED_FORM_SESSION_KEY] = {"form": form_id, "errors": {k: [str(m) for m in v] for k, v in errors.items()}}
    return redirect(f"{url.split('#', 1)[0]}#{form_id}")


def form_errors(form) -> dict[str, list[str]]:
    return {field: [str(m) for m in messages_] for field, messages_ in form.errors.items()}


def add_domain_errors(form, exc: DomainError) -> None:
    """Show a service's refusal on the form: on the field it names, or above the form."""
    if exc.field_errors:
        for name, errors in exc.field_errors.items():
            for error in errors:
                form.add_error(name if name in form.fields else None, error)
    else:
        form.add_error(None, exc.message)


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
            updated = type(self).transition_service(
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
            # The services return the record as the step left it; read it again only if not.
            fresh = isinstance(updated, type(record)) and updated.pk == record.pk
            messages.success(request, transition_done_message(updated if fresh else record, fresh=fresh))
        return redirect(record.get_absolute_url())


def transition_done_message(record, *, fresh: bool = False) -> str:
    """What a workflow button did, in words: "SOP-001 rev 2 training of Eve Employee is now
    completed." (not "complete done"), read from the record as it is after the transition
    (`fresh`: `record` is already that; otherwise it is read again)."""
    if not fresh:
        record.refresh_from_db()
    status = record.get_status_display() if hasattr(record, "get_status_display") else ""
    return f"{record} is now {status.lower()}." if status else f"{record} saved."


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
