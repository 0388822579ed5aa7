"""The document register as CSV and XLSX (issue 18 item 6)."""

from qms.listexport import Column

DOCUMENT_COLUMNS = [
    Column("Number", lambda d: d.number),
    Column("Title", lambda d: d.title),
    Column("Type", lambda d: d.get_doc_type_display()),
    Column("Owner", lambda d: d.owner.full_name if d.owner_id else ""),
    Column("Department", lambda d: d.department.name if d.department_id else ""),
    Column(
        "Effective revision",
        lambda d: d.effective_version.revision if d.effective_version_id else "",
    ),
    Column(
        "Effective from",
        lambda d: d.effective_version.effective_from if d.effective_version_id else None,
    ),
    Column("Revision in progress", lambda d: getattr(d, "open_revision", None) or ""),
    Column("Review period (months)", lambda d: d.review_period_months),
    Column("Next review due", lambda d: d.next_review_due),
]
