"""Statement-level BEFORE TRUNCATE triggers on every append-only table (issue 15, item 7).

The UPDATE and DELETE triggers are row-level, and TRUNCATE fires no row trigger: until now any
role with the TRUNCATE privilege (the tables' owner) could empty a history table. New tables get
the guard from qms.db.MakeAppendOnly; this adds it to the tables made append-only before, found
by their UPDATE trigger, so every app's tables are covered without listing them here."""

from django.db import migrations

from qms.db import append_only_tables, trigger_name, truncate_guard_sql


def add_truncate_guards(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return  # SQLite has no TRUNCATE
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgname LIKE 'qms_append_only_truncate_%%'"
        )
        present = {row[0] for row in cursor.fetchall()}
    for table in append_only_tables(connection):
        if trigger_name(table, "truncate") not in present:
            schema_editor.execute(truncate_guard_sql(table))


def drop_truncate_guards(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    for table in append_only_tables(connection):
        schema_editor.execute(
            f'DROP TRIGGER IF EXISTS "{trigger_name(table, "truncate")}" ON "{table}";'
        )


class Migration(migrations.Migration):
    dependencies = [
        ("qms", "0007_audit_anchor_log_and_acknowledgement"),
        # every app whose tables were made append-only before this migration
        ("complaints", "0006_assignee_due_index"),
        ("capa", "0004_chained_complaint_history"),
        ("documents", "0003_version_names_with_document"),
        ("training", "0003_assignment_source_reconciled"),
        ("metrics", "0004_chain_existing_owner_history"),
    ]

    operations = [migrations.RunPython(add_truncate_guards, drop_truncate_guards)]
