"""Indexed free-text search of the audit trail (issue 15, item 6).

The trail's `?q=` used to OR an `icontains` over every text column of every history table: a
sequential scan of each table (about 2.6 s at 100k complaints). On PostgreSQL each history
table now has one trigram GIN index (pg_trgm) over one expression, the upper-cased text of its
row (reason and every free-text column joined), and the search is a `LIKE '%TEXT%'` on that same
expression, which the index answers. The expression is built by `search_text()` for the query
and for the index alike, so the two stay the same; the indexes are (re)created after every
`migrate` (`ensure_search_indexes`, idempotent; named after a hash of the expression, so a new
text column gives a new index and the old one is dropped). SQLite (`make run`) keeps the plain
OR of `icontains`.
"""

from __future__ import annotations

import hashlib

from django.db import connection, models
from django.db.models import Func

from qms.audit import registry

INDEX_PREFIX = "trail_q_"


def search_columns(historical) -> list[str]:
    """The text columns of a history table that free text searches: the reason and every
    free-text field of the record (not codes with choices)."""
    names = ["history_change_reason"]
    for f in registry.tracked_fields(historical):
        if isinstance(f, models.CharField | models.TextField) and not f.choices:
            names.append(f.column)
    return names


class SearchText(Func):
    """UPPER(COALESCE(a, '') || ' ' || COALESCE(b, '') ...): IMMUTABLE (unlike concat_ws), so
    it can be indexed."""

    output_field = models.TextField()

    def __init__(self, columns: list[str]):
        self.columns = columns
        super().__init__(*[models.F(name) for name in columns])

    def as_sql(self, compiler, connection, **extra):
        parts, params = [], []
        for expression in self.get_source_expressions():
            sql, p = compiler.compile(expression)
            parts.append(f"COALESCE(({sql})::text, '')")
            params.extend(p)
        joined = " || ' ' || ".join(parts)
        return f"UPPER({joined})", params


def search_text(historical) -> SearchText:
    return SearchText(_attnames(historical))


def _attnames(historical) -> list[str]:
    by_column = {f.column: f.attname for f in historical._meta.concrete_fields}
    return [by_column[c] for c in search_columns(historical)]


def index_name(historical) -> str:
    digest = hashlib.sha1(
        ",".join(search_columns(historical)).encode(), usedforsecurity=False
    ).hexdigest()[:8]
    return f"{INDEX_PREFIX}{historical._meta.db_table[:40]}_{digest}"


def index_sql(historical) -> str:
    quote = connection.ops.quote_name
    parts = [f"COALESCE(({quote(c)})::text, '')" for c in search_columns(historical)]
    joined = " || ' ' || ".join(parts)
    expression = f"UPPER({joined})"
    return (
        f"CREATE INDEX IF NOT EXISTS {quote(index_name(historical))} ON {quote(historical._meta.db_table)} "
        f"USING gin (({expression}) gin_trgm_ops)"
    )


def ensure_search_indexes(using: str = "default", **kwargs) -> None:
    """Create the trigram index of every history table that lacks it, and drop the ones whose
    expression is outdated. post_migrate receiver; safe to run again."""
    from django.db import connections

    conn = connections[using]
    if conn.vendor != "postgresql":
        return
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone() is None:
            return
        for historical in registry.historical_models():
            table = historical._meta.db_table
            if table not in conn.introspection.table_names(cursor):
                continue
            wanted = index_name(historical)
            cursor.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexname LIKE %s",
                [table, f"{INDEX_PREFIX}%"],
            )
            for (name,) in cursor.fetchall():
                if name != wanted:
                    cursor.execute(f"DROP INDEX IF EXISTS {conn.ops.quote_name(name)}")
            cursor.execute(index_sql(historical))


# The signatures and the security events have their own trigram index, made by migration
# qms 0013 over this same expression of these columns (issue 19: without it the signatures'
# arm of a search read every signature, 955k at 1M complaints, to find none).
SIGNATURE_COLUMNS = ["record_repr", "meaning", "reason", "signer_name"]
SECURITY_COLUMNS = ["username", "detail", "path"]


def columns_filter(qs, columns: list[str], text: str, *, or_match: models.Q | None = None):
    """`qs` (signatures, security events) narrowed to the rows whose `columns` hold `text`,
    through the table's trigram index on PostgreSQL (the expression of migration qms 0013)."""
    if connection.vendor != "postgresql":
        match = models.Q()
        for name in columns:
            match |= models.Q(**{f"{name}__icontains": text})
    else:
        qs = qs.annotate(trail_text=SearchText(columns))
        match = models.Q(trail_text__contains=text.upper())
    return qs.filter(match | or_match if or_match is not None else match)


def text_filter(qs, historical, text: str, *, or_match: models.Q | None = None):
    """`qs` narrowed to the rows whose text holds `text` (case-insensitive), through the
    trigram index on PostgreSQL; `or_match` also matches (the acting user's name)."""
    if connection.vendor != "postgresql":
        match = models.Q(history_change_reason__icontains=text)
        for name in _attnames(historical)[1:]:
            match |= models.Q(**{f"{name}__icontains": text})
    else:
        qs = qs.annotate(trail_text=search_text(historical))
        match = models.Q(trail_text__contains=text.upper())
    return qs.filter(match | or_match if or_match is not None else match)


def users_named(text: str) -> list:
    """Ids of the users whose user name holds `text` (the trail's text also finds who acted)."""
    from django.contrib.auth import get_user_model

    return list(
        get_user_model()
        ._base_manager.filter(username__icontains=text)
        .values_list("pk", flat=True)[:500]
    )
