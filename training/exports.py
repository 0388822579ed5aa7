"""The training matrix as CSV and XLSX (openpyxl), from the same Matrix the page shows."""

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from qms.listexport import Column
from training.selectors import CURRENT, DUE, MISSING, OVERDUE, SUPERSEDED

FILLS = {
    CURRENT: "C6EFCE",
    DUE: "FFEB9C",
    OVERDUE: "FFC7CE",
    MISSING: "F4B6B0",
    SUPERSEDED: "DDEBF7",
}


def _cell_text(cell) -> str:
    if cell is None:
        return ""
    text = cell.state
    if cell.is_waived:
        text += " (waived)"
    if cell.due_date and cell.state != CURRENT:
        text += f" {cell.due_date:%Y-%m-%d}"
    return text


def _header(matrix) -> list[str]:
    return ["User", "Name", "Department", "Job function", "Compliance %"] + [
        f"{c.document.number} rev {c.revision}" for c in matrix.columns
    ]


def _row(row) -> list:
    user = row.user
    return [
        user.username,
        user.full_name,
        user.department.name if user.department_id else "",
        user.job_function,
        row.compliance if row.compliance is not None else "",
    ] + [_cell_text(cell) for cell in row.cells]


def _safe(values) -> list:
    """Neutralise spreadsheet formulas in text typed by people (CSV/XLSX injection)."""
    return [
        ("'" + v) if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") else v for v in values
    ]


class _Echo:
    def write(self, value):
        return value


def matrix_csv_lines(matrix, rows=None):
    """The CSV, line by line (streamed: the whole matrix, not one page of it)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(_safe(_header(matrix)))
    for row in matrix.rows if rows is None else rows:
        yield writer.writerow(_safe(_row(row)))


def matrix_csv(matrix, rows=None) -> str:
    return "".join(matrix_csv_lines(matrix, rows))


def matrix_xlsx(matrix, rows=None) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Training matrix"
    sheet.append(_safe(_header(matrix)))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    first_doc_col = 6
    for row in matrix.rows if rows is None else rows:
        sheet.append(_safe(_row(row)))
        r = sheet.max_row
        for i, cell in enumerate(row.cells):
            if cell is not None:
                sheet.cell(row=r, column=first_doc_col + i).fill = PatternFill(
                    "solid", fgColor=FILLS[cell.state]
                )
    for index in range(1, sheet.max_column + 1):
        sheet.column_dimensions[get_column_letter(index)].width = 22 if index <= 5 else 16
    sheet.freeze_panes = "F2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- the assignment list (issue 18 item 6) -----------------------------------------------------

ASSIGNMENT_COLUMNS = [
    Column("User", lambda a: a.user.username),
    Column("Name", lambda a: a.user.full_name),
    Column("Document", lambda a: a.document_version.document.number),
    Column("Title", lambda a: a.document_version.document.title),
    Column("Revision", lambda a: a.document_version.revision),
    Column("Status", lambda a: a.get_status_display()),
    Column("Due date", lambda a: a.due_date),
    Column("Completed", lambda a: a.completed_at),
]
