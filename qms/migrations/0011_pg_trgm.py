"""pg_trgm for the audit trail's free-text indexes (qms.audit.search). A trusted extension
since PostgreSQL 13: the database owner that runs the migrations may create it."""

from django.db import migrations


def create_extension(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")


class Migration(migrations.Migration):
    dependencies = [
        ("qms", "0010_api_token_hash_drf_tokens"),
    ]

    operations = [migrations.RunPython(create_extension, migrations.RunPython.noop)]
