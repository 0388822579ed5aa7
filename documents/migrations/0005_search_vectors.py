"""Stored full-text search vectors of documents and their versions (issue 18 item 7, decision
0042). PostgreSQL only: SQLite searches with icontains. Adding the generated column rewrites the
version table without firing its row triggers (released versions stay frozen)."""

from django.db import migrations

from qms.search import AddSearchVector


class Migration(migrations.Migration):
    dependencies = [("documents", "0004_approval_matrix")]

    operations = [
        AddSearchVector("documents_document", [("number", "A"), ("title", "A")], pattern_column="number"),
        AddSearchVector("documents_documentversion", [("change_summary", "B"), ("content_text", "C")]),
    ]
