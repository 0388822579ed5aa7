"""CSV and XLSX of a filtered list (issue 18 item 6): the complaint, CAPA, document, training
assignment and KPI alert lists answer `?export=csv` or `?export=xlsx` with the rows their
filters select (all of them, not one page), in the list's order.

The rows are read by cursor, a chunk at a time (a fixed number of queries per chunk), and both
formats are streamed as they are written (the XLSX by qms.xlsxstream, docs/decisions/0045), so a
100,000-row export neither waits nor fills the memory. The XLSX stops at XLSX_MAX_ROWS rows and
says so in its last row. Text cells that a spreadsheet would run as a formula are quoted, as in
the audit trail's export (qms.audit.exports.spreadsheet_text).

The response announces the number of rows it will hold (X-Total-Count, header row not counted),
one COUNT before the rows are read: the page's script (static/qms/exports.js) shows the
download's progress against it. An unknown format or filters that do not validate are refused
with 400 and nothing is exported (a list whose filters were dropped is not the list asked for)."""

from __future__ import annotations

import csv
import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.text import get_text_list

from qms.audit.exports import spreadsheet_text
from qms.xlsxstream import stream_xlsx

EXPORT_FORMATS = ("csv", "xlsx")
CHUNK = 500
XLSX_MAX_ROWS = 100_000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Any], Any]


def export_format(request) -> str | None:
    """What ?export= asks for, else None: the page itself. A format other than csv or xlsx is
    returned too, for list_export to refuse."""
    return request.GET.get("export") or None


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


def _refuse(request, message: str) -> HttpResponse:
    return render(request, "400.html", {"exception": message}, status=400)


def _filter_errors(filterset) -> str:
    form = filterset.form
    return "; ".join(
        f"{form.fields[name].label or name if name in form.fields else name}: {' '.join(errors)}"
        for name, errors in form.errors.items()
    )


def _total(queryset) -> int:
    if hasattr(queryset, "order_by"):
        return queryset.order_by().count()
    return len(queryset)


def list_export(
    queryset, columns: list[Column], *, name: str, fmt: str, request=None, filterset=None
) -> HttpResponse:
    """The response for ?export=<fmt> of a list: `queryset` is what the list's filters select,
    `filterset` (if any) the filters, refused with 400 when they do not validate."""
    if fmt not in EXPORT_FORMATS:
        return _refuse(
            request,
            f"There is no export as {fmt[:20]!r}: ask for {get_text_list(EXPORT_FORMATS, 'or')}.",
        )
    if filterset is not None and filterset.is_bound and not filterset.is_valid():
        return _refuse(request, f"Nothing was exported: the filters are not valid ({_filter_errors(filterset)}).")
    filename = f"{name}-{timezone.localtime():%Y%m%d-%H%M}.{fmt}"
    header = [column.header for column in columns]
    total = _total(queryset)
    if fmt == "csv":
        writer = csv.writer(_Echo())

        def lines():
            yield writer.writerow(header)
            for row in _rows(queryset, columns):
                yield writer.writerow([_csv_text(v) for v in row])

        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    else:
        total = min(total, XLSX_MAX_ROWS)
        response = StreamingHttpResponse(
            stream_xlsx(header, _capped(_rows(queryset, columns)), title=name),
            content_type=XLSX_TYPE,
        )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["X-Total-Count"] = str(total)
    response["Cache-Control"] = "no-store"
    return response


def _capped(rows: Iterable[list]) -> Iterable[list]:
    for count, row in enumerate(rows, start=1):
        if count > XLSX_MAX_ROWS:
            yield [f"Stopped at {XLSX_MAX_ROWS:,} rows: export CSV for the whole list."]
            return
        yield row
