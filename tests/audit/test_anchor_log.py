"""Tamper evidence a database administrator cannot defeat (issue 15, item 5; 21 CFR 11.10(e)).

The attacks are run as someone with the database owner's rights would run them: switch the
append-only triggers off, rewrite rows with the project's own hash functions, insert or delete
`AuditVerification` rows. The external anchor log (signed with a key the database does not
hold) must catch each, and the break must stay reported until a Quality Manager signs it off."""

import json
import os
import stat

import pytest
from django.db import connection
from django.utils import timezone

from qms.audit import anchors
from qms.audit.models import AuditBreakAcknowledgement, AuditVerification
from qms.audit.registry import chained_models
from qms.audit.services import audit_breaks_acknowledge
from qms.audit.verify import verification_status, verify_audit_trail, verify_table
from qms.errors import IllegalTransition, NotAllowed, SignatureRejected, ValidationFailed
from qms.history import chain_content, chain_hash
from qms.models import HistoricalUser, HistoricalUser_groups
from tests.audit.test_exports import pdf_text
from tests.audit.test_verify import as_database_owner
from tests.conftest import PASSWORD


def rehash_suffix(model, from_pk):
    """The attack of issue 15: after changing a row, recompute its hash and every later row's
    prev_hash and entry_hash with the project's own functions, so the chain links up again."""
    pk_name = model._meta.pk.attname
    table = model._meta.db_table
    before = (
        model._base_manager.filter(**{f"{pk_name}__lt": from_pk}).order_by(f"-{pk_name}").first()
    )
    previous = before.entry_hash if before else ""
    statements = []
    for row in model._base_manager.filter(**{f"{pk_name}__gte": from_pk}).order_by(pk_name):
        row.prev_hash = previous
        row.entry_hash = chain_hash(chain_content(row))
        previous = row.entry_hash
        statements.append(
            f"UPDATE {table} SET prev_hash = '{row.prev_hash}', entry_hash = '{row.entry_hash}' WHERE {pk_name} = {row.pk}"
        )
    as_database_owner(table, *statements)


def forged_intact_verification():
    """What the attacker stores next: a verification of the rewritten chains, saying intact."""
    results = [verify_table(model) for model in chained_models()]
    assert not [
        r.first_break for r in results if r.first_break
    ]  # the chains agree with themselves again
    return AuditVerification.objects.create(
        is_intact=True,
        finished_at=timezone.now(),
        tables_checked=len(results),
        rows_checked=sum(r.rows for r in results),
        anchors={r.table: r.anchor for r in results if r.anchor},
    )


def delete_verifications():
    as_database_owner("qms_auditverification", "DELETE FROM qms_auditverification")


def log_lines():
    return anchors.log_path().read_text().splitlines()


def test_each_run_appends_signed_anchors_per_chain_to_the_log(promoted):
    first = verify_audit_trail()
    lines = [json.loads(text) for text in log_lines()]
    by_table = {line["table"]: line for line in lines if line["kind"] == "anchor"}
    newest = HistoricalUser.objects.order_by("-history_id").first()
    assert by_table["qms_historicaluser"]["row_id"] == newest.history_id
    assert by_table["qms_historicaluser"]["hash"] == newest.entry_hash
    assert by_table["qms_historicaluser"]["rows"] == HistoricalUser.objects.count()
    assert by_table["qms_historicaluser"]["at"]
    assert lines[-1]["kind"] == "run" and lines[-1]["is_intact"] is True
    assert [line["seq"] for line in lines] == list(range(1, len(lines) + 1))
    assert all(line["mac"] == anchors.sign(line, anchors.anchor_key()) for line in lines)
    assert first.anchor_log_seq == len(lines) and first.anchor_log_hash == anchors.line_hash(
        log_lines()[-1]
    )
    # the second run links to the first run's last line
    verify_audit_trail()
    second = [json.loads(text) for text in log_lines()]
    assert second[len(lines)]["prev"] == anchors.line_hash(log_lines()[len(lines) - 1])
    assert verify_audit_trail().is_intact


def test_the_key_file_is_generated_once_and_kept_private(db, settings):
    key = anchors.anchor_key()
    path = settings.QMS_AUDIT_ANCHOR_KEY_FILE
    assert len(key) == 64
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert anchors.anchor_key() == key
    settings.QMS_AUDIT_ANCHOR_KEY = "from-the-environment"
    assert anchors.anchor_key() == b"from-the-environment"


def test_the_exact_attack_rehash_the_suffix_and_insert_an_anchor_row_is_caught(
    promoted, auditor, client_for
):
    # given a verified trail
    assert verify_audit_trail().is_intact
    row = HistoricalUser.objects.filter(id=promoted.pk).order_by("history_id")[1]
    # when a DBA edits a history row, re-hashes the suffix and stores an "intact" verification
    as_database_owner(
        "qms_historicaluser",
        f"UPDATE qms_historicaluser SET history_change_reason = 'nothing to see' WHERE history_id = {row.history_id}",
    )
    rehash_suffix(HistoricalUser, row.history_id)
    forged_intact_verification()
    # then the trail page does not believe the forged row: the signed log's last run disagrees
    assert verification_status().is_intact is False
    page = client_for(auditor).get("/audit/").content.decode()
    assert "Tampering detected" in page
    # and the next run catches the rewritten chain against the external anchor
    result = verify_audit_trail()
    assert not result.is_intact
    item = next(b for b in result.breaks if b["table"] == "qms_historicaluser")
    assert item["problem"] == "anchor_changed"
    assert item["anchor_source"] == "external"
    assert item["row_id"] == HistoricalUser.objects.order_by("-history_id").first().history_id


def test_cutting_the_newest_rows_and_deleting_the_anchor_rows_is_caught(promoted):
    assert verify_audit_trail().is_intact
    newest = HistoricalUser.objects.order_by("-history_id").first()
    # given the newest history rows removed, and every stored verification with them
    as_database_owner(
        "qms_historicaluser_groups",
        f"DELETE FROM qms_historicaluser_groups WHERE history_id = {newest.history_id}",
    )
    as_database_owner(
        "qms_historicaluser",
        f"DELETE FROM qms_historicaluser WHERE history_id = {newest.history_id}",
    )
    delete_verifications()
    # then the external anchor still names the row that is gone
    result = verify_audit_trail()
    assert not result.is_intact
    item = next(b for b in result.breaks if b["table"] == "qms_historicaluser")
    assert (item["problem"], item["row_id"], item["anchor_source"]) == (
        "anchor_missing",
        newest.history_id,
        "external",
    )
    # and the break stays reported on every later run, although the chains now agree with the new anchors
    for _ in range(2):
        again = verify_audit_trail()
        assert not again.is_intact
        assert item["key"] in {b["key"] for b in again.breaks}


def test_a_run_that_deletes_the_broken_verification_row_does_not_clear_the_break(promoted):
    assert verify_audit_trail().is_intact
    row = HistoricalUser.objects.order_by("history_id")[2]
    as_database_owner(
        "qms_historicaluser",
        f"UPDATE qms_historicaluser SET first_name = 'Mallory' WHERE history_id = {row.history_id}",
    )
    assert not verify_audit_trail().is_intact
    # the DBA puts the row back and removes the run that saw it
    as_database_owner(
        "qms_historicaluser",
        f"UPDATE qms_historicaluser SET first_name = '{row.first_name}' WHERE history_id = {row.history_id}",
    )
    as_database_owner(
        "qms_auditverification",
        "DELETE FROM qms_auditverification WHERE id = (SELECT max(id) FROM qms_auditverification)",
    )
    result = verify_audit_trail()
    assert not result.is_intact
    assert any(b["row_id"] == row.history_id and b["problem"] == "changed" for b in result.breaks)


def test_a_forged_anchor_line_written_without_the_key_is_caught(promoted):
    assert verify_audit_trail().is_intact
    # the attacker rewrites a chain, then appends anchor lines that match it, signed with a guess
    row = HistoricalUser.objects.order_by("history_id")[1]
    as_database_owner(
        "qms_historicaluser",
        f"UPDATE qms_historicaluser SET last_name = 'Forged' WHERE history_id = {row.history_id}",
    )
    rehash_suffix(HistoricalUser, row.history_id)
    newest = HistoricalUser.objects.order_by("-history_id").first()
    seq, prev, _ = anchors._tail(anchors.log_path())
    forged = {
        "kind": "anchor",
        "table": "qms_historicaluser",
        "row_id": newest.history_id,
        "hash": newest.entry_hash,
        "rows": HistoricalUser.objects.count(),
        "at": "2026-12-07T00:00:00+00:00",
        "v": 1,
        "seq": seq + 1,
        "prev": prev,
    }
    forged["mac"] = anchors.sign(forged, b"a guessed key")
    with open(anchors.log_path(), "a") as handle:
        handle.write(anchors.canonical(forged) + "\n")
    result = verify_audit_trail()
    assert not result.is_intact
    problems = {(b["table"], b["problem"]) for b in result.breaks}
    assert ("audit-anchors.jsonl", "anchor_log_forged") in problems
    assert ("qms_historicaluser", "anchor_changed") in problems  # the forged anchor was not trusted
    forged_break = next(b for b in result.breaks if b["problem"] == "anchor_log_forged")
    assert forged_break["row_id"] == seq + 1
    assert "without the anchor key" in forged_break["message"]


def test_an_edited_anchor_line_and_a_cut_log_are_caught(promoted):
    verify_audit_trail()
    verify_audit_trail()
    lines = log_lines()
    # an edited line (its recorded hash changed, signature kept)
    edited = json.loads(lines[0])
    edited["hash"] = "0" * 64
    anchors.log_path().write_text("\n".join([anchors.canonical(edited), *lines[1:]]) + "\n")
    result = verify_audit_trail(store=False)
    assert any(b["problem"] == "anchor_log_forged" and b["row_id"] == 1 for b in result.breaks)
    # a log cut back to before the last run
    anchors.log_path().write_text("\n".join(lines[: len(lines) // 2]) + "\n")
    result = verify_audit_trail(store=False)
    assert any(b["problem"] == "anchor_log_missing" for b in result.breaks)
    # a log deleted as a whole, while the database still knows the last run's line
    anchors.log_path().unlink()
    assert any(b["problem"] == "anchor_log_missing" for b in verify_audit_trail(store=False).breaks)


def test_an_unwritable_log_is_a_break_not_a_silent_pass(promoted, settings, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    settings.QMS_AUDIT_ANCHOR_DIR = blocker
    result = verify_audit_trail()
    assert not result.is_intact
    assert result.breaks[-1]["problem"] == "anchor_log_unwritable"
    assert AuditVerification.objects.get().is_intact is False


@pytest.fixture
def broken_trail(promoted):
    """A verified trail whose history row was changed afterwards, and the run that saw it."""
    verify_audit_trail()
    row = HistoricalUser.objects.order_by("history_id")[1]
    as_database_owner(
        "qms_historicaluser",
        f"UPDATE qms_historicaluser SET history_change_reason = 'rewritten' WHERE history_id = {row.history_id}",
    )
    result = verify_audit_trail()
    assert not result.is_intact
    return row


def test_a_quality_manager_acknowledges_a_break_with_a_signed_reason(broken_trail, manager):
    acknowledgement = audit_breaks_acknowledge(
        actor=manager,
        password=PASSWORD,
        reason="Restored from backup after incident INC-7; row kept as evidence.",
    )
    assert acknowledgement.signature.signer == manager
    assert acknowledgement.signature.meaning == "Audit trail breaks acknowledged"
    assert acknowledgement.signature.reason.startswith("Restored from backup")
    assert acknowledgement.break_keys == [b["key"] for b in acknowledgement.verification.breaks]
    last = json.loads(log_lines()[-1])
    assert (
        last["kind"] == "acknowledgement"
        and last["by"] == "manager"
        and last["keys"] == acknowledgement.break_keys
    )
    assert verification_status().acknowledgement == acknowledgement
    # the next run reports the still-changed row as acknowledged, not as tampering
    result = verify_audit_trail()
    assert result.is_intact, result.breaks
    assert [b["row_id"] for b in result.acknowledged_breaks if b["problem"] == "changed"] == [
        broken_trail.history_id
    ]


def test_a_new_break_after_an_acknowledged_one_in_the_same_table_is_still_reported(
    broken_trail, manager
):
    audit_breaks_acknowledge(actor=manager, password=PASSWORD, reason="Known incident INC-7.")
    later = HistoricalUser.objects.order_by("-history_id").first()
    as_database_owner(
        "qms_historicaluser",
        f"UPDATE qms_historicaluser SET first_name = 'Eve' WHERE history_id = {later.history_id}",
    )
    result = verify_audit_trail()
    assert not result.is_intact
    assert (result.first_break["problem"], result.first_break["row_id"]) == (
        "changed",
        later.history_id,
    )


def test_an_acknowledgement_inserted_into_the_database_alone_does_not_silence_a_break(
    broken_trail, manager
):
    acknowledgement = audit_breaks_acknowledge(
        actor=manager, password=PASSWORD, reason="Known incident INC-7."
    )
    # remove the log's copy of the acknowledgement: only the database row is left
    anchors.log_path().write_text("\n".join(log_lines()[:-1]) + "\n")
    assert AuditBreakAcknowledgement.objects.filter(pk=acknowledgement.pk).exists()
    assert not verify_audit_trail().is_intact


def test_acknowledging_is_refused_without_role_reason_password_or_break(
    broken_trail, employee, auditor, manager
):
    # (broken_trail's staff user was made a Quality Manager)
    with pytest.raises(NotAllowed):
        audit_breaks_acknowledge(actor=employee, password=PASSWORD, reason="Not mine to say.")
    with pytest.raises(NotAllowed):
        audit_breaks_acknowledge(actor=auditor, password=PASSWORD, reason="Not mine to say.")
    with pytest.raises(ValidationFailed):
        audit_breaks_acknowledge(actor=manager, password=PASSWORD, reason="   ")
    with pytest.raises(SignatureRejected):
        audit_breaks_acknowledge(actor=manager, password="wrong-password", reason="Known incident.")
    assert not AuditBreakAcknowledgement.objects.exists()
    audit_breaks_acknowledge(actor=manager, password=PASSWORD, reason="Known incident.")
    assert verify_audit_trail().is_intact
    with pytest.raises(IllegalTransition):
        audit_breaks_acknowledge(actor=manager, password=PASSWORD, reason="Again.")


def test_the_trail_page_and_exports_keep_saying_broken_until_acknowledged_on_the_page(
    broken_trail, manager, auditor, client_for
):
    # given the break, reported on the page and in the CSV export
    page = client_for(auditor).get("/audit/").content.decode()
    assert "Tampering detected" in page and "acknowledge-breaks" not in page  # auditors read only
    csv_text = b"".join(client_for(auditor).get("/audit/export.csv").streaming_content).decode()
    assert "BROKEN" in csv_text
    # when a later run happens, it still says so
    verify_audit_trail()
    manager_client = client_for(manager)
    assert "acknowledge-breaks" in manager_client.get("/audit/").content.decode()
    # a wrong password changes nothing
    response = manager_client.post(
        "/audit/acknowledge/",
        {"reason": "Known incident INC-7.", "password": "nope-nope-nope"},
        follow=True,
    )
    assert "not correct" in response.content.decode()
    assert not AuditBreakAcknowledgement.objects.exists()
    # then the manager acknowledges with a signed reason
    response = manager_client.post(
        "/audit/acknowledge/",
        {"reason": "Known incident INC-7.", "password": PASSWORD},
        follow=True,
    )
    assert response.status_code == 200
    page = client_for(auditor).get("/audit/").content.decode()
    assert "Break acknowledged" in page and "Known incident INC-7." in page
    csv_text = b"".join(client_for(auditor).get("/audit/export.csv").streaming_content).decode()
    assert "Acknowledged by Manager Tester" in csv_text
    pdf = client_for(auditor).get("/audit/export.pdf").content
    text = " ".join(pdf_text(pdf).split())
    assert "Acknowledged by Manager" in text and "BROKEN" in text


def test_the_api_reports_the_status_and_takes_the_acknowledgement(
    broken_trail, manager, auditor, employee, api_for
):
    status = api_for(auditor).get("/api/v1/audit-trail/verification/")
    assert status.status_code == 200 and status.json()["is_intact"] is False
    assert status.json()["breaks"][0]["problem"] == "changed"
    url = "/api/v1/audit-trail/verification/acknowledgements/"
    assert (
        api_for(auditor).post(url, {"reason": "x", "password": PASSWORD}, format="json").status_code
        == 403
    )
    assert (
        api_for(employee)
        .post(url, {"reason": "x", "password": PASSWORD}, format="json")
        .status_code
        == 403
    )
    assert api_for(manager).post(url, {"password": PASSWORD}, format="json").status_code == 400
    assert (
        api_for(manager)
        .post(url, {"reason": "Known.", "password": "wrong-password"}, format="json")
        .status_code
        == 403
    )
    response = api_for(manager).post(
        url, {"reason": "Known incident INC-7.", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["acknowledged_by"] == "manager"
    verify_audit_trail()
    assert (
        api_for(manager)
        .post(url, {"reason": "Again.", "password": PASSWORD}, format="json")
        .status_code
        == 409
    )


def test_role_history_rows_are_anchored_too(promoted):
    verify_audit_trail()
    newest = HistoricalUser_groups.objects.order_by("-m2m_history_id").first()
    as_database_owner(
        "qms_historicaluser_groups",
        f"DELETE FROM qms_historicaluser_groups WHERE m2m_history_id = {newest.pk}",
    )
    delete_verifications()
    result = verify_audit_trail()
    assert any(
        b["table"] == "qms_historicaluser_groups" and b["problem"] == "anchor_missing"
        for b in result.breaks
    )


def test_the_database_holds_no_copy_of_the_key(promoted):
    verify_audit_trail()
    key = anchors.anchor_key().decode()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM qms_auditverification WHERE anchors::text LIKE %s OR breaks::text LIKE %s",
            [f"%{key}%", f"%{key}%"],
        )
        assert cursor.fetchone()[0] == 0


def test_overlapping_runs_are_no_false_alarm_on_the_trail_page(promoted):
    """The page compares the log's last run with the verification that wrote it, not with the
    latest by start time: two runs (nightly and by hand) may overlap."""
    import datetime

    import time_machine

    with time_machine.travel(
        datetime.datetime(2026, 12, 7, 2, 30, tzinfo=datetime.UTC), tick=False
    ):
        later_start = verify_audit_trail()
    with time_machine.travel(
        datetime.datetime(2026, 12, 7, 2, 29, tzinfo=datetime.UTC), tick=False
    ):
        earlier_start = verify_audit_trail()  # started before, wrote its lines after
    status = verification_status()
    assert status.is_intact and status.pk == earlier_start.pk
    assert later_start.anchor_log_seq < earlier_start.anchor_log_seq


def test_the_trail_page_does_not_believe_deleted_verification_rows(promoted, auditor, client_for):
    assert verify_audit_trail().is_intact
    delete_verifications()
    status = verification_status()
    assert status.is_intact is False and status.breaks[0]["problem"] == "anchor_log_missing"
    assert "Tampering detected" in client_for(auditor).get("/audit/").content.decode()
