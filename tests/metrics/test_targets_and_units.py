"""KPI targets (regulated: reason, version, history) and units shipped (form and CSV import)."""

import pytest
from django.urls import reverse

from metrics import services
from metrics.models import KpiTarget, ShippedUnits
from qms.errors import NotAllowed, StaleVersion, ValidationFailed
from tests.metrics.conftest import days_ago

pytestmark = pytest.mark.django_db


def test_a_manager_sets_and_edits_a_target_with_reason_and_history(client_for, manager, staff):
    client = client_for(manager)
    response = client.post(reverse("metrics:target-create"), {
        "kpi": "csat", "target": "90", "threshold": "80", "window_days": "30", "owners": [staff.pk], "reason": "2027 objectives",
    })
    assert response.status_code == 302
    target = KpiTarget.objects.get(kpi="csat")
    assert list(target.owners.all()) == [staff]
    response = client.post(reverse("metrics:target-edit", args=[target.pk]), {
        "target": "92", "threshold": "85", "window_days": "14", "is_active": "on", "owners": [manager.pk],
        "reason": "Raised after the management review", "version": target.version,
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    target.refresh_from_db()
    assert (float(target.target), float(target.threshold), target.window_days, target.version) == (92, 85, 14, 2)
    assert list(target.owners.all()) == [manager]
    reasons = list(target.history.values_list("history_change_reason", flat=True))
    assert "Raised after the management review" in reasons
    page = client.get(reverse("metrics:target-edit", args=[target.pk])).content.decode()
    assert "Raised after the management review" in page


def test_stale_versions_and_bad_values_are_refused(manager):
    target = services.target_create(actor=manager, kpi="csat", target="90", threshold="80")
    with pytest.raises(StaleVersion):
        services.target_update(target, actor=manager, reason="x", version=target.version + 1, target="95")
    with pytest.raises(ValidationFailed):  # higher is better: the threshold cannot exceed the target
        services.target_update(target, actor=manager, reason="x", version=target.version, threshold="95")
    with pytest.raises(ValidationFailed):
        services.target_update(target, actor=manager, reason="x", version=target.version, target="150")
    with pytest.raises(ValidationFailed):
        services.target_update(target, actor=manager, reason="", version=target.version, target="95")
    with pytest.raises(ValidationFailed):
        services.target_create(actor=manager, kpi="csat", target="90", threshold="80")  # one per KPI
    with pytest.raises(ValidationFailed):
        services.target_create(actor=manager, kpi="nope", target="1", threshold="1")
    with pytest.raises(ValidationFailed):
        services.target_create(actor=manager, kpi="overdue_complaints", target="5", threshold="2")  # lower is better
    target.refresh_from_db()
    assert target.version == 1 and float(target.target) == 90


def test_only_managers_edit_targets(client_for, staff, auditor, manager):
    target = services.target_create(actor=manager, kpi="nps", target="30", threshold="10")
    with pytest.raises(NotAllowed):
        services.target_update(target, actor=staff, reason="x", version=1, target="40")
    for user in (staff, auditor):
        client = client_for(user)
        assert client.post(reverse("metrics:target-edit", args=[target.pk]), {"target": "1", "reason": "x", "version": 1}).status_code == 403
        assert client.get(reverse("metrics:target-create")).status_code == 403
        assert client.get(reverse("metrics:targets")).status_code == 200


def test_the_target_form_shows_field_errors(client_for, manager):
    response = client_for(manager).post(reverse("metrics:target-create"), {"kpi": "csat", "target": "abc", "threshold": "1e400", "window_days": "0"})
    assert response.status_code == 400
    assert not KpiTarget.objects.exists()


def test_units_shipped_form_creates_and_corrects(client_for, manager, build):
    client = client_for(manager)
    month = days_ago(40).strftime("%Y-%m")
    assert client.post(reverse("metrics:shipments"), {"product": build.product.pk, "month": month, "units": "1200"}).status_code == 302
    assert client.post(reverse("metrics:shipments"), {"product": build.product.pk, "month": month, "units": "1300", "reason": "Late invoices"}).status_code == 302
    record = ShippedUnits.objects.get()
    assert record.units == 1300 and record.version == 2 and record.month.day == 1
    assert "Late invoices" in record.history.values_list("history_change_reason", flat=True)
    for bad in ({"month": "2026-13", "units": "1"}, {"month": month, "units": "-5"}, {"month": month, "units": "ten"},
                {"month": days_ago(-40).strftime("%Y-%m"), "units": "5"}):
        response = client.post(reverse("metrics:shipments"), {"product": build.product.pk, **bad})
        assert response.status_code == 400, bad
    assert ShippedUnits.objects.get().units == 1300


def upload(client, text: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(reverse("metrics:shipments-import"), {"file": SimpleUploadedFile("units.csv", text.encode(), "text/csv")})


def test_csv_import_checks_every_row_first(client_for, manager, build):
    client = client_for(manager)
    m1, m2 = days_ago(70).strftime("%Y-%m"), days_ago(35).strftime("%Y-%m")
    good = f"product_code,month,units\nPX-100,{m1},1000\npx-200,{m2},500\n"
    assert upload(client, good).status_code == 302
    assert ShippedUnits.objects.count() == 2
    bad = f"product_code,month,units\nPX-100,{m1},2000\nNOPE,{m2},5\nPX-200,2026-99,5\nPX-200,{m2},-1\n"
    response = upload(client, bad)
    assert response.status_code == 400
    html = response.content.decode()
    assert "line 3" in html and "line 4" in html and "line 5" in html
    assert ShippedUnits.objects.get(product=build.product).units == 1000  # nothing written
    assert upload(client, "name,units\nx,1\n").status_code == 400
    assert upload(client, "product_code,month,units\n").status_code == 400
    assert upload(client, f"product_code,month,units\nPX-100,{m1},1\nPX-100,{m1},2\n").status_code == 400


def test_csv_import_refuses_non_utf8_and_large_files(manager, build):
    with pytest.raises(ValidationFailed):
        services.shipped_units_import(actor=manager, data=b"\xff\xfe\x00bad")
    with pytest.raises(ValidationFailed):
        services.shipped_units_import(actor=manager, data=b"x" * (services.MAX_IMPORT_BYTES + 1))


def test_staff_cannot_enter_units(client_for, staff, build):
    assert client_for(staff).post(reverse("metrics:shipments"), {"product": build.product.pk, "month": "2026-01", "units": "1"}).status_code == 403
    assert client_for(staff).get(reverse("metrics:shipments")).status_code == 200
