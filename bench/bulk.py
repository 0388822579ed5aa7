"""Bulk writing for the seeder: rows go to PostgreSQL with COPY, history rows with their hash
chain computed here (the same content and hash as qms.history.chain_content / chain_hash,
checked against them on rows read back after the load).

Rows are kept as tuples in the model's column order; ids are allocated here (from the table's
current maximum) so that rows can point at each other before anything is written.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import operator
import os

from django.db import connection

from qms.history import CHAIN_EXCLUDED, chain_content, chain_hash

UTC = dt.UTC
PRIMITIVE = (bool, int, float, str, dict, list)
HISTORY_FIELDS = (
    "history_date",
    "history_user_id",
    "history_type",
    "history_change_reason",
    "history_action",
)


def table_max(model, column: str | None = None) -> int:
    column = column or model._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT COALESCE(MAX("{column}"), 0) FROM "{model._meta.db_table}"')
        return cursor.fetchone()[0]


def reset_sequence(model) -> None:
    table, column = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, %s), GREATEST((SELECT MAX(\"{column}\") FROM \"{table}\"), 1))",
            [table, column],
        )


def _canon(value, places):
    """A value as chain_content() writes it, for values already of the column's Python type."""
    if value is None or type(value) in PRIMITIVE:
        return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in a history row")
        return str(value.astimezone(UTC))
    if isinstance(value, decimal.Decimal) and places is not None:
        return str(value.quantize(decimal.Decimal(1).scaleb(-places)))
    return str(value)


class Rows:
    """The rows of one table, in the order they were added."""

    def __init__(self, model):
        self.model = model
        self.fields = list(model._meta.concrete_fields)
        self.attnames = [f.attname for f in self.fields]
        self.index = {name: i for i, name in enumerate(self.attnames)}
        self.pk = model._meta.pk.attname
        self.defaults = {}
        for f in self.fields:
            if f.primary_key:
                continue
            default = f.get_default() if f.has_default() else (None if f.null else f.get_default())
            if callable(getattr(f, "default", None)) and isinstance(default, dt.datetime):
                default = None  # timezone.now: every caller passes its own time
            self.defaults[f.attname] = default
        self.defaults[self.pk] = None
        self.getter = operator.itemgetter(*self.attnames)
        self.json_columns = [i for i, f in enumerate(self.fields) if f.get_internal_type() == "JSONField"]
        self.rows: list[tuple] = []
        self.next_id = table_max(model) + 1
        self._checked = 0

    def new_id(self) -> int:
        value = self.next_id
        self.next_id += 1
        return value

    def add(self, **values) -> int:
        if self.pk not in values:
            values[self.pk] = self.new_id()
        if self._checked < 50:
            self._checked += 1
            unknown = set(values) - set(self.attnames)
            if unknown:
                raise KeyError(f"{self.model.__name__}: unknown columns {sorted(unknown)}")
        merged = self.defaults.copy()
        merged.update(values)
        self.rows.append(self.getter(merged))
        return values[self.pk]

    def __len__(self):
        return len(self.rows)

    def iter_rows(self):
        """The rows as COPY writes them (JSON columns as JSON text)."""
        json_columns = self.json_columns
        if not json_columns:
            return iter(self.rows)
        return self._with_json(json_columns)

    def _with_json(self, json_columns):
        for row in self.rows:
            row = list(row)
            for i in json_columns:
                if row[i] is not None:
                    row[i] = json.dumps(row[i])
            yield row

    def copy(self, *, defer_indexes: bool = False) -> tuple[int, list[str]]:
        """COPY the rows into the table; returns how many, and the definitions of the indexes
        left to build. For a large load the table's plain (non-unique) indexes are dropped first:
        building an index once is much cheaper than updating 15 of them per row. They are built
        again right after, in the same transaction, or (`defer_indexes`) by the caller, on another
        connection once this transaction has committed (bench/seed/load.py)."""
        if not self.rows:
            return 0, []
        columns = ", ".join(f'"{f.column}"' for f in self.fields)
        table = self.model._meta.db_table
        rebuild = drop_plain_indexes(table) if len(self.rows) >= BULK_INDEX_THRESHOLD else []
        count = 0
        rows = self.iter_rows()
        with connection.cursor() as cursor, cursor.cursor.copy(f'COPY "{table}" ({columns}) FROM STDIN') as copy:
            write = copy.write_row
            for row in rows:
                write(row)
                count += 1
        if rebuild and not defer_indexes:
            with connection.cursor() as cursor:
                for definition in rebuild:
                    cursor.execute(definition)
            rebuild = []
        reset_sequence(self.model)
        self.rows = []
        return count, rebuild


# Tables loaded with at least this many rows get their plain indexes rebuilt (CI sets it low).
BULK_INDEX_THRESHOLD = int(os.environ.get("BENCH_INDEX_THRESHOLD", "20000"))


def drop_plain_indexes(table: str) -> list[str]:
    """Drop the table's indexes that back no constraint and are not unique; returns their
    definitions (CREATE INDEX ...) to build them again after the load."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.relname, pg_get_indexdef(x.indexrelid)
            FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
            WHERE x.indrelid = %s::regclass AND NOT x.indisunique AND NOT x.indisprimary
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
            """,
            [f'"{table}"'],
        )
        found = cursor.fetchall()
        for name, _definition in found:
            cursor.execute(f'DROP INDEX "{name}"')
    return [definition for _name, definition in found]


class ChainedRows(Rows):
    """Rows of an append-only table with a hash chain (prev_hash, entry_hash): the chain is
    computed in primary-key order, continuing from the table's newest row."""

    sort_key: str | None = None

    def __init__(self, model, sort_key: str | None = None):
        super().__init__(model)
        self.sort_key = sort_key
        self.chain_names = [
            f.attname for f in self.fields if f.attname not in CHAIN_EXCLUDED and not f.primary_key
        ]
        self.chain_positions = [self.index[a] for a in self.chain_names]
        self.chain_getter = operator.itemgetter(*self.chain_positions)
        # Columns whose Python values are not JSON scalars, converted as chain_content() does.
        self.chain_special = []
        for i, position in enumerate(self.chain_positions):
            kind = self.fields[position].get_internal_type()
            if kind == "DateTimeField":
                self.chain_special.append((i, "datetime", None))
            elif kind == "DecimalField":
                self.chain_special.append((i, "decimal", self.fields[position].decimal_places))
            elif kind in ("DateField", "TimeField", "UUIDField", "DurationField"):
                self.chain_special.append((i, "str", None))
        self.prev_position = self.index["prev_hash"]
        self.hash_position = self.index["entry_hash"]
        self.pk_position = self.index[self.pk]

    def iter_rows(self):
        """Sort by time, give ids in that order, and compute prev_hash and entry_hash, row by row
        as COPY takes them (no second copy of the table in memory). The chain's start is read
        here, before the COPY begins (the connection runs nothing else during a COPY)."""
        pk = self.pk_position
        renumber = self.sort_key is not None
        if renumber:
            # Nothing points at history rows: they are numbered in time order here. Rows that
            # others point at (signatures) keep the ids given when they were added.
            key = self.index[self.sort_key]
            self.rows.sort(key=lambda r: (r[key], r[pk]))
        with connection.cursor() as cursor:
            cursor.execute(
                f'SELECT "entry_hash" FROM "{self.model._meta.db_table}" ORDER BY "{self.model._meta.pk.column}" DESC LIMIT 1'
            )
            found = cursor.fetchone()
        return self._linked(found[0] if found else "", table_max(self.model) + 1)

    def _linked(self, prev: str, next_id: int):
        pk = self.pk_position
        renumber = self.sort_key is not None
        names, getter, special = self.chain_names, self.chain_getter, self.chain_special
        prev_pos, hash_pos = self.prev_position, self.hash_position
        json_columns = self.json_columns
        dumps = json.dumps
        rows = self.rows
        for position in range(len(rows)):
            row = list(rows[position])
            rows[position] = None  # each row is held once: the table's memory goes as it is written
            if renumber:
                row[pk] = next_id
                next_id += 1
            row[prev_pos] = prev
            values = list(getter(row))
            for i, kind, places in special:
                value = values[i]
                if value is None:
                    continue
                if kind == "datetime":
                    values[i] = str(value if value.tzinfo is UTC else value.astimezone(UTC))
                elif kind == "decimal":
                    values[i] = _canon(value, places)
                else:
                    values[i] = str(value)
            prev = row[hash_pos] = chain_hash(dict(zip(names, values, strict=True)))
            for i in json_columns:
                if row[i] is not None:
                    row[i] = dumps(row[i])
            yield row


class HistoryRows(ChainedRows):
    """Historical rows of one regulated model (simple-history), from snapshots of the live
    row's values. Ids are given in history_date order when the rows are written."""

    def __init__(self, live_model):
        super().__init__(live_model.history.model, sort_key="history_date")
        skip = {"history_id", "prev_hash", "entry_hash", *HISTORY_FIELDS}
        self.live_names = [a for a in self.attnames if a not in skip]

    def snapshot(self, state: dict, *, at, user_id, kind: str = "~", reason: str = "", action: str = "") -> None:
        """Append a historical row: the live row's values in `state` (other keys are ignored)."""
        merged = self.defaults.copy()
        merged.update(state)
        merged.update(
            history_id=0,
            history_date=at,
            history_user_id=user_id,
            history_type=kind,
            history_change_reason=reason,
            history_action=action,
            prev_hash="",
            entry_hash="",
        )
        self.rows.append(self.getter(merged))


def verify_sample(model, size: int = 200) -> int:
    """Re-check the newest and the oldest rows of a chained table with qms.history itself:
    each row's hash from its stored content and its link to the row before. Returns the number
    of rows checked; raises AssertionError on the first mismatch."""
    manager = model._base_manager
    pk = model._meta.pk.attname
    checked = 0
    for rows in (list(manager.order_by(pk)[: size + 1]), list(manager.order_by(f"-{pk}")[: size + 1])[::-1]):
        for before, row in zip([None, *rows[:-1]], rows, strict=True):
            if chain_hash(chain_content(row)) != row.entry_hash:
                raise AssertionError(f"{model._meta.db_table} row {row.pk}: content does not match entry_hash")
            if before is not None and row.prev_hash != before.entry_hash:
                raise AssertionError(f"{model._meta.db_table} row {row.pk}: prev_hash does not link")
            checked += 1
    return checked
