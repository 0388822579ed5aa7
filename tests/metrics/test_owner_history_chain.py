"""A KPI target's owners over time are hash-chained like its other history (21 CFR 11.10(e)):
`verify_audit_trail` checks them, passes after an owners change made through the service, and
catches an owner row changed behind the application's back."""

import pytest
from django.core.management import call_command

from metrics import services
from metrics.models import HistoricalKpiTarget_owners, KpiTarget
from qms.audit.registry import chained_models
from qms.audit.verify import verify_audit_trail
from tests.audit.test_verify import as_database_owner, break_in

pytestmark = pytest.mark.django_db

TABLE = "metrics_historicalkpitarget_owners"


@pytest.fixture
def target_with_new_owners(manager, staff):
    target = services.target_create(
        actor=manager, kpi="csat", target=90, threshold=80, owners=[staff], reason="2027 objectives"
    )
    services.target_update(
        target,
        actor=manager,
        reason="The quality manager owns CSAT now",
        version=KpiTarget.objects.get(pk=target.pk).version,
        owners=[manager, staff],
    )
    return target


def test_the_owner_history_table_is_one_of_the_verified_chains():
    assert TABLE in {model._meta.db_table for model in chained_models()}


def test_the_chain_verifies_after_an_owners_change(target_with_new_owners, manager, staff, capsys):
    rows = list(HistoricalKpiTarget_owners.objects.order_by("m2m_history_id"))
    # the newest history entry lists the owners as they are now, with the manager's reason
    newest = target_with_new_owners.history.order_by("-history_id").first()
    assert newest.history_change_reason == "The quality manager owns CSAT now"
    assert {row.user_id for row in rows if row.history_id == newest.history_id} == {
        manager.pk,
        staff.pk,
    }
    assert all(row.entry_hash for row in rows)
    assert rows[0].prev_hash == "" and all(
        later.prev_hash == earlier.entry_hash
        for earlier, later in zip(rows, rows[1:], strict=False)
    )

    result = verify_audit_trail()
    assert result.is_intact, result.breaks
    call_command("verify_audit_trail")
    assert "Audit trail intact" in capsys.readouterr().out


def test_an_owner_swapped_in_the_past_is_caught(target_with_new_owners, auditor):
    row = HistoricalKpiTarget_owners.objects.order_by("m2m_history_id").first()
    as_database_owner(
        TABLE, f"UPDATE {TABLE} SET user_id = {auditor.pk} WHERE m2m_history_id = {row.pk}"
    )
    result = verify_audit_trail()
    assert not result.is_intact
    first = break_in(result, TABLE)
    assert first["problem"] == "changed"
    assert first["record_model"] == "metrics.kpitarget"
    assert first["record_id"] == target_with_new_owners.pk
