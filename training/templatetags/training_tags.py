"""Template tags other apps use to show training state beside a person or a document version.

    {% load training_tags %}
    {{ complaint.assignee.full_name }} {% training_flag complaint.assignee %}
    {% training_gate_progress version %}   {# on the document version page #}

The apps below training (complaints, documents) do not load this library: TrainingConfig.ready
registers `training_flag` and `gate_progress_badge` as record badges (qms.extensions), which
their pages show with the kernel's `{% record_badges "person" ... %}` and
`{% record_badges "document_version" ... %}`.

`training_flag` costs one query per request when the page names its people in the context's
`training_flag_people` (user ids; otherwise one per person), answered for those people only.
"""

import html

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from training import selectors, services

register = template.Library()


def _holder(context):
    """Where this request's answers are kept: the request, or the render context without one."""
    request = context.get("request")
    return request.__dict__ if request is not None else context.render_context


def _overdue_ids(context) -> set[int]:
    """Everyone with overdue training (one query per request)."""
    holder = _holder(context)
    if holder.get("_training_overdue_ids") is None:
        holder["_training_overdue_ids"] = selectors.overdue_user_ids()
    return holder["_training_overdue_ids"]


def _is_overdue(context, person_id) -> bool:
    """Whether one person has overdue training. The first question of a request asks about that
    person and the people the page names in `training_flag_people` (user ids; a record page
    with several people lists them there), in one query; a person outside them costs one more."""
    holder = _holder(context)
    if holder.get("_training_overdue_ids") is not None:
        return person_id in holder["_training_overdue_ids"]
    known = holder.setdefault("_training_overdue_among", {})
    if person_id not in known:
        among = {person_id, *(context.get("training_flag_people") or ())} - known.keys()
        overdue = selectors.overdue_user_ids(among=among)
        known.update((pk, pk in overdue) for pk in among)
    return known[person_id]


@register.simple_tag(takes_context=True)
def training_flag(context, person):
    """A red "training overdue" badge when `person` (a user or a user id) has overdue training
    on the effective version of a required document; nothing otherwise."""
    if person is None:
        return ""
    person_id = getattr(person, "pk", person)
    if not _is_overdue(context, person_id):
        return ""
    return format_html(
        '<a class="badge bad training-flag" href="/training/assignments/?user={}&amp;overdue=true" '
        'title="Training on an effective procedure is overdue (ISO 9001 7.2)">training overdue</a>',
        person_id,
    )


@register.filter
def training_overdue(person, overdue_ids):
    """For custom markup: {% training_overdue_ids as ids %}{% if person|training_overdue:ids %}…"""
    return getattr(person, "pk", person) in (overdue_ids or ())


@register.simple_tag(takes_context=True)
def training_overdue_ids(context):
    return _overdue_ids(context)


@register.inclusion_tag("training/_gate_progress.html")
def training_gate_progress(version):
    """The release-gate progress of a document version (nothing when its type has no gate)."""
    return {
        "gate": services.release_gate_status(version) if version is not None else None,
        "version": version,
    }


def gate_progress_badge(context, version):
    """training_gate_progress as a record badge of a document version (qms.extensions), rendered
    as the inclusion tag renders it."""
    template_ = context.template.engine.get_template("training/_gate_progress.html")
    return template_.render(context.new(training_gate_progress(version)))


NO_CELL = '<td class="mx-cell none" data-state="none"></td>'


@register.filter
def matrix_cells(row):
    """The <td> cells of one matrix row as one string: a page of the matrix has thousands of
    cells, and one template round (or one format_html) per cell would cost more than the rest
    of the page. html.escape is what django's escape() does, without its lazy-string wrapper."""
    parts = []
    for cell in row.cells:
        if cell is None:
            parts.append(NO_CELL)
            continue
        text = html.escape(cell.text)
        if cell.url:
            text = f'<a href="{html.escape(cell.url)}">{text}</a>'
        # The state is one of selectors.CELL_STATES: nothing to escape.
        parts.append(
            f'<td class="mx-cell {cell.state}" data-state="{cell.state}" '
            f'data-document="{html.escape(cell.document.number)}" '
            f'title="{html.escape(cell.title)}">{text}</td>'
        )
    return mark_safe("".join(parts))  # noqa: S308 - every value in the parts is escaped above
