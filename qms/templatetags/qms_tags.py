import datetime
from functools import lru_cache

from django import template
from django.template.base import render_value_in_context
from django.utils import dateformat, timezone
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.translation import get_language

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


# ---------------------------------------------------------------- dates and history, in Python


@lru_cache(maxsize=256)
def _month(language: str | None, month: int) -> str:
    """Django's "M" (the month's abbreviation) in the active language, looked up once."""
    return dateformat.format(datetime.date(2000, month, 1), "M")


def local_datetime(value: datetime.datetime, *, year: bool = True, seconds: bool = False, zone: bool = False) -> str:
    """Django's date formats "j M Y, H:i" in local time, written directly ("j M, H:i" without
    the year, "H:i:s" with seconds, " T" with the zone): dateformat.format costs about ten
    times as much, and a list page or a record's history formats 50 to 100 dates
    (tests/complaints/test_list_rows.py and tests/qms/test_history_timeline.py compare them)."""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    text = f"{local.day} {_month(get_language(), local.month)}"
    if year:
        text += f" {local.year}"
    text += f", {local.hour:02d}:{local.minute:02d}"
    if seconds:
        text += f":{local.second:02d}"
    # The zone through Django's "T", which leaves it out at an ambiguous local time.
    return f"{text} {dateformat.format(local, 'T')}" if zone else text


@register.simple_tag(takes_context=True)
def history_timeline(context, entries):
    """A record's history as a timeline, newest first (qms/_history.html calls it; entries are
    qms.audit TrailEntries from qms.web.record_audit_context or qms.audit.selectors.record_history).
    Written in Python: a record page shows up to 50 entries with their changed fields, and the
    same markup as template loops was a third of the complaint page's rendering at 100k
    complaints (bench/results/2026-12-07-100k.md, "Profile"). Values are shown as the template
    language shows them (render_value_in_context: local time, localized numbers, escaped)."""
    # The whitespace is the template's (qms/_history.html before it called this tag).
    if not entries:
        return mark_safe('\n<p class="muted">No history yet.</p>\n\n')
    esc = conditional_escape  # what {{ }} does to a string; f-strings: format_html per value costs more
    parts = ['\n<ol class="timeline history-timeline">\n']
    for entry in entries:
        at = timezone.localtime(entry.at) if timezone.is_aware(entry.at) else entry.at
        parts.append(
            f'\n  <li class="history-{esc(entry.action)}">\n'
            f'    <div><strong>{esc(humanize_code(entry.action))}</strong> by {esc(entry.user or "system")}</div>\n'
            f'    <div class="when"><time datetime="{esc(at.isoformat())}">'
            f'{esc(local_datetime(at, seconds=True, zone=True))}</time></div>\n    '
        )
        if entry.reason:
            parts.append(f'<div class="reason">Reason: {esc(entry.reason)}</div>')
        parts.append("\n    ")
        if entry.changes:
            parts.append('<ul class="changes diff">')
            for change in entry.changes:
                parts.append(f'<li><span class="field">{esc(change.label or change.field)}</span>')
                if change.old_display or change.old is not None:
                    first = change.old_display or change.old  # {% firstof old_display old %}
                    old = render_value_in_context(first, context) if first else ""
                    parts.append(f' <span class="old">{old}</span> <span class="arrow" aria-label="changed to">→</span>')
                new = change.new_display or ("—" if change.new is None else str(change.new))
                parts.append(f' <span class="new">{esc(Truncator(new).chars(120))}</span></li>')
            parts.append("</ul>")
        parts.append("\n  </li>\n")
    parts.append("\n</ol>\n\n")
    return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped
