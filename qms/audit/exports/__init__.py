"""Exports for auditors: the filtered trail as CSV and PDF, and a record's dossier as PDF.

Each export states what it contains: the filter, when it was made, by whom, and the result of
the last verification of the hash chains, so a printed copy is evidence on its own.

A record's dossier is built from sections. Every record gets its fields, history, signatures
and workflow transitions, the records its foreign keys name and the files attached to it; a
model's app may add its own sections with `qms.extensions.register_dossier_sections(model,
function)`, `function(record) -> list[DossierSection]` (e.g. a complaint's CAPAs and customer
communications).

The package is split by subject: `text` (the wording every export shares), `trail_csv`,
`pdf` (the PDF building blocks), `trail_pdf` and `dossier`; every name is importable from
`qms.audit.exports` as before.
"""

from qms.audit.exports.dossier import (
    DossierSection,
    attachments_section,
    dossier_pdf,
    dossier_sections,
    file_history,
    linked_records_section,
    record_fields_section,
    record_resolver,
)
from qms.audit.exports.pdf import FONT_DIRS, PDF_VALUE_CHARS, TABLE_STYLE
from qms.audit.exports.text import (
    FORMULA_PREFIXES,
    exporter_text,
    spreadsheet_text,
    verification_text,
)
from qms.audit.exports.trail_csv import CSV_CHUNK, CSV_HEADER, trail_csv_rows
from qms.audit.exports.trail_pdf import PDF_MAX_ENTRIES, trail_pdf

__all__ = [
    "CSV_CHUNK",
    "CSV_HEADER",
    "FONT_DIRS",
    "FORMULA_PREFIXES",
    "PDF_MAX_ENTRIES",
    "PDF_VALUE_CHARS",
    "TABLE_STYLE",
    "DossierSection",
    "attachments_section",
    "dossier_pdf",
    "dossier_sections",
    "exporter_text",
    "file_history",
    "linked_records_section",
    "record_fields_section",
    "record_resolver",
    "spreadsheet_text",
    "trail_csv_rows",
    "trail_pdf",
    "verification_text",
]
