"""The nightly verification: scheduled in beat by its stable name and run by a real worker."""

import pytest
from celery.schedules import crontab

from qms.audit.models import AuditVerification
from qms.celery import BEAT_SCHEDULE
from tests.conftest import wait_for


def test_the_verification_is_scheduled_nightly():
    (entry,) = [e for e in BEAT_SCHEDULE.values() if e["task"] == "qms.verify_audit_trail"]
    assert isinstance(entry["schedule"], crontab)
    assert entry["schedule"].hour == {2}


@pytest.mark.celery
def test_a_real_worker_verifies_the_trail_and_stores_the_result(celery_worker, promoted, auditor, client_for):
    from qms.tasks import verify_audit_trail

    verify_audit_trail.delay()
    run = wait_for(lambda: AuditVerification.objects.filter(triggered_by="schedule").first(), timeout=60, message="the worker's verification")
    assert run.is_intact
    assert run.rows_checked > 0
    assert "Intact" in client_for(auditor).get("/audit/").content.decode()
