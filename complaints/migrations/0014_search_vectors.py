"""Stored full-text search vectors of complaints, customers and products (issue 18 item 7,
decision 0042). PostgreSQL only: SQLite searches with icontains."""

from django.db import migrations

from qms.search import AddSearchVector


class Migration(migrations.Migration):
    dependencies = [("complaints", "0013_complaint_file_history_backfill")]

    operations = [
        AddSearchVector(
            "complaints_complaint",
            [("reference", "A"), ("title", "A"), ("lot_number", "A"), ("udi", "A"), ("description", "B"), ("resolution", "C")],
            pattern_column="reference",
        ),
        AddSearchVector("complaints_customer", [("name", "A"), ("organisation", "B")]),
        AddSearchVector("complaints_product", [("code", "A"), ("name", "A")]),
    ]
