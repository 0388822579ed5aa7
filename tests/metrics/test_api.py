"""GET /api/v1/metrics/kpis/ (docs/api.md keys plus ours), the alerts endpoint and raise-capa."""

import pytest

from metrics import services
from metrics.kpis import API_KEYS, KPIS
from metrics.models import KpiAlert
from tests.metrics.conftest import at, days_ago, make_target

pytestmark = pytest.mark.django_db
URL = "/api/v1/metrics/kpis/"


def test_kpis_answer_the_api_md_keys_and_every_kpi(api_for, manager, build):
    day = days_ago(5)
    c = build.complaint(received_at=at(day, 9), acknowledged_at=at(day, 12), first_response_due=at(day, 13))
    build.survey(c, answered_at=at(day, 14), csat=4, ces=2, nps=10)
    response = api_for(manager).get(URL, {"from": days_ago(10).isoformat(), "to": days_ago(0).isoformat()})
    assert response.status_code == 200
    body = response.json()
    assert set(API_KEYS) <= set(body)
    assert {k.code for k in KPIS} <= set(body)
    assert body["csat"] == 100.0 and body["nps"] == 100.0 and body["ces"] == 2.0
    assert body["first_response_hours_median"] == 3.0  # hours as a number
    assert body["open_complaints"] == 1 and body["overdue_complaints"] == 0
    assert body["capa_on_time_rate"] is None  # no data
    assert body["from"] == days_ago(10).isoformat() and body["counts"]["csat"] == 1
    assert list(body)[: len(API_KEYS)] == list(API_KEYS)


def test_kpis_default_to_the_last_90_days_and_filter(api_for, manager, build):
    build.complaint(received_at=at(days_ago(80)), product=build.other_product)
    build.complaint(received_at=at(days_ago(100)))
    body = api_for(manager).get(URL).json()
    assert body["complaint_volume"] == 1 and body["from"] == days_ago(89).isoformat()
    assert api_for(manager).get(URL, {"product": build.product.pk}).json()["complaint_volume"] == 0


@pytest.mark.parametrize("params", [
    {"from": "yesterday"}, {"to": "2026-02-30"}, {"from": "2026-05-01", "to": "2026-04-01"}, {"from": "2000-01-01", "to": "2026-01-01"},
    {"product": "abc"}, {"severity": "apocalyptic"}, {"department": "-1"},
])
def test_bad_parameters_answer_400(api_for, manager, params):
    response = api_for(manager).get(URL, params)
    assert response.status_code == 400
    assert response.json()


def test_kpis_permissions(api_for, personas):
    assert api_for(None).get(URL).status_code in (401, 403)
    for name, status in (("manager", 200), ("staff", 200), ("auditor", 200), ("employee", 403), ("outsider", 403)):
        assert api_for(personas[name]).get(URL).status_code == status, name
    assert api_for(personas["manager"]).post(URL, {}).status_code in (403, 405)


def test_alerts_endpoint_and_raise_capa(api_for, manager, staff, auditor, build):
    make_target("csat", target=90, threshold=80)
    complaint = build.complaint(received_at=at(days_ago(3)))
    build.survey(complaint, answered_at=at(days_ago(1)), csat=1, ces=7, nps=0)
    services.evaluate_kpi_targets()
    alert = KpiAlert.objects.get()
    body = api_for(auditor).get("/api/v1/metrics/alerts/", {"status": "open"}).json()
    assert body["count"] == 1 and body["results"][0]["kpi"] == "csat" and body["results"][0]["capa"] is None
    assert api_for(auditor).get("/api/v1/metrics/alerts/", {"status": "cleared"}).json()["count"] == 0
    assert api_for(auditor).post(f"/api/v1/metrics/alerts/{alert.pk}/raise-capa/").status_code == 403
    response = api_for(staff).post(f"/api/v1/metrics/alerts/{alert.pk}/raise-capa/")
    assert response.status_code == 201 and response.json()["capa"].startswith("CAPA-")
    assert api_for(staff).post(f"/api/v1/metrics/alerts/{alert.pk}/raise-capa/").status_code == 409
    assert api_for(auditor).get("/api/v1/metrics/targets/").json()["results"][0]["threshold"] == 80.0
    assert api_for(auditor).get("/api/v1/metrics/alerts/999999/").status_code == 404
