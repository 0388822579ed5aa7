"""make run's SQLite gets the aggregates PostgreSQL has natively (metrics/apps.py): the same
numbers as percentile_cont, and the latest value of a group. Checked against PostgreSQL itself
and on a real in-memory SQLite connection."""

import sqlite3

import pytest
from django.db import connection

from metrics.apps import Latest, PercentileCont

VALUES = [3.5, 1.0, 9.25, 4.0, 4.0, 12.0, 0.5]


@pytest.mark.parametrize("fraction", [0.0, 0.5, 0.9, 1.0])
def test_percentile_matches_postgresql(db, fraction):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT percentile_cont(%s) WITHIN GROUP (ORDER BY v) FROM unnest(%s::float8[]) AS v", [fraction, VALUES]
        )
        expected = cursor.fetchone()[0]
    sqlite = sqlite3.connect(":memory:")
    sqlite.create_aggregate("qms_percentile_cont", 2, PercentileCont)
    sqlite.execute("CREATE TABLE t (v REAL)")
    sqlite.executemany("INSERT INTO t VALUES (?)", [(v,) for v in [*VALUES, None]])
    got = sqlite.execute("SELECT qms_percentile_cont(v, ?) FROM t", [fraction]).fetchone()[0]
    assert got == pytest.approx(expected)
    assert sqlite.execute("SELECT qms_percentile_cont(v, 0.5) FROM t WHERE v > 100").fetchone()[0] is None


def test_latest_takes_the_value_of_the_latest_date_per_group():
    sqlite = sqlite3.connect(":memory:")
    sqlite.create_aggregate("qms_latest", 2, Latest)
    sqlite.execute("CREATE TABLE s (kpi TEXT, date TEXT, value REAL)")
    sqlite.executemany(
        "INSERT INTO s VALUES (?, ?, ?)",
        [("a", "2026-11-02", 5), ("a", "2026-11-20", 7), ("a", "2026-11-09", 9), ("b", "2026-10-01", 1), ("b", None, 99)],
    )
    rows = dict(sqlite.execute("SELECT kpi, qms_latest(value, date) FROM s GROUP BY kpi").fetchall())
    assert rows == {"a": 7, "b": 1}
