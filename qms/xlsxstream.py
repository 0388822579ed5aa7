"""An XLSX workbook written as it is sent (issue 18 item 6, docs/decisions/0045).

openpyxl writes a workbook only when it is complete (its write-only mode fills a temporary file,
then zips it on save), so the first byte of a 100,000-row export left after the last row was
read. Here the workbook's one sheet is SpreadsheetML made row by row and zipped on the fly by
stream-zip: bytes leave as the rows are read, and the memory held is a chunk of rows and the
compressor's window, whatever the length of the list.

The package is the smallest one Excel, LibreOffice and openpyxl open: content types, the
relationships, the workbook, a stylesheet (a bold header, a date and a date-time format) and
the sheet, whose cells are numbers, inline strings, or serial dates with their format, so that
numbers stay numbers and dates stay dates. The small parts come first, stored with their sizes
(so that file-type sniffers see an OOXML package, and the browser's progress in
static/qms/exports.js can step over them), then the sheet, deflated as it is made: the browser
inflates it as it arrives to count its rows."""

from __future__ import annotations

import datetime
import math
import re
import stat
import zlib
from collections.abc import Iterable
from xml.sax.saxutils import escape, quoteattr

from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from stream_zip import NO_COMPRESSION_32, ZIP_32, stream_zip

ROWS_PER_CHUNK = 500
SHEET_PART = "xl/worksheets/sheet1.xml"
CELL_MAX_CHARS = 32_767  # Excel's limit: a longer cell makes it "repair" the file
# Characters XML 1.0 cannot carry (the C0 controls but tab, line feed, carriage return).
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

# Cell formats (cellXfs) of the stylesheet below, by index.
_HEADER, _DATE, _DATETIME = 1, 2, 3

_CONTENT_TYPES = (
    _DECLARATION
    + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    _DECLARATION + f'<Relationships xmlns="{_PKG_REL}">'
    f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK_RELS = (
    _DECLARATION + f'<Relationships xmlns="{_PKG_REL}">'
    f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/>'
    "</Relationships>"
)
_STYLES = (
    _DECLARATION + f'<styleSheet xmlns="{_MAIN}">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def _workbook(title: str) -> str:
    return (
        _DECLARATION + f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}">'
        f'<sheets><sheet name={quoteattr(sheet_title(title))} sheetId="1" r:id="rId1"/></sheets>'
        "</workbook>"
    )


def sheet_title(title: str) -> str:
    """A name Excel accepts for a sheet: at most 31 characters, none of []:*?/\\."""
    return re.sub(r"[\[\]:*?/\\]", "-", title)[:31] or "Sheet1"


def _text(value: str) -> str:
    text = _NOT_XML.sub("", value)[:CELL_MAX_CHARS]
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f"<is><t{space}>{escape(text)}</t></is>"


def _cell(ref: str, value, style: int = 0) -> str:
    """One <c> element. Values are what qms.listexport._plain makes: "", numbers, dates and
    date-times (naive, local wall-clock time) or text (already quoted against formulas)."""
    if value is None or value == "":
        return ""
    s = f' s="{style}"' if style else ""
    if isinstance(value, bool):
        value = "yes" if value else "no"
    if isinstance(value, int | float) and math.isfinite(value):
        return f'<c r="{ref}"{s}><v>{value!r}</v></c>'
    if isinstance(value, datetime.datetime):
        return f'<c r="{ref}" s="{_DATETIME}"><v>{to_excel(value)!r}</v></c>'
    if isinstance(value, datetime.date):
        return f'<c r="{ref}" s="{_DATE}"><v>{to_excel(value)!r}</v></c>'
    return f'<c r="{ref}" t="inlineStr"{s}>{_text(str(value))}</c>'


def _sheet(header: list[str], rows: Iterable[list]) -> Iterable[bytes]:
    letters = [get_column_letter(i) for i in range(1, max(len(header), 1) + 1)]
    yield (
        _DECLARATION + f'<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}">'
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
        'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
        f'<cols><col min="1" max="{len(letters)}" width="18" customWidth="1"/></cols><sheetData>'
        + _row(1, letters, header, _HEADER)
    ).encode()
    chunk: list[str] = []
    for number, row in enumerate(rows, start=2):
        chunk.append(_row(number, letters, row))
        if len(chunk) == ROWS_PER_CHUNK:
            yield "".join(chunk).encode()
            chunk = []
    yield ("".join(chunk) + "</sheetData></worksheet>").encode()


def _row(number: int, letters: list[str], values: list, style: int = 0) -> str:
    cells = "".join(
        _cell(f"{letter}{number}", value, style)
        for letter, value in zip(letters, values, strict=False)
    )
    return f'<row r="{number}">{cells}</row>'


def stream_xlsx(header: list[str], rows: Iterable[list], *, title: str) -> Iterable[bytes]:
    """The bytes of a one-sheet workbook: `header` in bold and frozen, then `rows`, produced
    while `rows` is read. Rows longer than the header are cut to it."""
    now = datetime.datetime.now()
    mode = stat.S_IFREG | 0o644

    def part(name: str, text: str):
        return name, now, mode, NO_COMPRESSION_32, (text.encode(),)

    return stream_zip(
        (
            part("[Content_Types].xml", _CONTENT_TYPES),
            part("_rels/.rels", _ROOT_RELS),
            part("xl/workbook.xml", _workbook(title)),
            part("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS),
            part("xl/styles.xml", _STYLES),
            (SHEET_PART, now, mode, ZIP_32, _sheet(header, rows)),
        ),
        # Level 6 (zlib's default) rather than stream-zip's 9: a few per cent larger, faster.
        get_compressobj=lambda: zlib.compressobj(wbits=-zlib.MAX_WBITS, level=6),
    )
