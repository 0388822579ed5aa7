"""Management review exports: PDF (reportlab), CSV and XLSX (openpyxl), all from the same rows
(the input pack, frozen or live, then the decisions and actions)."""

from __future__ import annotations

import csv
import io

from django.utils import timezone

from metrics.kpis import KPI_BY_CODE, format_value
from metrics.selectors import REVIEW_SECTIONS
from qms.listexport import Column


def _cell(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def review_rows(review, pack: dict, items) -> list[tuple[str, list[list[str]]]]:
    """(section title, rows with a header row first) for every part of the review."""
    sections: list[tuple[str, list[list[str]]]] = [(
        "Review",
        [["Field", "Value"], ["Reference", review.reference], ["Title", review.title],
         ["Period", f"{review.period_start} to {review.period_end}"], ["Meeting", str(review.meeting_on)],
         ["Status", review.get_status_display()], ["Attendees", review.attendees],
         ["Input pack", f"frozen {review.held_at:%Y-%m-%d %H:%M}" if review.held_at else "live preview (not frozen)"],
         ["Conclusions", review.summary]],
    )]
    titles = dict(REVIEW_SECTIONS)
    sections.append((titles["previous_actions"], [["Review", "Action", "Owner", "Due", "Status", "CAPA"]] + [
        [a["review"], a["description"], a["owner"], _cell(a["due_date"]), a["status"], a["capa"]] for a in pack["previous_actions"]
    ]))
    sections.append((titles["kpis"], [["KPI", "Value", "Target", "Threshold", "Status"]] + [
        [k["label"], k["formatted"], _cell(k["target"]), _cell(k["threshold"]), k["status"]] for k in pack["kpis"]
    ]))
    feedback = pack["customer_feedback"]
    sections.append((titles["customer_feedback"], [["Measure", "Value"], ["Survey answers", _cell(feedback["responses"])],
                     ["CSAT % satisfied", _cell(feedback["csat"])], ["NPS", _cell(feedback["nps"])], ["CES mean", _cell(feedback["ces"])]]
                    + [[f"Comment ({c['complaint']}, CSAT {c['csat']})", c["comment"]] for c in feedback["comments"]]))
    complaints = pack["complaints"]
    sections.append((titles["complaints"], [["Measure", "Value"], ["Received", _cell(complaints["received"])],
                     ["Open at the end", _cell(complaints["open_at_end"])], ["Overdue at the end", _cell(complaints["overdue_at_end"])],
                     ["Reportable to a regulator", _cell(complaints["reportable"])]]
                    + [[f"Severity {r['severity']}", _cell(r["count"])] for r in complaints["by_severity"]]
                    + [[f"Category {r['category']}", _cell(r["count"])] for r in complaints["by_category"]]
                    + [[f"Product {r['code']} (per 1,000 units: {_cell(r['rate'])})", _cell(r["complaints"])] for r in complaints["by_product"]]))
    capa = pack["capa"]
    sections.append((titles["capa"], [["Measure", "Value"], ["CAPAs opened", _cell(capa["opened"])],
                     ["CAPAs closed", _cell(capa["closed"])], ["Closed on time %", _cell(capa["closed_on_time_rate"])],
                     ["Open at the end", _cell(capa["open_at_end"])]]
                    + [[f"Opened from {r['source']}", _cell(r["count"])] for r in capa["opened_by_source"]]
                    + [[f"Effectiveness checks {r['result']}", _cell(r["count"])] for r in capa["effectiveness_checks"]]))
    training = pack["training"]
    sections.append((titles["training"], [["Department", "Compliance %", "Overdue"],
                     ["All", _cell(training["compliance_rate"]), _cell(training["overdue"])]]
                    + [[r["department"], _cell(r["rate"]), _cell(r["overdue"])] for r in training["by_department"]]))
    sections.append((titles["documents_overdue_review"], [["Document", "Title", "Review due"]] + [
        [d["number"], d["title"], _cell(d["next_review_due"])] for d in pack["documents_overdue_review"]
    ]))
    sections.append((titles["alerts"], [["KPI", "Raised", "Value", "Threshold", "Status", "CAPA"]] + [
        [a["kpi"], a["raised_at"][:16].replace("T", " "), _cell(a["value"]), _cell(a["threshold"]), a["status"], a["capa"]]
        for a in pack["alerts"]
    ]))
    sections.append(("Decisions and actions (9.3.3)", [["Kind", "Output", "Description", "Owner", "Due", "Status", "Completed", "CAPA"]] + [
        [i.get_kind_display(), i.get_category_display(), i.description, i.owner.get_full_name() if i.owner else "",
         _cell(i.due_date), i.get_status_display(), f"{timezone.localtime(i.completed_at):%Y-%m-%d}" if i.completed_at else "",
         i.capa.reference if i.capa else ""]
        for i in items
    ]))
    return sections


def _safe(value: str) -> str:
    # Spreadsheet formula injection: a cell starting with = + - @ is read as text.
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def review_csv(review, pack, items) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    for title, rows in review_rows(review, pack, items):
        writer.writerow([title])
        for row in rows:
            writer.writerow([_safe(str(c)) for c in row])
        writer.writerow([])
    return out.getvalue().encode("utf-8-sig")


def review_xlsx(review, pack, items) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = review.reference[:31]
    row_number = 1
    for title, rows in review_rows(review, pack, items):
        sheet.cell(row=row_number, column=1, value=title).font = Font(bold=True, size=12)
        row_number += 1
        for index, row in enumerate(rows):
            for column, value in enumerate(row, start=1):
                cell = sheet.cell(row=row_number, column=column, value=_safe(str(value)))
                if index == 0:
                    cell.font = Font(bold=True)
            row_number += 1
        row_number += 1
    for column, width in zip("ABCDEFGH", (34, 40, 40, 18, 14, 14, 14, 14), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def review_pdf(review, pack, items, *, organisation: str) -> bytes:
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm, bottomMargin=15 * mm,
                            title=f"{review.reference} management review", author=organisation)
    story = [Paragraph(escape(f"{organisation}: management review {review.reference}"), styles["Title"]),
             Paragraph(escape(review.title), styles["Heading2"])]
    for title, rows in review_rows(review, pack, items):
        story.append(Paragraph(escape(title), styles["Heading3"]))
        if len(rows) == 1:
            story.append(Paragraph("None in this period.", small))
            continue
        data = [[Paragraph(escape(str(c)), small) for c in row] for row in rows]
        table = Table(data, repeatRows=1, colWidths=[doc.width / len(rows[0])] * len(rows[0]))
        table.setStyle(TableStyle([
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e4eefb")),
            ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#c7cfda")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]))
        story += [table, Spacer(1, 4 * mm)]
    story.append(Paragraph(escape(f"Exported {timezone.localtime():%Y-%m-%d %H:%M %Z}"), small))
    doc.build(story)
    return out.getvalue()


# --- the alert list (issue 18 item 6) ----------------------------------------------------------

ALERT_COLUMNS = [
    Column("Alert", lambda a: a.pk),
    Column("KPI", lambda a: KPI_BY_CODE[a.kpi].label),
    Column("Value", lambda a: format_value(KPI_BY_CODE[a.kpi], a.value)),
    Column("Threshold", lambda a: float(a.threshold)),
    Column("Status", lambda a: a.get_status_display()),
    Column("Raised", lambda a: a.raised_at),
    Column("Cleared", lambda a: a.cleared_at),
    Column("CAPA", lambda a: a.capa.reference if a.capa_id else ""),
]
