"""The CAPA list as CSV and XLSX (issue 18 item 6)."""

from qms.listexport import Column

CAPA_COLUMNS = [
    Column("Reference", lambda c: c.reference),
    Column("Title", lambda c: c.title),
    Column("Kind", lambda c: c.get_kind_display()),
    Column("Source", lambda c: c.get_source_display()),
    Column("Status", lambda c: c.get_status_display()),
    Column("Risk", lambda c: c.get_risk_level_display()),
    Column("Owner", lambda c: c.owner.full_name if c.owner_id else ""),
    Column("Due date", lambda c: c.due_date),
    Column("Overdue", lambda c: c.is_overdue),
    Column("Created", lambda c: c.created_at),
    Column("Closed", lambda c: c.closed_at),
    Column("Problem statement", lambda c: c.problem_statement),
]
