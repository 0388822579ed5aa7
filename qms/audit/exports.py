"""Exports for auditors: the filtered trail as CSV and PDF, and a record's dossier as PDF.

Each export states what it contains: the filter, when it was made, by whom, and the result of
the last verification of the hash chains, so a printed copy is evidence on its own.

A record's dossier is built from sections. Every record gets its fields, history, signatures
and workflow transitions, the records its foreign keys name and the files attached to it; a
model's app may add its own sections with `qms.extensions.register_dossier_sections(model,
function)`, `function(record) -> list[DossierSection]` (e.g. a complaint's CAPAs and customer
communications).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.text import capfirst
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from qms.audit.display import EMPTY, RelatedResolver, display_value, format_datetime
from qms.extensions import dossier_sections_for
from qms.signatures import content_hash, signed_content

CSV_CHUNK = 500
PDF_MAX_ENTRIES = 5000  # beyond this the PDF says so and the CSV is the export to use
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class DossierSection:
    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    empty: str = "None."
    widths: list[float] | None = None  # shares of the page width per column (default: even)


# ---------------------------------------------------------------- verification wording


def verification_text(verification) -> str:
    if verification is None:
        return "Not verified yet: run `manage.py verify_audit_trail` (it also runs nightly)."
    when = format_datetime(verification.finished_at or verification.started_at)
    if verification.is_intact:
        return f"Intact: every hash chain verified on {when} ({verification.tables_checked} tables, {verification.rows_checked} entries)."
    first = verification.first_break or {}
    text = (
        f"BROKEN on {when}: {len(verification.breaks)} break(s); first in table {first.get('table')}, row {first.get('row_id')}, "
        f"record {first.get('record_model') or '-'} #{first.get('record_id')}, entry of {first.get('at') or 'unknown time'}: {first.get('message')}"
    )
    acknowledgement = getattr(verification, "acknowledgement", None)
    if acknowledgement is not None:
        text += (
            f" Acknowledged by {acknowledgement.acknowledged_by.full_name} on {format_datetime(acknowledgement.acknowledged_at)} "
            f"with an electronic signature: {acknowledgement.reason}"
        )
    return text


def exporter_text(user) -> str:
    return f"{user.full_name} ({user.get_username()})"


# ---------------------------------------------------------------- CSV

CSV_HEADER = [
    "at",
    "user",
    "user_name",
    "action",
    "record_type",
    "record_id",
    "record",
    "field",
    "old",
    "new",
    "reason",
    "kind",
    "detail",
]


def spreadsheet_text(value) -> str:
    """A value as the text of a CSV or XLSX cell. Spreadsheets run cells that start like a
    formula (CSV injection); those are quoted as text. Every export of the product uses this."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


_cell = spreadsheet_text


class _Echo:
    def write(self, value):
        return value


def trail_csv_rows(trail, *, trail_filter=None, user=None, verification=None):
    """Lines of the CSV export, produced page by page (a fixed number of queries per page)."""
    writer = csv.writer(_Echo())
    if user is not None:
        yield writer.writerow(["QMS audit trail export"])
        yield writer.writerow(["Filter", trail_filter.describe() if trail_filter else ""])
        yield writer.writerow(["Exported at", format_datetime(timezone.now())])
        yield writer.writerow(["Exported by", exporter_text(user)])
        yield writer.writerow(["Verification", verification_text(verification)])
        yield writer.writerow([])
    yield writer.writerow(CSV_HEADER)
    # Read by cursor, CSV_CHUNK entries at a time: each chunk costs the same however deep.
    for entry in trail.iter_entries(chunk=CSV_CHUNK):
        base = [
            entry.at.isoformat(),
            entry.username,
            entry.user_name,
            entry.action,
            entry.model,
            entry.object_id,
            entry.object_repr,
        ]
        tail = [entry.reason, entry.kind, entry.detail]
        if entry.changes:
            for change in entry.changes:
                yield writer.writerow(
                    [
                        _cell(v)
                        for v in (
                            *base,
                            change.label,
                            change.old_display,
                            change.new_display,
                            *tail,
                        )
                    ]
                )
        else:
            yield writer.writerow([_cell(v) for v in (*base, "", "", "", *tail)])


# ---------------------------------------------------------------- PDF building blocks

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


# ---------------------------------------------------------------- trail PDF


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


# ---------------------------------------------------------------- dossier


def record_resolver(record) -> RelatedResolver:
    """The objects the record's foreign keys name, fetched together (one query, two when
    their names need their own foreign keys), with the record's caches filled from them."""
    resolver = RelatedResolver()
    resolver.add_known(record)
    for f in record._meta.concrete_fields:
        if f.is_relation:
            resolver.want(f.related_model, getattr(record, f.attname))
    resolver.resolve()
    return resolver


def record_fields_section(record, resolver: RelatedResolver | None = None) -> DossierSection:
    resolver = resolver or record_resolver(record)
    concrete = [f for f in record._meta.concrete_fields if f.name not in {"password"}]
    rows = [
        [capfirst(f.verbose_name), display_value(f, getattr(record, f.attname), resolver)]
        for f in concrete
    ]
    return DossierSection("Record", ["Field", "Value"], rows)


def linked_records_section(record, resolver: RelatedResolver | None = None) -> DossierSection:
    """What the record names: its foreign keys and many-to-many fields (the foreign keys from
    the resolver's objects, not one query each)."""
    resolver = resolver or record_resolver(record)
    rows = []
    for f in record._meta.get_fields():
        if f.many_to_many and not f.auto_created:
            for obj in getattr(record, f.name).all():
                rows.append([capfirst(f.verbose_name), capfirst(obj._meta.verbose_name), str(obj)])
        elif f.concrete and f.is_relation and getattr(record, f.attname) is not None:
            obj = resolver.get(f.related_model, getattr(record, f.attname))
            if obj is None:
                obj = getattr(record, f.name)
            rows.append([capfirst(f.verbose_name), capfirst(obj._meta.verbose_name), str(obj)])
    return DossierSection("Linked records", ["Link", "Record type", "Record"], rows)


def attachments_section(record) -> DossierSection:
    """Files of the record's file: held by records that point at this one (any reverse relation
    with a file field) or filed under it further down (a CAPA action's evidence,
    registry.trail_children), each with its size, SHA-256, uploader and time, so a reader can
    check a copy of the file against the dossier."""
    from qms.audit import registry

    sources = []
    for rel in record._meta.related_objects:
        if not rel.many_to_many and _file_fields(rel.related_model):
            sources.append((rel.related_model, rel.field.name))
    direct = {model for model, _lookup in sources}
    for child, lookup in registry.trail_children(record._meta.label_lower):
        if child not in direct and _file_fields(child):
            sources.append((child, lookup))
    # One query for every source's rows and the people who uploaded them (bulk_rows).
    from django.db.models import Q

    from qms.audit.rows import RowRequest, bulk_rows

    requests, people_match, user_model = [], Q(pk__in=[]), None
    uploaders = {}
    for index, (model, lookup) in enumerate(sources):
        queryset = model._base_manager.filter(**{lookup: record.pk})
        requests.append(RowRequest(index, queryset))
        uploader = next((f for f in ("uploaded_by", "author", "created_by") if _has_field(model, f)), None)
        uploaders[index] = uploader
        if uploader:
            user_model = model._meta.get_field(uploader).related_model
            people_match |= Q(pk__in=queryset.values(f"{uploader}_id"))
    if user_model is not None:
        requests.append(RowRequest("people", user_model._base_manager.filter(people_match)))
    fetched = bulk_rows(requests)
    people = {person.pk: person for person, _extra in fetched.get("people", [])}
    rows = []
    for index, (model, _lookup) in enumerate(sources):
        file_fields = _file_fields(model)
        uploader = uploaders[index]
        for obj in sorted((row for row, _extra in fetched.get(index, [])), key=lambda o: o.pk):
            for f in file_fields:
                stored = getattr(obj, f.name)
                if not stored:
                    continue
                who = people.get(getattr(obj, f"{uploader}_id")) if uploader else None
                when = getattr(obj, "uploaded_at", None)
                rows.append(
                    [
                        capfirst(model._meta.verbose_name),
                        getattr(obj, "original_name", "") or Path(stored.name).name,
                        f"{obj.size:,} bytes" if getattr(obj, "size", None) is not None else EMPTY,
                        getattr(obj, "sha256", "") or EMPTY,
                        " ".join(
                            part
                            for part in (
                                who.full_name if who is not None else "",
                                format_datetime(when) if when else "",
                            )
                            if part
                        )
                        or EMPTY,
                    ]
                )
    return DossierSection(
        "Attachments",
        ["Kind", "File", "Size", "SHA-256", "Uploaded"],
        rows,
        empty="No files attached.",
        widths=[0.14, 0.22, 0.12, 0.3, 0.22],
    )


def _file_fields(model) -> list:
    return [f for f in model._meta.concrete_fields if isinstance(f, models.FileField)]


def _has_field(model, name: str) -> bool:
    try:
        model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True


def dossier_sections(record) -> list[DossierSection]:
    resolver = record_resolver(record)
    sections = [
        record_fields_section(record, resolver),
        linked_records_section(record, resolver),
        attachments_section(record),
    ]
    for section in dossier_sections_for(record):
        sections.append(section if isinstance(section, DossierSection) else DossierSection(**section))
    return sections


def file_history(record, *, limit: int = 10_000):
    """The history entries of the records filed under `record` (its attachments,
    communications ...: registry.trail_children), newest first; None for a record type that has
    no children or no human key. Read through the audit trail's record filter, so they are the
    trail's own entries and diffs."""
    from qms.audit import registry
    from qms.audit.selectors import AuditTrail, TrailFilter

    label = record._meta.label_lower
    keys = registry.unique_text_fields(type(record))
    if not registry.trail_children(label) or not keys:
        return None
    trail = AuditTrail(TrailFilter(record=getattr(record, keys[0])))
    return [
        entry
        for entry in trail.iter_entries(limit=limit)
        if entry.kind == "history" and entry.parent_model == label and entry.parent_id == record.pk
    ]


def dossier_pdf(record, *, user, verification) -> bytes:
    from qms.audit.selectors import record_history, signatures_and_transitions

    styles = _styles()
    buffer = io.BytesIO()
    page = A4
    title = f"Dossier: {record._meta.verbose_name} {record}"
    doc = SimpleDocTemplate(
        buffer,
        pagesize=page,
        leftMargin=14 * mm,
        rightMargin=14 * mm,
        topMargin=14 * mm,
        bottomMargin=16 * mm,
        title=title,
        author=exporter_text(user),
    )
    width = page[0] - doc.leftMargin - doc.rightMargin
    story = [
        _p(f"Record dossier: {capfirst(record._meta.verbose_name)} {record}", styles["title"]),
        _meta_table(
            [
                ("Organisation", settings.QMS_ORGANISATION_NAME),
                (
                    "Record",
                    f"{capfirst(record._meta.verbose_name)} #{record.pk} ({record._meta.label_lower})",
                ),
                ("Exported at", format_datetime(timezone.now())),
                ("Exported by", exporter_text(user)),
                ("Verification", _verification_paragraph(verification, styles)),
            ],
            styles,
            width,
        ),
    ]
    for section in dossier_sections(record):
        story.append(_p(section.title, styles["h2"]))
        if section.rows:
            share = width / len(section.columns)
            if section.widths:
                widths = [width * f for f in section.widths]
            elif len(section.columns) == 2:
                widths = [width * 0.3, width * 0.7]
            else:
                widths = [share] * len(section.columns)
            story.append(_data_table(section.columns, section.rows, widths, styles))
        else:
            story.append(_p(section.empty, styles["body"]))

    story.append(_p("History", styles["h2"]))
    history = record_history(record, limit=10_000)
    if history:
        rows = [
            [
                format_datetime(e.at),
                e.user_name,
                e.action_label,
                _changes_text(e) or EMPTY,
                e.reason,
            ]
            for e in history
        ]
        story.append(
            _data_table(
                ["When", "Who", "Action", "What changed", "Why"],
                rows,
                [width * f for f in (0.17, 0.13, 0.11, 0.37, 0.22)],
                styles,
            )
        )
    else:
        story.append(_p("No history.", styles["body"]))

    children = file_history(record)
    if children is not None:
        story.append(_p("History of the records filed under it", styles["h2"]))
        if children:
            rows = [
                [
                    format_datetime(e.at),
                    e.user_name,
                    e.action_label,
                    f"{e.model_label}: {e.object_repr}",
                    _changes_text(e) or EMPTY,
                    e.reason,
                ]
                for e in children
            ]
            story.append(
                _data_table(
                    ["When", "Who", "Action", "Record", "What changed", "Why"],
                    rows,
                    [width * f for f in (0.15, 0.12, 0.1, 0.17, 0.28, 0.18)],
                    styles,
                )
            )
        else:
            story.append(_p("None.", styles["body"]))

    story.append(_p("Electronic signatures", styles["h2"]))
    # The signatures, workflow steps and their people in one query.
    signatures, transitions = signatures_and_transitions(record)
    if signatures:
        current = content_hash(signed_content(record))
        rows = [
            [
                format_datetime(s.signed_at),
                f"{s.signer_name}\n{s.signer.get_username()}",
                s.meaning,
                s.reason,
                f"SHA-256 {s.content_hash}\n"
                + ("hash still matches the signed content" if s.hash_matches else "HASH MISMATCH")
                + (
                    "; record unchanged since signing"
                    if s.content_hash == current
                    else "; record changed since signing"
                ),
            ]
            for s in signatures
        ]
        story.append(
            _data_table(
                ["Signed at", "Signer", "Meaning", "Reason", "Content hash"],
                rows,
                [width * f for f in (0.16, 0.15, 0.14, 0.2, 0.35)],
                styles,
            )
        )
    else:
        story.append(_p("No electronic signatures.", styles["body"]))

    story.append(_p("Workflow transitions", styles["h2"]))
    if transitions:
        rows = [
            [
                format_datetime(t.at),
                t.actor.full_name,
                t.action.replace("_", " "),
                f"{t.from_state} -> {t.to_state}",
                t.reason,
                "yes" if t.signature_id else "",
            ]
            for t in transitions
        ]
        story.append(
            _data_table(
                ["At", "By", "Action", "State", "Reason", "Signed"],
                rows,
                [width * f for f in (0.17, 0.15, 0.13, 0.2, 0.27, 0.08)],
                styles,
            )
        )
    else:
        story.append(_p("No workflow transitions.", styles["body"]))
    doc.build(story, onFirstPage=_footer(title), onLaterPages=_footer(title))
    return buffer.getvalue()
