"""The demo data of metrics: targets, units shipped, two years of snapshots, one open alert and a
held management review; idempotent."""

import pytest

pytestmark = pytest.mark.django_db


def test_demo_seed_builds_targets_snapshots_one_alert_and_a_review(monkeypatch):
    from capa import demo as capa_demo
    from complaints import demo as complaints_demo
    from documents import demo as documents_demo
    from metrics import demo
    from metrics.kpis import KPIS
    from metrics.models import KpiAlert, KpiSnapshot, KpiTarget, ManagementReview, ShippedUnits
    from qms import demo as qms_demo

    monkeypatch.setenv("QMS_DEMO_SNAPSHOT_DAYS", "120")
    quiet = lambda *_: None  # noqa: E731
    qms_demo.seed(log=quiet)
    complaints_demo.seed(log=quiet)
    documents_demo.seed(log=quiet)
    capa_demo.seed(log=quiet)
    demo.seed(log=quiet)
    assert KpiTarget.objects.count() == len(demo.TARGETS)
    assert ShippedUnits.objects.count() == 4 * 25
    assert KpiSnapshot.objects.count() == 121 * len(KPIS)
    assert list(KpiAlert.objects.filter(status="open").values_list("kpi", flat=True)) == ["open_complaints"]
    review = ManagementReview.objects.get()
    assert review.status == "held" and review.input_pack["complaints"]["received"] > 0
    assert review.items.count() == 3
    demo.seed(log=quiet)  # idempotent
    assert ManagementReview.objects.count() == 1 and KpiAlert.objects.count() == 1
