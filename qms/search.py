"""Free-text search of the complaint, CAPA and document lists (issue 18 item 7, decision 0042).

On PostgreSQL each searched table carries a stored, GIN-indexed `search_vector` column that
PostgreSQL computes itself (`GENERATED ALWAYS AS (...) STORED`) from the row's text columns,
weighted (A: reference and title, B: the main text, C: the rest). It is not a model field: no
INSERT or UPDATE of the ORM names it, simple-history does not copy it into the hash-chained
history tables, list queries never read it, and SQLite (`make run`) has no such column at all.
`AddSearchVector` (a migration operation) creates it on PostgreSQL and does nothing elsewhere.

A search is `websearch_to_tsquery('english', text)` (quotes for phrases, `-word` to exclude,
`or`; any other character is plain text, never a syntax error), with each word also matched as
a prefix when the text uses no operator (`search_query`), matched against the row's own
vector, ORed with a prefix match of the reference (CMP-2026-0001 finds CMP-2026-00012; an
exact reference matches through the vector too) and with the rows that related rows' vectors
find (a complaint's customer, a CAPA's actions): `id = ANY(ARRAY(SELECT id ... UNION ...))`,
each part answered from the related table's index before the list's table is read, so the whole
condition stays one bitmap OR of index scans (`TextSearch._related_ids`). Results are ranked by `ts_rank` over the stored
vector; a reference that starts with the text ranks first.

SQLite keeps an OR of `icontains` over the same fields (`TextSearch.fields`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.contrib.postgres.search import (
    SearchQuery,
    SearchRank,
    SearchVectorExact,
    SearchVectorField,
)
from django.db import connections, models
from django.db.migrations.operations.base import Operation
from django.db.models import Case, Expression, F, FloatField, Q, Value, When

CONFIG = "english"  # stems words (leaking ~ leak); references still match as phrases of their parts
COLUMN = "search_vector"
MAX_INDEXED_CHARS = (
    100_000  # a tsvector holds at most 1 MB: longer text is indexed in its first part
)
SEARCH_MAX_LENGTH = 200  # the lists' search fields refuse longer text (400 in the API)
RANK = "search_rank"
_REFERENCE_LIKE = re.compile(r"^[A-Za-z]{2,10}-[0-9A-Za-z-]*$")
_OPERATORS = re.compile(r'"|(?:^|\s)-|\bor\b', re.IGNORECASE)
_WORD = re.compile(r"\w+")
MAX_PREFIX_WORDS = 16


# --- the stored vector (migrations) ---------------------------------------------------------


def vector_sql(columns: list[tuple[str, str]]) -> str:
    """The generation expression: `setweight(to_tsvector('english', left(coalesce(col, ''), N)), 'A') || ...`.
    Every function in it is IMMUTABLE, as a generated column requires."""
    parts = [
        f"setweight(to_tsvector('{CONFIG}'::regconfig, left(coalesce(\"{column}\"::text, ''), {MAX_INDEXED_CHARS})), '{weight}')"
        for column, weight in columns
    ]
    return " || ".join(parts)


def index_name(table: str, suffix: str) -> str:
    return f"{table}_{suffix}"[:63]


class AddSearchVector(Operation):
    """On PostgreSQL: the table's stored `search_vector` (from `columns`, (column, weight) pairs)
    with its GIN index, and, given `pattern_column`, a btree index that answers `LIKE 'PREFIX%'`
    on it whatever the database's collation. Elsewhere nothing: SQLite searches with icontains.
    Changing the columns later is a new migration that removes and adds the vector again."""

    reversible = True
    reduces_to_sql = True

    def __init__(self, table: str, columns: list[tuple[str, str]], pattern_column: str = ""):
        self.table = table
        self.columns = [tuple(pair) for pair in columns]
        self.pattern_column = pattern_column

    def state_forwards(self, app_label, state):
        pass  # not a model field: the models know nothing of the column (see the module doc)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return
        table = self.table
        schema_editor.execute(
            f'ALTER TABLE "{table}" ADD COLUMN "{COLUMN}" tsvector GENERATED ALWAYS AS ({vector_sql(self.columns)}) STORED'
        )
        schema_editor.execute(
            f'CREATE INDEX "{index_name(table, "search_gin")}" ON "{table}" USING gin ("{COLUMN}")'
        )
        if self.pattern_column:
            schema_editor.execute(
                f'CREATE INDEX "{index_name(table, "prefix_idx")}" ON "{table}" ("{self.pattern_column}" varchar_pattern_ops)'
            )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return
        if self.pattern_column:
            schema_editor.execute(f'DROP INDEX IF EXISTS "{index_name(self.table, "prefix_idx")}"')
        schema_editor.execute(
            f'ALTER TABLE "{self.table}" DROP COLUMN IF EXISTS "{COLUMN}"'
        )  # drops its index

    def describe(self):
        return f"Stored full-text search vector on {self.table} (PostgreSQL)"

    @property
    def migration_name_fragment(self):
        return f"search_vector_{self.table}"

    def deconstruct(self):
        kwargs = {"pattern_column": self.pattern_column} if self.pattern_column else {}
        return (
            "qms.search.AddSearchVector",
            [self.table, [list(pair) for pair in self.columns]],
            kwargs,
        )


# --- the query ------------------------------------------------------------------------------


class StoredVector(Expression):
    """The `search_vector` column of the query's own table (not a model field)."""

    output_field = SearchVectorField()

    def as_sql(self, compiler, connection):
        alias = compiler.query.get_initial_alias()
        return f"{compiler.quote_name_unless_alias(alias)}.{connection.ops.quote_name(COLUMN)}", []


class AnyOfArray(Expression):
    """`column = ANY(ARRAY(subquery))`: the subquery runs once (an InitPlan) and the comparison
    is an index condition on `column`, so it can be ORed with the other index scans. An
    `IN (subquery)` would be a hashed subplan, evaluated row by row over the whole table."""

    output_field = models.BooleanField()
    conditional = True

    def __init__(self, column: str, subquery):
        super().__init__()
        self.column = F(column)
        self.subquery = subquery

    def get_source_expressions(self):
        return [self.column, self.subquery]

    def set_source_expressions(self, exprs):
        self.column, self.subquery = exprs

    def resolve_expression(
        self, query=None, allow_joins=True, reuse=None, summarize=False, for_save=False
    ):
        clone = self.copy()
        clone.column = self.column.resolve_expression(
            query, allow_joins, reuse, summarize, for_save
        )
        clone.subquery = self.subquery.resolve_expression(
            query, allow_joins, reuse, summarize, for_save
        )
        return clone

    def as_sql(self, compiler, connection):
        column_sql, column_params = compiler.compile(self.column)
        sub_sql, sub_params = compiler.compile(self.subquery)
        return f"{column_sql} = ANY(ARRAY{sub_sql})", [*column_params, *sub_params]


@dataclass(frozen=True)
class Related:
    """Rows of another table whose text also finds a listed row: `column` of the listed row
    equals `key` of a related row that matches (customer_id = customer.id; id = action.capa_id).
    `where` narrows the related rows (a document's current versions only)."""

    column: str
    model: type[models.Model]
    key: str
    fields: tuple[str, ...]
    where: Q = field(default_factory=Q)


@dataclass(frozen=True)
class TextSearch:
    """What a list searches: its own text `fields` (the same columns as its stored vector), the
    `reference` column matched by prefix, and `related` tables."""

    fields: tuple[str, ...]
    reference: str
    related: tuple[Related, ...] = ()

    def apply(self, queryset, text: str):
        """The rows that match `text`, annotated with their rank (`search_rank`, higher first)."""
        text = " ".join(text.split())
        if not text:
            return queryset
        prefix = text.upper() if _REFERENCE_LIKE.match(text) else None
        if connections[queryset.db].vendor != "postgresql":
            return queryset.filter(self._fallback(text))
        query = search_query(text)
        condition = Q(SearchVectorExact(StoredVector(), query))
        if self.related:
            condition |= Q(
                AnyOfArray("pk", models.Subquery(self._related_ids(queryset.model, query)))
            )
        rank = SearchRank(StoredVector(), query, cover_density=False)
        if prefix:
            condition |= Q(**{f"{self.reference}__startswith": prefix})
            rank = (
                Case(
                    When(**{f"{self.reference}__startswith": prefix}, then=Value(1.0)),
                    default=Value(0.0),
                )
                + rank
            )
        return queryset.filter(condition).annotate(
            **{RANK: models.ExpressionWrapper(rank, output_field=FloatField())}
        )

    def _related_ids(self, model, query):
        """The ids of the listed rows that related rows' text finds, as one UNION. Each part is
        `column = ANY(ARRAY(related ids))`, answered from the column's index; ORing those
        conditions into the list's own WHERE made the planner misjudge their size (an array of
        unknown length) and scan the whole table in parallel (358 ms at 100k); the listed
        table's primary key compared with the UNION's array is estimated at a few rows and
        joins the search index in one bitmap OR (41 ms)."""
        parts = []
        for related in self.related:
            matching = related.model.objects.filter(
                related.where, SearchVectorExact(StoredVector(), query)
            ).values(related.key)
            parts.append(
                model._base_manager.filter(AnyOfArray(related.column, models.Subquery(matching)))
                .order_by()
                .values("pk")
            )
        return parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]

    def _fallback(self, text: str) -> Q:
        condition = Q()
        for name in self.fields:
            condition |= Q(**{f"{name}__icontains": text})
        for related in self.related:
            matching = Q()
            for name in related.fields:
                matching |= Q(**{f"{name}__icontains": text})
            condition |= Q(
                **{
                    f"{related.column}__in": related.model.objects.filter(
                        related.where, matching
                    ).values(related.key)
                }
            )
        return condition


def search_query(text: str) -> SearchQuery:
    """websearch_to_tsquery of the text; when it uses no operator (quotes, -word, or), ORed with
    every word as a prefix (`clear:*` finds "clearance", as a list's search box is expected to),
    built from the words' letters and digits only, so no input can be a tsquery syntax error."""
    query = SearchQuery(text, search_type="websearch", config=CONFIG)
    if _OPERATORS.search(text):
        return query
    words = _WORD.findall(text)[:MAX_PREFIX_WORDS]
    if not words:
        return query
    return query | SearchQuery(
        " & ".join(f"{word}:*" for word in words), search_type="raw", config=CONFIG
    )


def ranked(queryset, *default_order: str):
    """Rank first when the queryset was searched (it carries the rank), then `default_order`."""
    if RANK in queryset.query.annotations:
        return queryset.order_by(F(RANK).desc(), *default_order)
    return queryset.order_by(*default_order)
