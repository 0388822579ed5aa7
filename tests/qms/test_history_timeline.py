"""A record's history is written in Python (qms_tags.history_timeline, issue 19: the template
loops were a third of the complaint page's rendering). It must say exactly what the template
language said: the markup of qms/_history.html before the change is the oracle here."""

import datetime
import zoneinfo

import pytest
from django.template import Context, Template
from django.utils import dateformat, timezone, translation

from qms.audit.display import Change, TrailEntry
from qms.templatetags import qms_tags

TEMPLATE_BEFORE = """{% load qms_tags %}
{% if history_entries %}
<ol class="timeline history-timeline">
{% for entry in history_entries %}
  <li class="history-{{ entry.action }}">
    <div><strong>{{ entry.action|humanize_code }}</strong> by {{ entry.user|default:"system" }}</div>
    <div class="when"><time datetime="{{ entry.at|date:'c' }}">{{ entry.at|date:"j M Y, H:i:s T" }}</time></div>
    {% if entry.reason %}<div class="reason">Reason: {{ entry.reason }}</div>{% endif %}
    {% if entry.changes %}<ul class="changes diff">{% for c in entry.changes %}<li><span class="field">{{ c.label|default:c.field }}</span>{% if c.old_display or c.old is not None %} <span class="old">{% firstof c.old_display c.old %}</span> <span class="arrow" aria-label="changed to">→</span>{% endif %} <span class="new">{% if c.new_display %}{{ c.new_display|truncatechars:120 }}{% else %}{{ c.new|default_if_none:"—"|truncatechars:120 }}{% endif %}</span></li>{% endfor %}</ul>{% endif %}
  </li>
{% endfor %}
</ol>
{% else %}
<p class="muted">No history yet.</p>
{% endif %}
"""

MOMENTS = [
    datetime.datetime(2026, 1, 1, 0, 0, 5, tzinfo=datetime.UTC),
    datetime.datetime(2026, 3, 29, 1, 0, tzinfo=datetime.UTC),  # BST starts
    datetime.datetime(2026, 10, 25, 1, 30, 59, tzinfo=datetime.UTC),  # the repeated hour: no zone name
    datetime.datetime(2031, 5, 9, 8, 5, tzinfo=zoneinfo.ZoneInfo("America/New_York")),
]


def entry(at, *, action="changed", user="Ann <Admin>", reason="", changes=()):
    return TrailEntry(kind="history", at=at, username="ann", user_name=user, action=action, reason=reason,
                      model="complaints.complaint", model_label="Complaint", object_id=1, changes=list(changes))


ENTRIES = [
    entry(MOMENTS[0], action="created", user="", reason="Logged by phone & e-mail"),
    entry(MOMENTS[1], action="wait_for_customer", reason="<b>asked</b> for photos", changes=[
        Change("status", "Status", "investigating", "awaiting_customer", "Investigating", "Awaiting customer"),
        Change("sla_paused_hours", "", 0, 2.5),  # old 0 is shown as nothing, as {% firstof %} does
        Change("resolved_at", "Resolved at", None, None),
        Change("description", "Description", "x" * 200, "y & z " * 40),
        Change("tags", "Tags", ["a", "b"], ["a", "b", "<c>"]),
        Change("investigation_required", "Investigation required", True, False, "Yes", ""),
    ]),
    entry(MOMENTS[2], changes=[Change("title", "Title", "", "Seal <leaks>")]),
    entry(MOMENTS[3], action="close"),
]


def render_before(entries):
    return Template(TEMPLATE_BEFORE).render(Context({"history_entries": entries}))


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_history_reads_as_the_template_did(language):
    with translation.override(language):
        assert Template("{% load qms_tags %}\n{% history_timeline e %}").render(Context({"e": ENTRIES})) == render_before(ENTRIES)


def test_no_history_reads_as_the_template_did():
    assert Template("{% load qms_tags %}\n{% history_timeline e %}").render(Context({"e": []})) == render_before([])


def test_the_include_still_renders_it():
    from django.template.loader import render_to_string

    assert render_to_string("qms/_history.html", {"history_entries": ENTRIES}) == "\n" + render_before(ENTRIES)


@pytest.mark.parametrize("moment", MOMENTS)
def test_dates_with_seconds_read_as_djangos_format(moment):
    local = timezone.localtime(moment)
    assert qms_tags.local_datetime(moment, seconds=True, zone=True) == dateformat.format(local, "j M Y, H:i:s T")
    assert qms_tags.local_datetime(moment) == dateformat.format(local, "j M Y, H:i")
