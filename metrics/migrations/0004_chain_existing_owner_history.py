"""Chain the owner-history rows written before the chain existed (0003 added the columns empty).

Without this, `manage.py verify_audit_trail` would report the first old row as changed on any
database that had KPI owners before this release. Only the two hash columns are filled, in
insertion (primary key) order, exactly as `qms.history.chain_link_rows` would have filled them;
no recorded value changes. The table is append-only, so its triggers are dropped for the
UPDATE and recreated in the same transaction (PostgreSQL; SQLite has no transactional DDL
issue here either, the statements run in order).
"""

from django.db import migrations

import qms.db
from qms.history import chain_content, chain_hash

TABLE = "metrics_historicalkpitarget_owners"


def chain_existing_rows(apps, schema_editor):
    model = apps.get_model("metrics", "HistoricalKpiTarget_owners")
    rows = list(
        model._base_manager.using(schema_editor.connection.alias)
        .filter(entry_hash="")
        .order_by("pk")
    )
    if not rows:
        return
    if model._base_manager.using(schema_editor.connection.alias).exclude(entry_hash="").exists():
        # Someone chained rows already: never rewrite a chain, leave it to the verifier.
        return
    vendor = schema_editor.connection.vendor
    for sql in qms.db.backwards_sql(vendor, TABLE):
        schema_editor.execute(sql, params=None)
    previous = ""
    for row in rows:
        row.prev_hash = previous
        row.entry_hash = chain_hash(chain_content(row))
        previous = row.entry_hash
    model._base_manager.using(schema_editor.connection.alias).bulk_update(
        rows, ["prev_hash", "entry_hash"], batch_size=1000
    )
    for sql in qms.db.forwards_sql(vendor, TABLE):
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("metrics", "0003_chained_owner_history")]

    operations = [migrations.RunPython(chain_existing_rows, migrations.RunPython.noop)]
