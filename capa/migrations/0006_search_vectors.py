"""Stored full-text search vectors of CAPAs, their root-cause conclusions and actions (issue 18
item 7, decision 0042). PostgreSQL only: SQLite searches with icontains."""

from django.db import migrations

from qms.search import AddSearchVector


class Migration(migrations.Migration):
    dependencies = [("capa", "0005_capa_recurrence_after_closure")]

    operations = [
        AddSearchVector(
            "capa_capa",
            [("reference", "A"), ("title", "A"), ("problem_statement", "B"), ("containment_action", "C")],
            pattern_column="reference",
        ),
        AddSearchVector("capa_rootcauseanalysis", [("conclusion", "B")]),
        AddSearchVector("capa_capaaction", [("description", "B"), ("evidence", "C")]),
    ]
