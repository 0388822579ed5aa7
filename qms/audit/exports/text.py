"""The wording every audit export shares: the verification result, who exported, and the
text of a spreadsheet cell."""

from __future__ import annotations

from qms.audit.display import format_datetime

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def verification_text(verification) -> str:
    if verification is None:
        return "Not verified yet: run `manage.py verify_audit_trail` (it also runs nightly)."
    when = format_datetime(verification.finished_at or verification.started_at)
    if verification.is_intact:
        if verification.kind == "incremental":
            return (
                f"Intact: every hash chain verified on {when} (incremental: {verification.tables_checked} tables, "
                f"{verification.rows_checked} entries re-hashed from the last anchors on, of {verification.rows_in_chains})."
            )
        return f"Intact: every hash chain verified on {when} (full: {verification.tables_checked} tables, {verification.rows_checked} entries)."
    first = verification.first_break or {}
    text = (
        f"BROKEN on {when} ({verification.kind} run): {len(verification.breaks)} break(s); first in table {first.get('table')}, row {first.get('row_id')}, "
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


def spreadsheet_text(value) -> str:
    """A value as the text of a CSV or XLSX cell. Spreadsheets run cells that start like a
    formula (CSV injection); those are quoted as text. Every export of the product uses this."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text
