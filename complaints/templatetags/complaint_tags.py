"""The complaint list's rows, written in Python: 25 rows of ten cells cost ~750 template
variable lookups and an {% include %} per row, the larger part of the list page's time at 100k
complaints (measured with cProfile; bench/README.md). The HTML is the same as the template's."""

import datetime

from django import template
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.timesince import timesince, timeuntil

from complaints.workflow import ComplaintStatus
from qms.templatetags.qms_tags import badge, local_datetime

register = template.Library()

DASH = mark_safe('<span class="muted">—</span>')


def _local(value: datetime.datetime, *, year: bool = True, zone: bool = False) -> str:
    """Django's date formats "j M Y, H:i" (or "j M, H:i"; with zone, "j M Y, H:i T") in local
    time, written directly: dateformat.format costs about ten times as much, and a list page
    formats 50 to 75 dates (tests/complaints/test_list_rows.py compares the two)."""
    return local_datetime(value, year=year, zone=zone)


@register.simple_tag
def deadline_cell(c):
    """The deadline that matters now for a complaint row (annotated with next_deadline and
    is_overdue, complaints.selectors.complaints_annotated)."""
    due = c.next_deadline
    if due:
        title = _local(due, zone=True)
        if c.is_overdue:
            return format_html('<span class="badge bad" title="{}">overdue {}</span>', title, timesince(due))
        return format_html(
            '<span class="cmp-due" title="{}">{}</span> <span class="muted small">in {}</span>',
            title, _local(due, year=False), timeuntil(due),
        )
    if c.status == ComplaintStatus.AWAITING_CUSTOMER:
        return mark_safe('<span class="badge warn">clock paused</span>')
    return DASH


def _row(c, detail_url):
    url = detail_url(c.pk)
    breached = c.is_breached
    customer = c.customer
    level = c.escalation_level
    return format_html(
        '<tr{}>\n'
        '      <td class="nowrap"><a href="{}"><strong>{}</strong></a>{}</td>\n'
        '      <td class="card-full user-text"><a href="{}">{}</a>\n'
        '        <div class="muted small">{}{}{}</div></td>\n'
        '      <td>{}<div class="muted small">{}</div></td>\n'
        '      <td>{}</td>\n'
        '      <td>{}</td>\n'
        '      <td data-label="Assignee">{}</td>\n'
        '      <td class="nowrap" data-label="Received">{}</td>\n'
        '      <td class="nowrap" data-label="Due">{}</td>\n'
        '      <td class="num" data-label="Escalation">{}</td>\n'
        '    </tr>',
        mark_safe(' class="breached"') if breached else "",
        url, c.reference,
        mark_safe('\n        <div><span class="badge bad">SLA breached</span></div>') if breached else "",
        url, Truncator(c.title).chars(70),
        customer.name,
        format_html(", {}", customer.organisation) if customer.organisation else "",
        mark_safe(' · <span class="badge warn">recurring</span>') if c.is_recurring else "",
        format_html('<span class="mono">{}</span>', c.product.code) if c.product_id else DASH,
        c.category.name if c.category_id else "uncategorised",
        badge(c.severity, c.get_severity_display()),
        badge(c.status, c.get_status_display()),
        c.assignee.full_name if c.assignee_id else "—",
        _local(c.received_at),
        deadline_cell(c),
        format_html('<span class="badge {}">L{}</span>', "bad" if level >= 2 else "warn", level) if level else mark_safe('<span class="muted">0</span>'),
    )


@register.simple_tag
def complaint_rows(complaints):
    """The <tr> of each complaint of the list page (complaint_list.html's table body)."""
    # Complaint.get_absolute_url once, not a reverse() per row.
    before, after = reverse("complaints:detail", args=[0]).rsplit("0", 1)

    def detail_url(pk):
        return f"{before}{pk}{after}"

    return format_html_join("\n    ", "{}", ((_row(c, detail_url),) for c in complaints))
