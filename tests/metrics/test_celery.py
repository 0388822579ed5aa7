"""Snapshots and alert evaluation on a real Celery worker (docs/architecture.md rules 4 and 9): the
snapshot task writes every KPI of the day, and two evaluations at once raise ONE alert with one
notification per owner; after recovery the worker clears it."""

import re
from pathlib import Path

import pytest

from metrics.kpis import KPIS
from metrics.models import KpiAlert, KpiSnapshot
from qms.models import Notification
from tests.conftest import wait_for
from tests.metrics.conftest import Builder, at, days_ago, make_target

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


def finished(log_path, task: str) -> int:
    return len(re.findall(rf"Task {re.escape(task)}\[[^\]]+\] succeeded", Path(log_path).read_text()))


def test_snapshot_and_alert_evaluation_on_a_real_worker(celery_worker, manager, staff):
    from metrics.tasks import evaluate_kpi_targets, snapshot_kpis

    # given: yesterday one complaint and one very unhappy customer; a CSAT target owned by staff
    build = Builder(manager)
    yesterday = days_ago(1)
    complaint = build.complaint(received_at=at(yesterday, 9))
    build.survey(complaint, answered_at=at(yesterday, 15), csat=1, ces=7, nps=0)
    make_target("csat", target=90, threshold=80, owners=[staff])

    # when: beat's nightly snapshot (no argument: yesterday) and two evaluations at once
    snapshot_kpis.delay()
    evaluate_kpi_targets.delay()
    evaluate_kpi_targets.delay()
    wait_for(lambda: finished(celery_worker.log_path, "metrics.snapshot_kpis") == 1, timeout=60, message="the snapshot")
    wait_for(lambda: finished(celery_worker.log_path, "metrics.evaluate_kpi_targets") == 2, timeout=60, message="two evaluations")

    # then: every KPI snapshotted for yesterday, one alert, one notification
    snapshots = {s.kpi: s.value for s in KpiSnapshot.objects.filter(date=yesterday)}
    assert len(snapshots) == len(KPIS)
    assert snapshots["complaint_volume"] == 1 and snapshots["csat"] == 0.0
    alert = KpiAlert.objects.get()
    assert alert.status == "open"
    assert Notification.objects.filter(recipient=staff, subject__startswith="KPI alert").count() == 1

    # when: customers are happy again and the worker evaluates once more
    for _ in range(9):
        build.survey(complaint, answered_at=at(yesterday, 16), csat=5, ces=1, nps=10)
    evaluate_kpi_targets.delay()
    wait_for(lambda: finished(celery_worker.log_path, "metrics.evaluate_kpi_targets") == 3, timeout=60, message="the third evaluation")

    # then: the alert is cleared by the system, and no new one is raised
    alert.refresh_from_db()
    assert alert.status == "cleared" and alert.cleared_value == 90.0
    assert KpiAlert.objects.count() == 1
