"""The complaint list as CSV and XLSX (issue 18 item 6), with the columns of the page and what a
spreadsheet needs besides (lot, UDI, dates)."""

from qms.listexport import Column


def _name(user):
    return user.full_name if user is not None else ""


COMPLAINT_COLUMNS = [
    Column("Reference", lambda c: c.reference),
    Column("Title", lambda c: c.title),
    Column("Status", lambda c: c.get_status_display()),
    Column("Severity", lambda c: c.get_severity_display()),
    Column("Channel", lambda c: c.get_channel_display()),
    Column("Customer", lambda c: c.customer.name),
    Column("Organisation", lambda c: c.customer.organisation),
    Column("Product", lambda c: c.product.code if c.product_id else ""),
    Column("Category", lambda c: c.category.name if c.category_id else ""),
    Column("Lot / serial number", lambda c: c.lot_number),
    Column("UDI", lambda c: c.udi),
    Column("Assignee", lambda c: _name(c.assignee)),
    Column("Received", lambda c: c.received_at),
    Column("Next deadline", lambda c: getattr(c, "next_deadline", None)),
    Column("Overdue", lambda c: bool(getattr(c, "is_overdue", False))),
    Column("Escalation level", lambda c: c.escalation_level),
    Column("Recurring", lambda c: c.is_recurring),
    Column("Resolved", lambda c: c.resolved_at),
    Column("Closed", lambda c: c.closed_at),
]
