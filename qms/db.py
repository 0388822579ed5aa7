"""Database-level guarantees that the ORM cannot express.

`MakeAppendOnly(table)` is a migration operation that makes the database itself refuse UPDATE
and DELETE on a table (history tables, signatures, transitions, security events), and on
PostgreSQL TRUNCATE too (a statement-level trigger: TRUNCATE fires no row triggers): 21 CFR
11.10(e) asks that audit trails cannot be altered, and an application bug or a stray admin
action must not be able to do it either. Works on PostgreSQL and SQLite (which has no TRUNCATE).

Triggers stop every role except one that may switch them off: the tables' owner (or a
superuser). That is why the application runs as a role that owns nothing (qms.db_roles,
`manage.py db_roles`, issue 15 item 7).
"""

from django.db.migrations.operations.base import Operation

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION qms_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'qms: % on append-only table % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
"""


def trigger_name(table: str, op: str) -> str:
    return f"qms_append_only_{op}_{table}"[:63]


def truncate_guard_sql(table: str) -> str:
    return (
        f'CREATE TRIGGER "{trigger_name(table, "truncate")}" BEFORE TRUNCATE ON "{table}" '
        f"FOR EACH STATEMENT EXECUTE FUNCTION qms_refuse_change();"
    )


def forwards_sql(vendor: str, table: str) -> list[str]:
    if vendor == "postgresql":
        return [PG_FUNCTION] + [
            f'CREATE TRIGGER "{trigger_name(table, op.lower())}" BEFORE {op} ON "{table}" '
            f"FOR EACH ROW EXECUTE FUNCTION qms_refuse_change();"
            for op in ("UPDATE", "DELETE")
        ] + [truncate_guard_sql(table)]
    if vendor == "sqlite":
        return [
            f'CREATE TRIGGER IF NOT EXISTS "{trigger_name(table, op.lower())}" BEFORE {op} ON "{table}" '
            f"BEGIN SELECT RAISE(ABORT, 'qms: {op} on append-only table {table} is refused'); END;"
            for op in ("UPDATE", "DELETE")
        ]
    raise NotImplementedError(f"append-only tables are not implemented for {vendor}")


def backwards_sql(vendor: str, table: str) -> list[str]:
    if vendor == "postgresql":
        return [f'DROP TRIGGER IF EXISTS "{trigger_name(table, op)}" ON "{table}";' for op in ("update", "delete", "truncate")]
    return [f'DROP TRIGGER IF EXISTS "{trigger_name(table, op)}";' for op in ("update", "delete")]


class MakeAppendOnly(Operation):
    reversible = True
    reduces_to_sql = True

    def __init__(self, table: str):
        self.table = table

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        for sql in forwards_sql(schema_editor.connection.vendor, self.table):
            schema_editor.execute(sql, params=None)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        for sql in backwards_sql(schema_editor.connection.vendor, self.table):
            schema_editor.execute(sql, params=None)

    def describe(self):
        return f"Make {self.table} append-only (UPDATE, DELETE and TRUNCATE refused by triggers)"

    @property
    def migration_name_fragment(self):
        return f"append_only_{self.table}"

    def deconstruct(self):
        return ("qms.db.MakeAppendOnly", [self.table], {})


def append_only_tables_missing(connection, op: str = "") -> list[str]:
    """Tables that should be append-only but have no trigger (for `op`, e.g. "truncate", when
    given; used by tests and a check)."""
    from django.apps import apps

    expected = {
        model._meta.db_table
        for model in apps.get_models()
        if getattr(model, "qms_append_only", False) or model.__name__.startswith("Historical")
    }
    pattern = f"qms_append_only_{op}_%" if op else "qms_append_only_%"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE t.tgname LIKE %s",
                [pattern],
            )
        else:
            cursor.execute("SELECT DISTINCT tbl_name FROM sqlite_master WHERE type='trigger' AND name LIKE %s", [pattern])
        present = {row[0] for row in cursor.fetchall()}
    return sorted(expected - present)


def append_only_tables(connection) -> list[str]:
    """The tables the database treats as append-only: those with the UPDATE trigger."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE t.tgname LIKE 'qms_append_only_update_%%' AND n.nspname = current_schema() ORDER BY 1"
            )
        else:
            cursor.execute("SELECT DISTINCT tbl_name FROM sqlite_master WHERE type='trigger' AND name LIKE 'qms_append_only_update_%' ORDER BY 1")
        return [row[0] for row in cursor.fetchall()]
