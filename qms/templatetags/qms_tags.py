from django import template
from django.utils.html import format_html, format_html_join

from qms.extensions import record_badges as registered_badges

register = template.Library()

# Status and level codes to badge colours, shared by every app's lists and pages.
BADGE_TONES = {
    "ok": {"closed", "effective", "completed", "approved", "resolved", "current", "verified", "sent", "done", "answered", "met", "effective_yes"},
    "warn": {"awaiting_customer", "in_review", "due", "effectiveness_check", "pending", "medium", "waiting", "due_soon", "implementation", "action_planning"},
    "bad": {"overdue", "breached", "critical", "high", "rejected", "not_effective", "missing", "cancelled", "failed", "obsolete"},
    "info": {"new", "open", "acknowledged", "investigating", "investigation", "draft", "assigned", "in_progress", "low", "planned"},
}


@register.simple_tag
def badge(code, label=None):
    """A coloured pill for a status, severity or level code: {% badge obj.status obj.get_status_display %}."""
    code = "" if code is None else str(code)
    tone = next((name for name, codes in BADGE_TONES.items() if code in codes), "")
    return format_html('<span class="badge {}">{}</span>', tone, label if label is not None else code.replace("_", " "))


@register.simple_tag(takes_context=True)
def querystring_with(context, **changes):
    """The current query string with some parameters replaced (for sorting and paging links)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.filter
def humanize_code(code) -> str:
    """"plan_actions" -> "Plan actions": workflow and history codes shown as words."""
    text = str(code or "").replace("_", " ").strip()
    return text[:1].upper() + text[1:]


@register.inclusion_tag("qms/_waiting_for.html", takes_context=True)
def waiting_for(context, record):
    """'Waiting for: <names> — <what>' on a record page (qms.handoffs); nothing when nobody is."""
    from qms.handoffs import waiting_for as handoff_for

    return {"handoff": handoff_for(record, context.flatten())}


@register.simple_tag(takes_context=True)
def refused_form(context, form_id, key=None, form=None):
    """The field errors of a form refused by qms.web.refuse_form, when it is the form `form_id`
    (taken from the session once: a reload shows the form clean again), else {}. Given the
    page's unbound `form`, the errors are put on it, so qms/_form_fields.html shows each next
    to its field. {% refused_form "attach" as refused %} ... {{ refused.file }}; a form per row
takes the row's key: {% refused_form "attach-evidence" action.pk as refused %} is the form "attach-evidence-12"."""
    from qms.web import REFUSED_FORM_SESSION_KEY

    if key is not None:  # {% refused_form "evidence" action.pk %}: the form "evidence-12"
        form_id = f"{form_id}-{key}"
    request = context.get("request")
    session = getattr(request, "session", None)
    if session is None:
        return {}
    refused = session.get(REFUSED_FORM_SESSION_KEY)
    if not refused or refused.get("form") != str(form_id):
        return {}
    del session[REFUSED_FORM_SESSION_KEY]
    errors = refused.get("errors") or {}
    if form is not None:
        from django.forms.utils import ErrorDict, ErrorList

        known = {name: ErrorList(messages) for name, messages in errors.items() if name in form.fields}
        rest = [m for name, messages in errors.items() if name not in form.fields for m in messages]
        if rest:
            known["__all__"] = ErrorList(rest, error_class="nonfield")
        form._errors = ErrorDict(known)
    return errors or {"__all__": ["The form was refused."]}


@register.simple_tag(takes_context=True)
def record_exports(context, record):
    """A record page's "Dossier PDF" and "Audit trail" links, one click away (issue 18 item 6),
    for the roles that may read the audit trail; nothing for the others or for a record
    without history."""
    from django.urls import reverse

    from qms import roles as qms_roles
    from qms.audit.registry import historical_model_for
    from qms.audit.views import AUDIT_READERS

    user = getattr(context.get("request"), "user", None)
    if record is None or user is None or not (qms_roles.roles_of(user) & AUDIT_READERS):
        return ""
    label = record._meta.label_lower
    if historical_model_for(label) is None:
        return ""
    return format_html(
        '<a class="btn secondary" data-export="pdf" href="{}">Dossier PDF</a> <a class="btn secondary" href="{}">Audit trail</a>',
        reverse("audit-record-pdf", args=[label, record.pk]), reverse("audit-record", args=[label, record.pk]),
    )


@register.simple_tag(takes_context=True)
def record_badges(context, kind, obj):
    """The badges other apps registered for `kind` (qms.extensions), e.g.
    {% record_badges "person" complaint.assignee %}: nothing when none applies."""
    parts = [badge(context, obj) for badge in registered_badges(kind)]
    return format_html_join(" ", "{}", ((part,) for part in parts if part))
