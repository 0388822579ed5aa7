"""The nightly verification: scheduled in beat by its stable name and run by a real worker."""

import pytest
from celery.schedules import crontab

from qms.audit.models import AuditVerification
from qms.celery import BEAT_SCHEDULE
from tests.conftest import wait_for


def test_the_verification_is_scheduled_nightly_incremental_and_weekly_full():
    """Decision 0050: from the last anchors on every night but Sunday, every row on Sunday."""
    entries = [e for e in BEAT_SCHEDULE.values() if e["task"] == "qms.verify_audit_trail"]
    assert len(entries) == 2
    by_kind = {entry["kwargs"]["full"]: entry["schedule"] for entry in entries}
    assert set(by_kind) == {False, True}
    for schedule in by_kind.values():
        assert isinstance(schedule, crontab)
        assert schedule.hour == {2}
    # crontab days: 0 is Sunday
    assert by_kind[False].day_of_week == {1, 2, 3, 4, 5, 6}
    assert by_kind[True].day_of_week == {0}
    assert by_kind[False].day_of_week | by_kind[True].day_of_week == set(range(7))  # one run every night


@pytest.mark.celery
def test_a_real_worker_verifies_the_trail_and_stores_the_result(celery_worker, promoted, auditor, client_for):
    from qms.tasks import verify_audit_trail

    verify_audit_trail.delay(full=True)
    run = wait_for(lambda: AuditVerification.objects.filter(triggered_by="schedule").first(), timeout=60, message="the worker's verification")
    assert run.is_intact
    assert run.rows_checked > 0
    assert run.kind == "full"
    verify_audit_trail.delay(full=False)
    run = wait_for(
        lambda: AuditVerification.objects.filter(triggered_by="schedule", kind="incremental").first(), timeout=60, message="the incremental run"
    )
    assert run.is_intact
    assert "Intact" in client_for(auditor).get("/audit/").content.decode()
