"""CSV and XLSX of a filtered list (issue 18 item 6): the complaint, CAPA, document, training
assignment and KPI alert lists answer `?export=csv` or `?export=xlsx` with the rows their
filters select (all of them, not one page), in the list's order.

The rows are read by cursor, a chunk at a time (a fixed number of queries per chunk), and the
CSV is streamed as it is written, so a 100,000-row export neither waits nor fills the memory.
The XLSX is written in openpyxl's write-only mode (row by row, to a temporary file) and sent
when complete; it stops at XLSX_MAX_ROWS rows and says so in its last row. Text cells that a
spreadsheet would run as a formula are quoted, as in the audit trail's export
(qms.audit.exports.spreadsheet_text)."""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone

from qms.audit.exports import spreadsheet_text

EXPORT_FORMATS = ("csv", "xlsx")
CHUNK = 500
XLSX_MAX_ROWS = 100_000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Any], Any]


def export_format(request) -> str | None:
    """The format asked for (csv or xlsx) by ?export=, else None: the page itself."""
    fmt = request.GET.get("export", "")
    return fmt if fmt in EXPORT_FORMATS else None


def _plain(value):
    """A cell's value: numbers stay numbers, times are local wall-clock times, text is quoted
    where it could run as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    if isinstance(value, datetime.datetime):
        return (
            timezone.localtime(value).replace(tzinfo=None, microsecond=0)
            if timezone.is_aware(value)
            else value
        )
    if isinstance(value, datetime.date):
        return value
    return spreadsheet_text(value)


def _rows(queryset, columns: list[Column]) -> Iterable[list]:
    rows = queryset.iterator(chunk_size=CHUNK) if hasattr(queryset, "iterator") else iter(queryset)
    for obj in rows:
        yield [_plain(column.value(obj)) for column in columns]


class _Echo:
    def write(self, value):
        return value


def _csv_text(value):
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def list_export(queryset, columns: list[Column], *, name: str, fmt: str) -> HttpResponse:
    """The response for ?export=<fmt> of a list: `queryset` is what the list's filters select."""
    filename = f"{name}-{timezone.localtime():%Y%m%d-%H%M}.{fmt}"
    header = [column.header for column in columns]
    if fmt == "csv":
        writer = csv.writer(_Echo())

        def lines():
            yield writer.writerow(header)
            for row in _rows(queryset, columns):
                yield writer.writerow([_csv_text(v) for v in row])

        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(_xlsx(queryset, columns, header, name), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _xlsx(queryset, columns, header, title) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append(header)
    for count, row in enumerate(_rows(queryset, columns), start=1):
        if count > XLSX_MAX_ROWS:
            sheet.append([f"Stopped at {XLSX_MAX_ROWS:,} rows: export CSV for the whole list."])
            break
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
