"""The streamed XLSX (qms/xlsxstream.py, docs/decisions/0045): bytes leave before the rows are all
read, the workbook opens in openpyxl with its types (numbers, dates, date-times, text), text that
XML cannot carry or Excel cannot hold is made safe, and the export's row cap still holds. No
database: list_export takes any sized iterable of rows."""

import datetime
import io

from openpyxl import load_workbook

from bench.export_xlsx import Rows  # sized, read once: as list_export sees a queryset
from qms import listexport, xlsxstream
from qms.listexport import Column, list_export


def workbook(data: bytes):
    return load_workbook(io.BytesIO(data)).active


def test_cells_keep_their_types_and_text_is_made_safe():
    when = datetime.datetime(2026, 3, 29, 2, 30)  # a wall-clock time (Europe's spring-forward night)
    rows = [
        [7, 2.5, when, datetime.date(2024, 2, 29), "'=SUM(A1)", "  padded  ", "bell\x07 tab\t<&>", True],
        ["x" * 40_000, None, "", -3, 1e-9, "ünïcødé ✓", "line\nbreak", False],
    ]
    data = b"".join(xlsxstream.stream_xlsx(list("ABCDEFGH"), rows, title="complaints: a/b"))
    sheet = workbook(data)
    assert sheet.title == "complaints- a-b"
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == tuple("ABCDEFGH")
    assert values[1] == (7, 2.5, when, datetime.datetime(2024, 2, 29), "'=SUM(A1)", "  padded  ", "bell tab\t<&>", "yes")
    assert values[2][0] == "x" * xlsxstream.CELL_MAX_CHARS
    assert values[2][1:] == (None, None, -3, 1e-9, "ünïcødé ✓", "line\nbreak", "no")
    assert sheet["A1"].font.b and sheet.freeze_panes == "A2"
    assert sheet["C2"].number_format == "yyyy-mm-dd hh:mm" and sheet["D2"].number_format == "yyyy-mm-dd"


def test_bytes_leave_before_the_rows_are_all_read():
    read = 0

    def rows():
        nonlocal read
        for n in range(20_000):
            read += 1
            yield [n, f"row {n} " + "text " * 10, datetime.date(2026, 1, 1) + datetime.timedelta(days=n % 300)]

    chunks = iter(xlsxstream.stream_xlsx(["n", "text", "day"], rows(), title="t"))
    sent, at_first_rows = 0, None
    for chunk in chunks:
        sent += len(chunk)
        if at_first_rows is None and sent > 65_536:
            at_first_rows = read  # the rows read when the first 64 KiB had left
    assert at_first_rows is not None and at_first_rows < 20_000 / 4
    assert read == 20_000


def test_the_xlsx_stops_at_its_cap_and_says_so(monkeypatch):
    monkeypatch.setattr(listexport, "XLSX_MAX_ROWS", 3)
    columns = [Column("N", lambda r: r["n"]), Column("Label", lambda r: f"=row {r['n']}")]
    response = list_export(Rows(5), columns, name="capped", fmt="xlsx")
    assert response.streaming and response["X-Total-Count"] == "3"
    assert response["Content-Type"] == listexport.XLSX_TYPE
    values = list(workbook(b"".join(response.streaming_content)).iter_rows(values_only=True))
    assert values[1:4] == [(0, "'=row 0"), (1, "'=row 1"), (2, "'=row 2")]
    assert values[4] == ("Stopped at 3 rows: export CSV for the whole list.", None)
    assert len(values) == 5
    csv = list_export(Rows(5), columns, name="capped", fmt="csv")
    assert csv["X-Total-Count"] == "5"  # the CSV has no cap
    assert b"".join(csv.streaming_content).count(b"\n") == 6
