from django import template
from django.utils.html import format_html

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
