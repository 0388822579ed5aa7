"""Trigram indexes for the audit trail's free text over the signatures and the security events
(issue 19): the same expression as qms.audit.search.SIGNATURE_COLUMNS / SECURITY_COLUMNS build
for the query, so the plan answers `?q=` from the index instead of reading every signature."""

from django.db import migrations

INDEXES = {
    "trail_q_qms_signature": ("qms_signature", ["record_repr", "meaning", "reason", "signer_name"]),
    "trail_q_qms_securityevent": ("qms_securityevent", ["username", "detail", "path"]),
}


def _expression(columns):
    joined = " || ' ' || ".join(f"COALESCE((\"{c}\")::text, '')" for c in columns)
    return f"UPPER({joined})"


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, (table, columns) in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" USING gin (({_expression(columns)}) gin_trgm_ops)'
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [
        ("qms", "0012_handoff_notice"),
    ]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
