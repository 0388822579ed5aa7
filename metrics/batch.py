"""Several read-only querysets in one SQL statement.

The dashboard needs about ten independent aggregates (the KPIs of two periods, the live charts,
the trend buckets). Each is an ordinary queryset built with the ORM; `fetch` sends them to
PostgreSQL as one statement, `SELECT (SELECT json_agg(q) FROM (<queryset 1>) q), (...)`, so a
page costs one round trip and a fixed number of queries (docs/architecture.md rule 6) whatever the
number of charts. PostgreSQL still plans and runs each part on its own, with its own indexes.

Rows come back as JSON: numbers, text, lists and null are as the ORM would give them; dates and
timestamps come back as ISO 8601 text (see `as_date`). Order inside a part is not guaranteed by
json_agg: callers that need an order sort the (small) result themselves.
"""

from __future__ import annotations

import datetime
import json

from django.db import connections
from django.db.models import QuerySet, Value


def one_row(queryset: QuerySet, **aggregates) -> QuerySet:
    """`queryset.aggregate(**aggregates)` as a queryset that can be fetched with others: a
    SELECT of aggregates with no GROUP BY, which always returns exactly one row."""
    return queryset.order_by().values(_one=Value(1)).annotate(**aggregates).values(*aggregates)


def fetch(querysets: dict[str, QuerySet], *, using: str = "default") -> dict[str, list[dict]]:
    """Run every queryset (each a .values() queryset) in one statement; the rows of each, by name."""
    if not querysets:
        return {}
    if connections[using].vendor != "postgresql":
        # make run's embedded SQLite: one query each (the query budget is a PostgreSQL matter).
        return {name: list(queryset.using(using)) for name, queryset in querysets.items()}
    parts, params = [], []
    for name, queryset in querysets.items():
        if not name.isidentifier():
            raise ValueError(f"{name!r} is not a plain name")
        sql, part_params = queryset.query.sql_with_params()
        # The SQL is the ORM's own compiled query with its parameters kept apart; the name is an
        # identifier checked above. Nothing from the request is pasted in.
        parts.append(f"(SELECT COALESCE(json_agg(q), '[]'::json) FROM ({sql}) q) AS \"{name}\"")  # noqa: S608
        params.extend(part_params)
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return {
        name: json.loads(value) if isinstance(value, str) else value
        for name, value in zip(querysets, row, strict=True)
    }


def as_date(value) -> datetime.date | None:
    """A date or a truncated timestamp, as json_agg wrote it ("2026-08-24" or "2026-08-24T00:00:00")."""
    return None if value is None else datetime.date.fromisoformat(str(value)[:10])
