"""Time to first byte, total time and peak memory of a list export (qms/listexport.py), on rows
made on the fly with the complaint export's mix of cells (text, numbers, times, yes/no), so
that the rows themselves hold no memory and the database is not measured (docs/decisions/0045).

    .venv/bin/python bench/export_xlsx.py [rows] [xlsx|csv]

Peak memory is the process's peak resident set (ru_maxrss) minus the one before the export
started; run each measurement in its own process."""

import datetime as dt
import os
import resource
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qms.settings")
os.environ.setdefault("SECRET_KEY", "bench-only")
import django  # noqa: E402

django.setup()

from django.utils import timezone  # noqa: E402

from qms.listexport import Column, list_export  # noqa: E402

START = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
COLUMNS = [Column(f"Text {i}", lambda r, i=i: f"{r['n']}: {'abcdefgh' * (i % 3 + 1)}") for i in range(12)] + [
    Column("Number", lambda r: r["n"]),
    Column("Level", lambda r: r["n"] % 4),
    Column("Received", lambda r: START + dt.timedelta(minutes=r["n"])),
    Column("Due", lambda r: (START + dt.timedelta(days=r["n"] % 90)).date()),
    Column("Resolved", lambda r: None if r["n"] % 3 else START),
    Column("Closed", lambda r: START),
    Column("Overdue", lambda r: r["n"] % 2 == 0),
]


class Rows:
    """n rows, made one at a time: len() for the announced total, no memory held."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __iter__(self):
        return ({"n": n} for n in range(self.n))


def peak_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    fmt = sys.argv[2] if len(sys.argv) > 2 else "xlsx"
    with timezone.override("Europe/Berlin"):
        before = peak_kib()
        start = time.perf_counter()
        response = list_export(Rows(rows), COLUMNS, name="bench", fmt=fmt)
        chunks = iter(response.streaming_content) if response.streaming else iter([response.content])
        size = len(next(chunks))
        first = time.perf_counter() - start
        first_64k = None
        for chunk in chunks:
            size += len(chunk)
            if first_64k is None and size >= 65536:
                first_64k = time.perf_counter() - start
        total = time.perf_counter() - start
    print(
        f"{fmt} {rows:,} rows: first byte {first * 1000:.0f} ms, first 64 KiB "
        f"{(first_64k or total) * 1000:.0f} ms, all {total:.2f} s, "
        f"{size / 1e6:.1f} MB, peak memory +{(peak_kib() - before) / 1024:.1f} MiB"
    )


if __name__ == "__main__":
    main()
