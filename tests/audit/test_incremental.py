"""Incremental verification (issue 19 item 3, decision 0050): the nightly run re-hashes each
chain from its last anchor on; `--full` (and the weekly run) every row from the start. What an
incremental run sees and what only a full run sees."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from qms.audit.models import AuditVerification
from qms.audit.registry import chained_models
from qms.audit.verify import verify_audit_trail
from qms.history import chain_content, chain_hash, set_history
from qms.models import HistoricalUser
from tests.audit.test_verify import as_database_owner, break_in

TABLE = "qms_historicaluser"


def all_rows() -> int:
    return sum(model._base_manager.count() for model in chained_models())


def rows_from_anchors(verification) -> int:
    """The rows an incremental run after `verification` walks: each anchored row and those after it."""
    total = 0
    for model in chained_models():
        anchor = verification.anchors.get(model._meta.db_table)
        rows = model._base_manager.all()
        if anchor:
            rows = rows.filter(**{f"{model._meta.pk.attname}__gte": anchor["pk"]})
        total += rows.count()
    return total


def rename(user, actor, first_name: str) -> None:
    user.first_name = first_name
    set_history(user, user=actor, reason=f"Name corrected to {first_name}")
    user.save(update_fields=["first_name"])


def rewrite(row, *, rehash: bool = False) -> None:
    """A database owner changes a stored history row (and, with `rehash`, its entry_hash to match,
    so that the row verifies by itself)."""
    statements = [
        f"UPDATE {TABLE} SET history_change_reason = 'nothing to see' WHERE history_id = {row.history_id}"
    ]
    if rehash:
        row.history_change_reason = "nothing to see"
        statements.append(
            f"UPDATE {TABLE} SET entry_hash = '{chain_hash(chain_content(row))}' WHERE history_id = {row.history_id}"
        )
    as_database_owner(TABLE, *statements)


def delete(row) -> None:
    """A database owner deletes a user's history row (and the roles recorded with it)."""
    as_database_owner(
        "qms_historicaluser_groups",
        f"DELETE FROM qms_historicaluser_groups WHERE history_id = {row.history_id}",
    )
    as_database_owner(TABLE, f"DELETE FROM {TABLE} WHERE history_id = {row.history_id}")


def test_the_first_run_without_anchors_is_full(promoted):
    result = verify_audit_trail(incremental=True)
    assert result.is_intact, result.breaks
    assert result.kind == AuditVerification.Kind.FULL
    assert result.rows_checked == all_rows()
    assert AuditVerification.objects.get().kind == "full"


def test_an_incremental_run_rehashes_only_the_rows_from_the_anchors_on(promoted, administrator):
    # given a verified trail
    first = verify_audit_trail()
    assert first.rows_checked == all_rows()
    # when three renames write new history rows (the user's and its roles') and the next run is incremental
    for name in ("Ann", "Anne", "Anna"):
        rename(promoted, administrator, name)
    new_rows = all_rows() - first.rows_checked
    assert HistoricalUser.objects.filter(history_id__gt=first.anchors[TABLE]["pk"]).count() == 3
    result = verify_audit_trail(incremental=True)
    # then it re-hashed each chain's anchored row and the new rows, nothing else
    assert result.is_intact, result.breaks
    assert result.kind == AuditVerification.Kind.INCREMENTAL
    assert result.rows_checked == len(first.anchors) + new_rows == rows_from_anchors(first)
    assert result.rows_checked < all_rows()
    # and its anchors still count every row, so the next run checks them the same way
    assert result.rows_in_chains == all_rows()
    newest = HistoricalUser.objects.order_by("-history_id").first()
    assert result.anchors[TABLE] == {
        "pk": newest.history_id,
        "hash": newest.entry_hash,
        "rows": HistoricalUser.objects.count(),
    }
    assert AuditVerification.objects.latest().kind == "incremental"


def test_a_full_run_after_anchors_rehashes_every_row(promoted, administrator):
    verify_audit_trail()
    rename(promoted, administrator, "Ann")
    result = verify_audit_trail(incremental=False)
    assert result.kind == AuditVerification.Kind.FULL
    assert result.rows_checked == all_rows()


def test_a_changed_row_written_after_the_anchors_is_caught(promoted, administrator):
    verify_audit_trail()
    rename(promoted, administrator, "Ann")
    rename(promoted, administrator, "Anne")
    new_row = HistoricalUser.objects.order_by("-history_id")[1]
    rewrite(new_row)
    result = verify_audit_trail(incremental=True)
    assert result.kind == AuditVerification.Kind.INCREMENTAL
    assert not result.is_intact
    assert break_in(result, TABLE)["problem"] == "changed"
    assert break_in(result, TABLE)["row_id"] == new_row.history_id


@pytest.mark.parametrize(
    ("rehash", "problem"),
    [
        (False, "changed"),
        # The row verifies by itself again, but its hash is not the one the last run anchored.
        (True, "anchor_changed"),
    ],
)
def test_a_changed_anchor_row_is_caught(promoted, administrator, rehash, problem):
    first = verify_audit_trail()
    rename(promoted, administrator, "Ann")
    anchored = HistoricalUser.objects.get(history_id=first.anchors[TABLE]["pk"])
    rewrite(anchored, rehash=rehash)
    result = verify_audit_trail(incremental=True)
    assert result.kind == AuditVerification.Kind.INCREMENTAL
    assert not result.is_intact
    assert break_in(result, TABLE)["problem"] == problem
    assert break_in(result, TABLE)["row_id"] == anchored.history_id


def test_a_deleted_row_behind_the_anchor_is_caught_by_the_count(promoted, administrator):
    first = verify_audit_trail()
    rename(promoted, administrator, "Ann")
    oldest = HistoricalUser.objects.order_by("history_id").first()
    assert (
        oldest.history_id < first.anchors[TABLE]["pk"] - 1
    )  # neither the anchor nor the row before it
    delete(oldest)
    result = verify_audit_trail(incremental=True, store=False)
    assert not result.is_intact
    assert break_in(result, TABLE)["problem"] == "anchor_count"


def test_a_changed_row_behind_the_anchor_is_seen_by_the_full_run_only(promoted, administrator):
    """What an incremental run cannot see (decision 0050): a row behind the anchor whose
    content changed, without re-hashing every row after it up to the anchor."""
    first = verify_audit_trail()
    rename(promoted, administrator, "Ann")
    oldest = HistoricalUser.objects.order_by("history_id").first()
    assert oldest.history_id < first.anchors[TABLE]["pk"] - 1
    rewrite(oldest)

    incremental = verify_audit_trail(incremental=True, store=False)
    assert incremental.kind == AuditVerification.Kind.INCREMENTAL
    assert incremental.is_intact, incremental.breaks  # documented blind spot

    full = verify_audit_trail(incremental=False, store=False)
    assert not full.is_intact
    assert break_in(full, TABLE)["problem"] == "changed"
    assert break_in(full, TABLE)["row_id"] == oldest.history_id


def test_a_break_found_by_the_full_run_stays_reported_by_the_incremental_ones(
    promoted, administrator
):
    verify_audit_trail()
    rename(promoted, administrator, "Ann")
    oldest = HistoricalUser.objects.order_by("history_id").first()
    rewrite(oldest)
    assert not verify_audit_trail(incremental=False).is_intact
    rename(promoted, administrator, "Anne")
    later = verify_audit_trail(incremental=True)
    assert later.kind == AuditVerification.Kind.INCREMENTAL
    assert not later.is_intact
    assert break_in(later, TABLE)["row_id"] == oldest.history_id


def test_the_command_is_incremental_once_anchors_exist_and_full_on_request(
    promoted, administrator, capsys
):
    call_command("verify_audit_trail")
    assert "Full: checked" in capsys.readouterr().out
    rename(promoted, administrator, "Ann")
    call_command("verify_audit_trail")
    out = capsys.readouterr().out
    assert "Incremental: checked" in out
    assert "Audit trail intact" in out
    call_command("verify_audit_trail", "--full")
    assert "Full: checked" in capsys.readouterr().out
    assert list(
        AuditVerification.objects.order_by("started_at", "id").values_list("kind", flat=True)
    ) == ["full", "incremental", "full"]


def test_the_full_command_catches_what_the_incremental_one_misses(promoted, administrator, capsys):
    call_command("verify_audit_trail")
    rename(promoted, administrator, "Ann")
    rewrite(HistoricalUser.objects.order_by("history_id").first())
    call_command("verify_audit_trail", "--no-store")
    with pytest.raises(CommandError, match=TABLE):
        call_command("verify_audit_trail", "--full", "--no-store")


def test_the_trail_page_and_the_api_say_which_kind_of_run(
    promoted, administrator, auditor, client_for, api_for
):
    verify_audit_trail()
    assert "(full)" in client_for(auditor).get("/audit/").content.decode()
    rename(promoted, administrator, "Ann")
    verify_audit_trail(incremental=True)
    page = client_for(auditor).get("/audit/").content.decode()
    assert "incremental:" in page
    assert f"of {all_rows()}" in page
    assert api_for(auditor).get("/api/v1/audit-trail/verification/").json()["kind"] == "incremental"


def test_rows_cut_off_the_end_are_caught_by_an_incremental_run(promoted, administrator):
    verify_audit_trail()
    rename(promoted, administrator, "Ann")
    verify_audit_trail(incremental=True)
    newest = HistoricalUser.objects.order_by("-history_id").first()
    delete(newest)
    result = verify_audit_trail(incremental=True)
    assert result.kind == AuditVerification.Kind.INCREMENTAL
    assert not result.is_intact
    assert break_in(result, TABLE)["problem"] == "anchor_missing"
