"""The PDF building blocks of the audit exports (reportlab): fonts, styles, tables, the
footer, the verification paragraph and the text of an entry's changes."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

from django.conf import settings
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import LongTable, Paragraph, Table, TableStyle

from qms.audit.exports.text import verification_text

FONT_DIRS = ("/usr/share/fonts/truetype/dejavu",)


def _fonts() -> tuple[str, str]:
    """DejaVu Sans when the system has it (it prints every character an entry may hold),
    else the PDF standard Helvetica."""
    if "QmsSans" in pdfmetrics.getRegisteredFontNames():
        return "QmsSans", "QmsSans-Bold"
    for folder in FONT_DIRS:
        regular, bold = Path(folder, "DejaVuSans.ttf"), Path(folder, "DejaVuSans-Bold.ttf")
        if regular.exists() and bold.exists():
            pdfmetrics.registerFont(TTFont("QmsSans", str(regular)))
            pdfmetrics.registerFont(TTFont("QmsSans-Bold", str(bold)))
            return "QmsSans", "QmsSans-Bold"
    return "Helvetica", "Helvetica-Bold"


def _styles():
    regular, bold = _fonts()
    base = getSampleStyleSheet()
    return {
        "title": ParagraphStyle(
            "t", parent=base["Title"], fontName=bold, fontSize=16, alignment=TA_LEFT, spaceAfter=4
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=base["Heading2"],
            fontName=bold,
            fontSize=11.5,
            spaceBefore=10,
            spaceAfter=4,
            keepWithNext=1,
        ),
        "body": ParagraphStyle(
            "b", parent=base["BodyText"], fontName=regular, fontSize=8.5, leading=10.5
        ),
        "small": ParagraphStyle(
            "s", parent=base["BodyText"], fontName=regular, fontSize=7.5, leading=9.5
        ),
        "cell_bold": ParagraphStyle(
            "cb", parent=base["BodyText"], fontName=bold, fontSize=7.5, leading=9.5
        ),
        "bad": ParagraphStyle(
            "bad",
            parent=base["BodyText"],
            fontName=bold,
            fontSize=8.5,
            leading=10.5,
            textColor=colors.HexColor("#b42318"),
        ),
        "ok": ParagraphStyle(
            "ok",
            parent=base["BodyText"],
            fontName=bold,
            fontSize=8.5,
            leading=10.5,
            textColor=colors.HexColor("#1e7b45"),
        ),
        "fonts": (regular, bold),
    }


def _p(text, style) -> Paragraph:
    return Paragraph(escape("" if text is None else str(text)).replace("\n", "<br/>"), style)


TABLE_STYLE = [
    ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#c7cfda")),
    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f7")),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("LEFTPADDING", (0, 0), (-1, -1), 3),
    ("RIGHTPADDING", (0, 0), (-1, -1), 3),
]


def _meta_table(pairs, styles, width) -> Table:
    rows = [
        [
            _p(label, styles["cell_bold"]),
            value if isinstance(value, Paragraph) else _p(value, styles["body"]),
        ]
        for label, value in pairs
    ]
    table = Table(rows, colWidths=[32 * mm, width - 32 * mm])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#dfe4eb")),
            ]
        )
    )
    return table


def _data_table(columns, rows, widths, styles) -> LongTable:
    data = [[_p(c, styles["cell_bold"]) for c in columns]]
    data += [
        [cell if isinstance(cell, Paragraph) else _p(cell, styles["small"]) for cell in row]
        for row in rows
    ]
    table = LongTable(data, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle(TABLE_STYLE))
    return table


def _footer(title):
    def draw(canvas, doc):
        canvas.saveState()
        regular, _bold = _fonts()
        canvas.setFont(regular, 7)
        canvas.setFillColor(colors.HexColor("#5b6676"))
        canvas.drawString(doc.leftMargin, 8 * mm, f"{settings.QMS_ORGANISATION_NAME} · {title}")
        canvas.drawRightString(doc.pagesize[0] - doc.rightMargin, 8 * mm, f"Page {doc.page}")
        canvas.restoreState()

    return draw


def _verification_paragraph(verification, styles) -> Paragraph:
    style = styles["ok"] if verification is not None and verification.is_intact else styles["bad"]
    return _p(verification_text(verification), style)


# A PDF table cell cannot be taller than a page: long values (a document's whole text) are cut
# in the PDF; the CSV export and the record page carry them in full.
PDF_VALUE_CHARS = 300


def _cut(value) -> str:
    text = str(value)
    return text if len(text) <= PDF_VALUE_CHARS else text[:PDF_VALUE_CHARS] + " [...]"


def _changes_text(entry) -> str:
    lines = [
        f"{c.label}: {_cut(c.old_display) + ' -> ' if c.old_display else ''}{_cut(c.new_display)}"
        for c in entry.changes[:40]
    ]
    if len(entry.changes) > 40:
        lines.append(f"... and {len(entry.changes) - 40} more fields (see the CSV export)")
    if entry.kind == "signature":
        state = "hash still matches" if entry.hash_matches else "HASH MISMATCH"
        lines.append(f"{entry.detail}; SHA-256 {entry.content_hash} ({state})")
    elif entry.detail:
        lines.append(entry.detail)
    elif entry.kind == "history" and not lines:
        lines.append("No field changed.")
    return "\n".join(lines)
