"""No role can change or delete trail entries: there is no page or endpoint for it, the admin
shows history read-only, and the database refuses UPDATE and DELETE from the application's
own database user (docs/architecture.md rule 2, 21 CFR 11.10(e))."""

import pytest
from django.contrib import admin
from django.db import DatabaseError, connection, transaction

from qms.audit.registry import historical_models
from qms.audit.verify import verify_audit_trail
from qms.models import HistoricalUser
from tests.conftest import PASSWORD


@pytest.fixture
def full_trail(promoted, signed_specimen, client):
    client.post("/accounts/login/", {"username": "staff", "password": PASSWORD})
    verify_audit_trail()
    return promoted


TABLES_WITH_ROWS = [
    ("qms_historicaluser", "history_change_reason"),
    ("qms_historicaluser_groups", "group_id"),
    ("qms_historicaldepartment", "name"),
    ("kernel_app_historicalspecimen", "title"),
    ("qms_signature", "meaning"),
    ("qms_securityevent", "detail"),
    ("qms_auditverification", "is_intact"),
]


@pytest.mark.parametrize("table,column", TABLES_WITH_ROWS)
def test_the_application_database_user_cannot_update_or_delete(full_trail, table, column):
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{table}"')
        (before,) = cursor.fetchone()
    assert before > 0
    for statement in (f'UPDATE "{table}" SET "{column}" = "{column}"', f'DELETE FROM "{table}"'):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{table}"')
        assert cursor.fetchone()[0] == before
    assert verify_audit_trail().is_intact


def test_every_historical_table_refuses_update_and_delete_by_trigger(db):
    tables = [m._meta.db_table for m in historical_models()] + ["qms_signature", "qms_securityevent", "qms_auditverification"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname LIKE 'qms_append_only_%%' AND t.tgenabled <> 'D'"
        )
        present = {(table, name) for table, name in cursor.fetchall()}
    from qms.db import trigger_name

    missing = [(table, op) for table in tables for op in ("update", "delete") if (table, trigger_name(table, op)) not in present]
    assert missing == []


def test_no_historical_model_is_editable_in_the_admin(db):
    registered = set(admin.site._registry)
    assert not registered & set(historical_models())


@pytest.mark.parametrize("persona", ["administrator", "auditor"])
def test_admin_history_pages_are_read_only(full_trail, personas, client_for, persona):
    user = personas[persona]
    if persona == "administrator":
        user.is_superuser = True  # superusers included
        user.save(update_fields=["is_superuser"])
    client = client_for(user)
    row = HistoricalUser.objects.filter(id=full_trail.pk).order_by("history_id").first()
    assert client.get(f"/admin/qms/user/{full_trail.pk}/history/").status_code == 200
    assert client.get(f"/admin/qms/user/{full_trail.pk}/history/{row.history_id}/").status_code == 200
    rows_before = HistoricalUser.objects.count()
    # Posting a past version back ("revert") would change the record around its services.
    response = client.post(
        f"/admin/qms/user/{full_trail.pk}/history/{row.history_id}/",
        {"username": "staff", "first_name": "Reverted", "last_name": "X", "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"},
    )
    assert response.status_code == 403
    assert HistoricalUser.objects.count() == rows_before
    full_trail.refresh_from_db()
    assert full_trail.first_name == "Staff"


def test_admin_offers_no_delete(full_trail, administrator, client_for):
    client = client_for(administrator)
    response = client.get(f"/admin/qms/user/{full_trail.pk}/delete/")
    assert response.status_code in (403, 302)
    response = client.post(f"/admin/qms/user/{full_trail.pk}/delete/", {"post": "yes"})
    assert response.status_code in (403, 302)
    assert HistoricalUser.objects.filter(id=full_trail.pk, history_type="-").count() == 0
