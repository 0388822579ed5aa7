"""Rows of many tables in one query.

A page of the audit trail names rows of up to every history table, plus the users, customers,
documents ... their changes point to. Fetching each table with its own query makes the cost of
a page grow with the number of tables it spans; here every table's rows come back from one
UNION ALL as `row_to_json(...)` text, and are turned back into model instances with each
field's own `to_python` (the same values the ORM would give for display and comparison).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import DEFAULT_DB_ALIAS, connection, models
from django.db.models import BigIntegerField, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast


@dataclass(frozen=True)
class RowRequest:
    """The rows of `queryset` (filtered, any model), filed under `tag`. `extra`: an integer
    expression returned beside each row (e.g. the id of the row it is diffed against)."""

    tag: object
    queryset: models.QuerySet
    extra: models.Expression | None = None


def bulk_rows(requests: list[RowRequest]) -> dict[object, list[tuple[models.Model, int | None]]]:
    """{tag: [(instance, extra), ...]} for every request, in one query."""
    if not requests:
        return {}
    if connection.vendor != "postgresql":
        return _rows_one_query_each(requests)
    parts, params = [], []
    for index, request in enumerate(requests):
        model = request.queryset.model
        table = connection.ops.quote_name(model._meta.db_table)
        extra = request.extra if request.extra is not None else Cast(Value(None), BigIntegerField())
        qs = (
            request.queryset.order_by()
            .annotate(
                _rows_tag=Value(index),
                _rows_extra=extra,
                # The quoted table name comes from the model's Meta, never from input.
                _rows_json=RawSQL(f"row_to_json({table})::text", ()),  # noqa: S611
            )
            .values_list("_rows_tag", "_rows_extra", "_rows_json")
        )
        sql, arm_params = qs.query.sql_with_params()
        parts.append(f"({sql})")
        params.extend(arm_params)
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        fetched = cursor.fetchall()
    result: dict[object, list] = defaultdict(list)
    for index, extra, text in fetched:
        request = requests[index]
        result[request.tag].append((instance_from_json(request.queryset.model, text), extra))
    return result


def _rows_one_query_each(requests: list[RowRequest]) -> dict:
    """The same answer without row_to_json (SQLite, `make run`'s embedded default): a query
    per request."""
    result: dict[object, list] = defaultdict(list)
    for request in requests:
        queryset = request.queryset
        if request.extra is not None:
            queryset = queryset.annotate(_rows_extra=request.extra)
        for instance in queryset:
            result[request.tag].append((instance, getattr(instance, "_rows_extra", None)))
    return result


_DECODER = json.JSONDecoder(parse_float=Decimal)  # numeric columns stay exact


def instance_from_json(model, text: str) -> models.Model:
    data = _DECODER.decode(text)
    fields = model._meta.concrete_fields
    values = [_value(field, data.get(field.column)) for field in fields]
    return model.from_db(DEFAULT_DB_ALIAS, [field.attname for field in fields], values)


def _value(field, raw):
    if raw is None:
        return None
    if isinstance(field, models.JSONField):
        return raw  # row_to_json nests json/jsonb values: already decoded
    if isinstance(field, models.BinaryField):
        return bytes.fromhex(raw[2:]) if isinstance(raw, str) and raw.startswith("\\x") else raw
    return field.to_python(raw)


def link_related(rows: list, name: str, objects: dict) -> None:
    """Fill each row's `name` foreign-key cache from objects already fetched, by id (no query on
    access): the rows and the objects they point to came back from the same bulk_rows call."""
    for row in rows:
        model_field = type(row)._meta.get_field(name)
        related = objects.get(getattr(row, model_field.attname))
        if related is not None:
            model_field.set_cached_value(row, related)
