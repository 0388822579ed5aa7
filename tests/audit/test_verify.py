"""Tamper evidence (21 CFR 11.10(e)): the verifier passes on an untouched database and catches
a history row or signature that was changed, deleted or inserted behind the application's
back, by the database owner switching the append-only triggers off."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from qms.audit.models import AuditVerification
from qms.audit.registry import chained_models, historical_models
from qms.audit.verify import verify_audit_trail
from qms.models import HistoricalUser, Signature


def as_database_owner(table: str, *statements: str):
    """What someone with the database owner's rights could do: switch the triggers off, alter
    the table, switch them back on."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred FK checks pending in the test transaction
        cursor.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
        try:
            for statement in statements:
                cursor.execute(statement)
        finally:
            cursor.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER USER')
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def break_in(result, table: str) -> dict:
    return next(b for b in result.breaks if b["table"] == table)


def test_a_changed_role_membership_in_the_past_is_caught(promoted):
    """A user's roles at a past time are history too (21 CFR 11.10(d), (g))."""
    from qms.models import HistoricalUser_groups

    row = HistoricalUser_groups.objects.exclude(group__name="Auditor").order_by("m2m_history_id").first()
    as_database_owner("qms_historicaluser_groups", f"UPDATE qms_historicaluser_groups SET group_id = (SELECT id FROM auth_group WHERE name = 'Auditor') WHERE m2m_history_id = {row.pk}")
    result = verify_audit_trail()
    first = break_in(result, "qms_historicaluser_groups")
    assert first["problem"] == "changed"
    assert first["record_model"] == "qms.user"
    assert first["record_id"] == row.user_id
    assert first["at"] == row.history.history_date.isoformat()


def test_every_history_table_and_the_signatures_are_checked(db):
    tables = {model._meta.db_table for model in chained_models()}
    assert {model._meta.db_table for model in historical_models()} <= tables
    assert "qms_signature" in tables
    assert "qms_historicaluser_groups" in tables  # the users' roles over time


def test_an_untouched_trail_verifies_intact(promoted, signed_specimen):
    result = verify_audit_trail()
    assert result.is_intact, result.breaks
    assert result.breaks == []
    assert result.rows_checked >= HistoricalUser.objects.count() + Signature.objects.count()
    assert AuditVerification.objects.get().is_intact
    # a second run checks the anchors the first one stored, and still passes
    assert verify_audit_trail().is_intact


def test_a_changed_history_row_is_caught_with_table_record_and_time(promoted):
    row = HistoricalUser.objects.filter(id=promoted.pk).order_by("history_id")[1]
    as_database_owner(
        "qms_historicaluser",
        f"UPDATE qms_historicaluser SET history_change_reason = 'nothing to see' WHERE history_id = {row.history_id}",
    )
    result = verify_audit_trail()
    assert not result.is_intact
    first = break_in(result, "qms_historicaluser")
    assert first["row_id"] == row.history_id
    assert first["record_model"] == "qms.user"
    assert first["record_id"] == promoted.pk
    assert first["at"] == row.history_date.isoformat()
    assert first["problem"] == "changed"


def test_a_deleted_history_row_is_caught(promoted):
    row = HistoricalUser.objects.filter(id=promoted.pk).order_by("history_id")[1]
    following = HistoricalUser.objects.filter(history_id__gt=row.history_id).order_by("history_id").first()
    as_database_owner("qms_historicaluser_groups", f"DELETE FROM qms_historicaluser_groups WHERE history_id = {row.history_id}")
    as_database_owner("qms_historicaluser", f"DELETE FROM qms_historicaluser WHERE history_id = {row.history_id}")
    result = verify_audit_trail()
    assert not result.is_intact
    assert break_in(result, "qms_historicaluser")["row_id"] == following.history_id
    assert break_in(result, "qms_historicaluser")["problem"] == "link_broken"
    assert break_in(result, "qms_historicaluser_groups")["problem"] == "link_broken"  # its role rows went too


def test_an_inserted_history_row_is_caught(promoted):
    columns = [f.column for f in HistoricalUser._meta.concrete_fields if f.column != "history_id"]
    listed = ", ".join(f'"{c}"' for c in columns)
    row = HistoricalUser.objects.filter(id=promoted.pk).order_by("history_id").first()
    # A forged entry copied from a real one (so its own content hash is right) slipped in.
    as_database_owner(
        "qms_historicaluser",
        f"INSERT INTO qms_historicaluser ({listed}) SELECT {listed} FROM qms_historicaluser WHERE history_id = {row.history_id}",
    )
    result = verify_audit_trail()
    assert not result.is_intact
    assert result.first_break["table"] == "qms_historicaluser"
    assert result.first_break["problem"] == "link_broken"
    assert result.first_break["row_id"] == HistoricalUser.objects.order_by("-history_id").first().history_id


def test_a_forged_signature_is_caught(signed_specimen):
    signature = Signature.objects.get()
    as_database_owner("qms_signature", f"UPDATE qms_signature SET meaning = 'Rejected' WHERE id = {signature.pk}")
    result = verify_audit_trail()
    assert not result.is_intact
    assert result.first_break["table"] == "qms_signature"
    assert result.first_break["record_model"] == "kernel_app.specimen"
    assert result.first_break["record_id"] == signed_specimen.pk


def test_rows_cut_off_the_end_of_a_table_are_caught_by_the_last_runs_anchor(promoted):
    assert verify_audit_trail().is_intact
    newest = HistoricalUser.objects.order_by("-history_id").first()
    as_database_owner("qms_historicaluser_groups", f"DELETE FROM qms_historicaluser_groups WHERE history_id = {newest.history_id}")
    as_database_owner("qms_historicaluser", f"DELETE FROM qms_historicaluser WHERE history_id = {newest.history_id}")
    result = verify_audit_trail()
    assert not result.is_intact
    assert break_in(result, "qms_historicaluser")["problem"] == "anchor_missing"


def test_the_command_reports_success_and_stores_the_result(promoted, capsys):
    call_command("verify_audit_trail")
    out = capsys.readouterr().out
    assert "Audit trail intact" in out
    assert AuditVerification.objects.filter(is_intact=True, triggered_by="command").count() == 1


def test_the_command_reports_the_first_break_and_fails(promoted, capsys):
    row = HistoricalUser.objects.filter(id=promoted.pk).order_by("history_id").last()
    as_database_owner("qms_historicaluser", f"UPDATE qms_historicaluser SET first_name = 'Mallory' WHERE history_id = {row.history_id}")
    with pytest.raises(CommandError, match="qms_historicaluser"):
        call_command("verify_audit_trail")
    out = capsys.readouterr().out
    assert f"row {row.history_id}" in out
    assert f"record qms.user #{promoted.pk}" in out
    assert AuditVerification.objects.get().is_intact is False


def test_a_dry_run_stores_nothing(promoted):
    call_command("verify_audit_trail", "--no-store")
    assert not AuditVerification.objects.exists()


def test_values_are_hashed_as_they_read_back(staff, manager):
    """Hashes computed before the INSERT must equal those computed from the stored row: local
    time zones, JSON key order and numbers given as text must not look like tampering."""
    import datetime
    from zoneinfo import ZoneInfo

    from qms.history import set_history
    from tests.kernel_app.models import Specimen

    specimen = Specimen(reference="SPC-X-1", title="Zones", owner_id=str(staff.pk), approved_at=datetime.datetime(2026, 7, 1, 14, 0, tzinfo=ZoneInfo("Europe/Paris")))
    set_history(specimen, user=manager, reason="edge values")
    specimen.save()
    from qms.signatures import signature_create

    signature_create(specimen, signer=manager, meaning="Reviewed")
    assert verify_audit_trail().is_intact
