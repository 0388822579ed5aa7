"""The database refuses UPDATE, DELETE and TRUNCATE on history, signatures, transitions and
security events (docs/architecture.md rule 2, 21 CFR 11.10(e); TRUNCATE: issue 15 item 7), whoever
sends the SQL."""

import pytest
from django.db import DatabaseError, connection, transaction

from qms.db import append_only_tables_missing
from tests.conftest import PASSWORD
from tests.kernel_app.services import specimen_transition

PROTECTED_TABLES = [
    "kernel_app_historicalspecimen",
    "qms_historicaluser",
    "qms_signature",
    "qms_transition",
    "qms_securityevent",
]


@pytest.fixture
def audited_rows(specimen, staff, manager):
    from qms.models import SecurityEvent

    specimen_transition(specimen, "submit", actor=staff)
    specimen_transition(specimen, "approve", actor=manager, password=PASSWORD)
    SecurityEvent.objects.create(kind=SecurityEvent.Kind.LOGIN, username="staff")
    return specimen


@pytest.mark.parametrize("table", PROTECTED_TABLES)
@pytest.mark.parametrize(
    "statement",
    [
        'UPDATE "{table}" SET {column} = {column}',
        'DELETE FROM "{table}"',
        # CASCADE: so that no foreign key refuses it first, and the trigger must
        'TRUNCATE "{table}" CASCADE',
    ],
    ids=["update", "delete", "truncate"],
)
def test_raw_sql_update_and_delete_are_refused(audited_rows, table, statement):
    column = {"qms_signature": "meaning", "qms_transition": "reason", "qms_securityevent": "detail"}.get(
        table, "history_change_reason"
    )
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 (fixed table names)
        (rows_before,) = cursor.fetchone()
    assert rows_before > 0, f"{table} should hold rows for this test to mean anything"

    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE refuses to run with deferred checks pending
    try:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement.format(table=table, column=column))
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608
        assert cursor.fetchone()[0] == rows_before


def test_the_orm_cannot_change_or_delete_a_history_entry(audited_rows):
    entry = audited_rows.history.first()
    entry.history_change_reason = "rewritten"
    with pytest.raises(DatabaseError), transaction.atomic():
        entry.save()
    with pytest.raises(DatabaseError), transaction.atomic():
        audited_rows.history.all().delete()
    assert audited_rows.history.filter(history_change_reason="rewritten").count() == 0


def test_every_historical_and_append_only_table_has_its_triggers(db):
    assert append_only_tables_missing(connection) == [], (
        "add qms.db.MakeAppendOnly('<table>') to a migration of the app that owns these tables"
    )


def test_every_append_only_table_refuses_truncate(db):
    """TRUNCATE fires no row trigger: each append-only table has a statement-level one too."""
    assert append_only_tables_missing(connection, "truncate") == []
