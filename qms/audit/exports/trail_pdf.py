"""The filtered trail as PDF (the newest PDF_MAX_ENTRIES entries)."""

from __future__ import annotations

import io

from django.conf import settings
from django.utils import timezone
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.platypus import SimpleDocTemplate, Spacer

from qms.audit.display import format_datetime
from qms.audit.exports.pdf import (
    _changes_text,
    _data_table,
    _footer,
    _meta_table,
    _p,
    _styles,
    _verification_paragraph,
)
from qms.audit.exports.text import exporter_text

PDF_MAX_ENTRIES = 5000  # beyond this the PDF says so and the CSV is the export to use


def trail_pdf(trail, *, trail_filter, user, verification) -> bytes:
    styles = _styles()
    buffer = io.BytesIO()
    page = landscape(A4)
    doc = SimpleDocTemplate(
        buffer,
        pagesize=page,
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=14 * mm,
        title="Audit trail",
        author=exporter_text(user),
    )
    width = page[0] - doc.leftMargin - doc.rightMargin
    # The newest PDF_MAX_ENTRIES, and one more to know whether there are more (no COUNT). In
    # one chunk: they are all held for the document anyway, and chunks of CSV_CHUNK would make
    # the query count grow with the trail up to the cap (the page's 12-query budget).
    entries = list(trail.iter_entries(chunk=PDF_MAX_ENTRIES + 1, limit=PDF_MAX_ENTRIES + 1))
    more = len(entries) > PDF_MAX_ENTRIES
    entries = entries[:PDF_MAX_ENTRIES]
    story = [
        _p("Audit trail", styles["title"]),
        _meta_table(
            [
                ("Organisation", settings.QMS_ORGANISATION_NAME),
                ("Filter", trail_filter.describe()),
                ("Exported at", format_datetime(timezone.now())),
                ("Exported by", exporter_text(user)),
                (
                    "Entries",
                    f"{len(entries)}"
                    if not more
                    else f"the {len(entries)} newest; more match (narrow the filter, or export CSV, for all)",
                ),
                ("Verification", _verification_paragraph(verification, styles)),
            ],
            styles,
            width,
        ),
        Spacer(1, 6 * mm),
    ]
    rows = []
    for entry in entries:
        rows.append(
            [
                format_datetime(entry.at),
                f"{entry.user_name}\n{entry.username}"
                if entry.username and entry.username != entry.user_name
                else entry.user_name,
                entry.action_label,
                f"{entry.model_label}\n{entry.object_repr}"
                + (f" (#{entry.object_id})" if entry.object_id else ""),
                _changes_text(entry),
                entry.reason,
            ]
        )
    if rows:
        story.append(
            _data_table(
                ["When", "Who", "Action", "Record", "What changed", "Why"],
                rows,
                [width * f for f in (0.13, 0.11, 0.09, 0.17, 0.33, 0.17)],
                styles,
            )
        )
    else:
        story.append(_p("No entries match this filter.", styles["body"]))
    doc.build(story, onFirstPage=_footer("Audit trail"), onLaterPages=_footer("Audit trail"))
    return buffer.getvalue()
