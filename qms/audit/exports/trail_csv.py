"""The filtered trail as CSV, streamed page by page."""

from __future__ import annotations

import csv

from django.utils import timezone

from qms.audit.display import format_datetime
from qms.audit.exports.text import exporter_text, spreadsheet_text, verification_text

CSV_CHUNK = 500

CSV_HEADER = [
    "at",
    "user",
    "user_name",
    "action",
    "record_type",
    "record_id",
    "record",
    "field",
    "old",
    "new",
    "reason",
    "kind",
    "detail",
]


_cell = spreadsheet_text


class _Echo:
    def write(self, value):
        return value


def trail_csv_rows(trail, *, trail_filter=None, user=None, verification=None):
    """Lines of the CSV export, produced page by page (a fixed number of queries per page)."""
    writer = csv.writer(_Echo())
    if user is not None:
        yield writer.writerow(["QMS audit trail export"])
        yield writer.writerow(["Filter", trail_filter.describe() if trail_filter else ""])
        yield writer.writerow(["Exported at", format_datetime(timezone.now())])
        yield writer.writerow(["Exported by", exporter_text(user)])
        yield writer.writerow(["Verification", verification_text(verification)])
        yield writer.writerow([])
    yield writer.writerow(CSV_HEADER)
    # Read by cursor, CSV_CHUNK entries at a time: each chunk costs the same however deep.
    for entry in trail.iter_entries(chunk=CSV_CHUNK):
        base = [
            entry.at.isoformat(),
            entry.username,
            entry.user_name,
            entry.action,
            entry.model,
            entry.object_id,
            entry.object_repr,
        ]
        tail = [entry.reason, entry.kind, entry.detail]
        if entry.changes:
            for change in entry.changes:
                yield writer.writerow(
                    [
                        _cell(v)
                        for v in (
                            *base,
                            change.label,
                            change.old_display,
                            change.new_display,
                            *tail,
                        )
                    ]
                )
        else:
            yield writer.writerow([_cell(v) for v in (*base, "", "", "", *tail)])
